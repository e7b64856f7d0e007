package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/orchestrate"
	"github.com/imepipe/imepipe/service"
)

// startTLSServe runs serve --tls over the demo app on a free loopback
// port and returns its URL and data folder; it stops with the test.
func startTLSServe(t *testing.T) (string, string) {
	t.Helper()
	root := t.TempDir()
	appDir := filepath.Join(root, "apps", "demo")
	src := filepath.Join(root, "Setup")
	if err := writeSample(src, 64<<10); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := runPack(context.Background(), &env{stdout: &out, stderr: &out}, []string{"-c", src, "-s", "install.sh", "-o", appDir}); err != nil {
		t.Fatalf("pack: %v: %s", err, out.String())
	}
	if err := os.WriteFile(filepath.Join(appDir, "app.json"), []byte(demoAppJSON), 0o644); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(root, "data")
	ctx, cancel := context.WithCancel(context.Background())
	stderr := &lineWriter{wrote: make(chan struct{}, 1)}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, &env{stdout: &bytes.Buffer{}, stderr: stderr},
			[]string{"serve", "--tls", "--apps", filepath.Join(root, "apps"), "--addr", "127.0.0.1:0", "--data", data})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("serve did not shut down")
		}
	})
	urlRE := regexp.MustCompile(`listening on (https://127\.0\.0\.1:\d+) \(1 app\)`)
	timeout := time.After(30 * time.Second)
	for {
		select {
		case <-stderr.wrote:
			if m := urlRE.FindStringSubmatch(stderr.String()); m != nil && strings.Contains(stderr.String(), "enrollment secret in") {
				return m[1], data
			}
		case code := <-done:
			t.Fatalf("serve exited %d: %s", code, stderr.String())
		case <-timeout:
			t.Fatalf("serve did not start: %s", stderr.String())
		}
	}
}

// TestAgentTLS: against serve --tls, an agent without --ca-file fails
// with one line saying what to pass; a stranger's certificate is refused
// even with our CA; with the CA the agent enrolls, downloads over https,
// installs, detects and reports; a later run on the same root trusts the
// kept CA without the flag.
func TestAgentTLS(t *testing.T) {
	url, data := startTLSServe(t)
	ca := filepath.Join(data, "ca.pem")
	secret := filepath.Join(data, "enrollment-secret")
	for _, f := range []string{"ca-key.pem", "server-key.pem"} {
		// Private by mode bits; Windows keeps none (its ACLs are not checked here).
		if fi, err := os.Stat(filepath.Join(data, f)); err != nil || (runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600) {
			t.Fatalf("%s: %v %v", f, fi, err)
		}
	}
	skipAgentsOnWindows(t)

	code, _, stderr := runCLI(t, "agent", "--once", "-q", "--root", filepath.Join(t.TempDir(), "r"), "--service", url, "--enrollment-secret-file", secret)
	want := "imepipe agent: service " + url + ": certificate signed by unknown authority (pass --ca-file DIR/ca.pem, DIR the service's --data)\n"
	if code != 1 || stderr != want {
		t.Fatalf("without --ca-file: exit %d, stderr %q, want 1 and %q", code, stderr, want)
	}

	// The daemon too, before its first enrollment.
	code, _, stderr = runCLI(t, "agent", "-q", "--root", filepath.Join(t.TempDir(), "r"), "--service", url, "--enrollment-secret-file", secret)
	if code != 1 || stderr != want {
		t.Fatalf("daemon without --ca-file: exit %d, stderr %q, want 1 and %q", code, stderr, want)
	}

	stranger := httptest.NewTLSServer(nil)
	defer stranger.Close()
	code, _, stderr = runCLI(t, "agent", "--once", "-q", "--root", filepath.Join(t.TempDir(), "r"), "--service", stranger.URL, "--enrollment-secret-file", secret, "--ca-file", ca)
	want = "imepipe agent: service " + stranger.URL + ": certificate signed by unknown authority (not by the CA in " + ca + ")\n"
	if code != 1 || stderr != want {
		t.Fatalf("stranger: exit %d, stderr %q, want 1 and %q", code, stderr, want)
	}

	root := filepath.Join(t.TempDir(), "r")
	code, stdout, stderr := runCLI(t, "agent", "--once", "--json", "--root", root, "--service", url, "--enrollment-secret-file", secret, "--ca-file", ca)
	if code != 0 {
		t.Fatalf("with --ca-file: exit %d: %s", code, stderr)
	}
	checkInstalled(t, stdout, url)

	// The root keeps the CA: a run without the flag still reaches the service.
	code, stdout, stderr = runCLI(t, "agent", "--once", "--json", "--root", root)
	if code != 0 {
		t.Fatalf("second run without --ca-file: exit %d: %s", code, stderr)
	}
	checkInstalled(t, stdout, url)
}

func checkInstalled(t *testing.T, stdout, url string) {
	t.Helper()
	var st orchestrate.Status
	if err := json.Unmarshal([]byte(stdout), &st); err != nil {
		t.Fatalf("status JSON: %v: %s", err, stdout)
	}
	if st.ServiceURL != url || len(st.Apps) != 1 {
		t.Fatalf("status: service %q, %d apps", st.ServiceURL, len(st.Apps))
	}
	if a := st.Apps[0]; a.EnforcementState != imeapi.EnforcementSuccess || a.ComplianceState != imeapi.ComplianceInstalled {
		t.Fatalf("app: EnforcementState %d ComplianceState %d, want installed", a.EnforcementState, a.ComplianceState)
	}
}

// TestServeTLSUsage: the TLS flags' combinations.
func TestServeTLSUsage(t *testing.T) {
	for _, args := range [][]string{
		{"serve", "--apps", "x", "--tls-cert", "c.pem"},
		{"serve", "--apps", "x", "--tls-cert", "c.pem", "--tls-key", "k.pem"},
		{"serve", "--apps", "x", "--tls", "--base-url", "http://10.0.0.5:8080"},
	} {
		if code, _, stderr := runCLI(t, args...); code != 2 || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want 2 and one line", args, code, stderr)
		}
	}
}

// TestFetchTLS: fetch of an https URL signed by serve --tls's CA works
// with --ca-file, and without it fails at once (a certificate refusal is
// not retried) with one line.
func TestFetchTLS(t *testing.T) {
	dir := t.TempDir()
	conf, files, err := service.ServerTLS(dir, "127.0.0.1:0", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	payload := bytes.Repeat([]byte("imepipe tls "), 100<<10)
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "blob", time.Time{}, bytes.NewReader(payload))
	}))
	ts.TLS = conf
	ts.StartTLS()
	defer ts.Close()
	out := filepath.Join(dir, "blob")
	code, _, stderr := runCLI(t, "fetch", "--ca-file", files.CA, "-o", out, ts.URL+"/blob")
	if code != 0 {
		t.Fatalf("with --ca-file: exit %d: %s", code, stderr)
	}
	if got, _ := os.ReadFile(out); !bytes.Equal(got, payload) {
		t.Fatalf("fetched %d bytes, want %d", len(got), len(payload))
	}
	code, _, stderr = runCLI(t, "fetch", "--connections", "1", "-o", filepath.Join(dir, "blob2"), ts.URL+"/blob")
	if code != 1 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "unknown authority") {
		t.Fatalf("without --ca-file: exit %d, stderr %q", code, stderr)
	}
}
