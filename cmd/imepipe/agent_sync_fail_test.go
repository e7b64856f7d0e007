package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/imepipe/imepipe/orchestrate"
	"github.com/imepipe/imepipe/service"
)

// closableService serves srv on a loopback server of its own, which the
// test may close to take the service down.
func closableService(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	hs := httptest.NewServer(h)
	t.Cleanup(hs.Close)
	return hs
}

// brokenAppService serves one app, Contoso Broken (failAppID), whose
// installer runs script (sh) in place of the demo's; it returns the URL
// and the enrollment secret file.
func brokenAppService(t *testing.T, script string) (string, string) {
	t.Helper()
	dir := t.TempDir()
	src, out := filepath.Join(dir, "src"), filepath.Join(dir, "apps", "broken")
	if err := writeSample(src, 64<<10); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "fail.sh"), []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := runPack(context.Background(), &env{stdout: &b, stderr: &b}, []string{"-q", "-c", src, "-s", "install.sh", "-o", out}); err != nil {
		t.Fatalf("pack: %v: %s", err, b.String())
	}
	j := strings.NewReplacer(demoAppID, failAppID, `"Contoso Demo"`, `"Contoso Broken"`,
		`"sh install.sh"`, `"sh fail.sh"`, `\\Contoso\\Demo`, `\\Contoso\\Broken`).Replace(demoAppJSON)
	if err := os.WriteFile(filepath.Join(out, "app.json"), []byte(j), 0o644); err != nil {
		t.Fatal(err)
	}
	srv, err := service.NewContext(context.Background(), service.Config{AppsDir: filepath.Join(dir, "apps"), DataDir: filepath.Join(dir, "data")})
	if err != nil {
		t.Fatal(err)
	}
	hs := closableService(t, srv)
	t.Cleanup(func() { srv.Close() })
	return hs.URL, srv.EnrollmentSecretPath()
}

// agentOnce runs agent --once (quiet, no peering) on root against url
// with the secret file, plus args.
func agentOnce(t *testing.T, root, url, secret string, args ...string) (int, string, string) {
	t.Helper()
	return runCLI(t, append([]string{"agent", "--once", "-q", "--peer-addr", "off", "--root", root, "--service", url, "--enrollment-secret-file", secret}, args...)...)
}

// oneLine checks that stderr is exactly want (one line).
func oneLine(t *testing.T, what, stderr, want string) {
	t.Helper()
	if stderr != want+"\n" {
		t.Errorf("%s: stderr %q\nwant   %q", what, stderr, want+"\n")
	}
}

// A sync that fails at the service is one clean line on stderr, saying
// what to check; a missing secret file names the file once.
func TestAgentSyncFailureLines(t *testing.T) {
	url, secret, srv := testService(t, false)
	dir := t.TempDir()

	down := closableService(t, srv)
	down.Close()
	code, _, stderr := agentOnce(t, filepath.Join(dir, "down"), down.URL, secret)
	if code != 1 {
		t.Errorf("service down: exit %d", code)
	}
	oneLine(t, "service down", stderr, "imepipe agent: service "+down.URL+" not reachable (connection refused); is imepipe serve running?")

	code, _, stderr = agentOnce(t, filepath.Join(dir, "bad"), url, writeSecret(t))
	if code != 1 {
		t.Errorf("wrong secret: exit %d", code)
	}
	oneLine(t, "wrong secret", stderr, "imepipe agent: enrollment secret rejected by "+url+": check --enrollment-secret-file")
	// The daemon does not retry a rejected secret sync after sync: it
	// says so before its first enrollment and exits.
	code, _, stderr = runCLI(t, "agent", "-q", "--peer-addr", "off", "--root", filepath.Join(dir, "bad-daemon"), "--service", url, "--enrollment-secret-file", writeSecret(t))
	if code != 1 {
		t.Errorf("wrong secret, daemon: exit %d", code)
	}
	oneLine(t, "wrong secret, daemon", stderr, "imepipe agent: enrollment secret rejected by "+url+": check --enrollment-secret-file")

	tls := httptest.NewTLSServer(srv)
	defer tls.Close()
	plain := "http://" + tls.Listener.Addr().String()
	code, _, stderr = agentOnce(t, filepath.Join(dir, "plain"), plain, secret)
	if code != 1 {
		t.Errorf("http to https: exit %d", code)
	}
	oneLine(t, "http to https", stderr, "imepipe agent: "+plain+" speaks HTTPS: use "+tls.URL)
	code, _, stderr = runCLI(t, "agent", "-q", "--peer-addr", "off", "--root", filepath.Join(dir, "plain-daemon"), "--service", plain, "--enrollment-secret-file", secret)
	if code != 1 {
		t.Errorf("http to https, daemon: exit %d", code)
	}
	oneLine(t, "http to https, daemon", stderr, "imepipe agent: "+plain+" speaks HTTPS: use "+tls.URL)

	missing := filepath.Join(dir, "nonexist")
	code, _, stderr = agentOnce(t, filepath.Join(dir, "nosecret"), url, missing)
	if code != 1 {
		t.Errorf("missing secret file: exit %d", code)
	}
	oneLine(t, "missing secret file", stderr, "imepipe agent: enrollment secret file "+missing+": no such file")

	// The failed run's log says it too, as an error line.
	log, err := os.ReadFile(filepath.Join(dir, "down", "Logs", "IntuneManagementExtension.log"))
	if err != nil || !regexp.MustCompile(`\[Win32App\] Failed to get policies: service \S+ not reachable \(connection refused\)\]LOG\]!><[^>]* type="3"`).Match(log) {
		t.Errorf("log of the failed run (%v):\n%s", err, log)
	}
}

// status and health on a root a failed enrollment left behind say it is
// not enrolled, what to run and why the last attempt failed, and exit 1.
func TestStatusNotEnrolledRoot(t *testing.T) {
	url, _, _ := testService(t, false)
	root := filepath.Join(t.TempDir(), "r-bad")
	if code, _, _ := agentOnce(t, root, url, writeSecret(t)); code != 1 {
		t.Fatalf("wrong secret: exit %d", code)
	}
	want := "imepipe status: " + root + " is not enrolled (run imepipe agent --service URL --enrollment-secret-file FILE --root " + root + "); last attempt "
	code, stdout, stderr := runCLI(t, "status", "--root", root)
	if code != 1 || stdout != "" || !strings.HasPrefix(stderr, want) || !strings.HasSuffix(stderr, " failed: enrollment secret rejected by "+url+"\n") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("status: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	code, stdout, stderr = runCLI(t, "health", "--root", root)
	if code != 1 || !strings.Contains(stdout, "FAIL enrollment       not enrolled") {
		t.Errorf("health: exit %d, stdout:\n%s", code, stdout)
	}
	oneLine(t, "health", stderr, "imepipe health: "+root+" is not enrolled (run imepipe agent --service URL --enrollment-secret-file FILE --root "+root+")")
}

// After a failed sync, status and health date the failure by its own
// attempt and the last success apart.
func TestStatusFailedSyncAfterSuccess(t *testing.T) {
	skipAgentsOnWindows(t)
	_, secret, srv := testService(t, false)
	hs := closableService(t, srv)
	root := filepath.Join(t.TempDir(), "r")
	if code, _, stderr := agentOnce(t, root, hs.URL, secret); code != 0 {
		t.Fatalf("first run: exit %d %s", code, stderr)
	}
	hs.Close()
	if code, _, _ := runCLI(t, "agent", "--once", "-q", "--root", root); code != 1 {
		t.Fatalf("service down: exit %d", code)
	}
	_, stdout, _ := runCLI(t, "status", "--root", root)
	stamp := `\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)`
	want := regexp.MustCompile(`(?m)^last app sync attempt ` + stamp + ` failed: service ` + regexp.QuoteMeta(hs.URL) +
		` not reachable \(connection refused\); last success ` + stamp + `$`)
	if !want.MatchString(stdout) {
		t.Errorf("status:\n%s\nwant a line %s", stdout, want)
	}
	if st := agentStatus(t, root); !st.Times[orchestrate.TimeLastSyncAttempt].After(st.Times[orchestrate.TimeLastAppSync]) {
		t.Errorf("times %v: the failed attempt is not dated after the success", st.Times)
	}
	code, stdout, stderr := runCLI(t, "health", "--root", root)
	if code != 1 || !regexp.MustCompile(`FAIL last sync +last attempt \S+ ago \(`+stamp+`\) failed: service \S+ not reachable \(connection refused\); last success \S+ ago`).MatchString(stdout) {
		t.Errorf("health: exit %d\n%s", code, stdout)
	}
	oneLine(t, "health", stderr, "imepipe health: unhealthy (1 check failed)")
}

// An installer's failure is one line with its code as the console shows
// it, said once, and where its own log is; install names the app and
// what its state means.
func TestAgentInstallerFailureLine(t *testing.T) {
	skipAgentsOnWindows(t)
	url, secret := brokenAppService(t, "echo 'setup: libfoo.so.1 not found'\nexit 127\n")
	root := filepath.Join(t.TempDir(), "r")
	code, stdout, stderr := agentOnce(t, root, url, secret)
	log := "Logs/Win32AppInstaller-" + failAppID + "_1.log"
	want := "imepipe agent: failed " + failAppID + "_1 (Contoso Broken): enforcement 5000 Error, error 0x8007007F: install: installer exit code 127 is a failure; see " + log
	if code != 1 || !strings.HasPrefix(stderr, want+"\n") {
		t.Errorf("agent: exit %d, stderr %q\nwant first %q", code, stderr, want)
	}
	if !strings.Contains(stdout, "0x8007007F") || strings.Contains(stdout, "0x0000007F") || !strings.Contains(stdout, "Contoso Broken ("+failAppID+"_1): install: installer exit code 127 is a failure; see "+log+"\n") {
		t.Errorf("status of --once:\n%s", stdout)
	}
	if data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(log))); err != nil || !strings.Contains(string(data), "libfoo.so.1 not found") {
		t.Errorf("installer log %q: %v", data, err)
	}
	code, _, stderr = runCLI(t, "install", failAppID, "--root", root)
	if code != 1 {
		t.Errorf("install: exit %d", code)
	}
	oneLine(t, "install", stderr, "imepipe install: Contoso Broken ("+failAppID+"_1) was not installed: it failed with 0x8007007F (enforcement 5000 Error); see "+log)
}

// Ctrl-C of agent --once mid-download is one line saying what is
// paused and that it resumes, not "context canceled".
func TestAgentInterruptedLine(t *testing.T) {
	skipAgentsOnWindows(t)
	_, secret, srv := testService(t, false)
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	var once sync.Once
	hs := closableService(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/blobs/") || r.Method != http.MethodGet {
			srv.ServeHTTP(w, r)
			return
		}
		// Send part of the blob, then stop the agent as SIGINT does.
		srv.ServeHTTP(&cutWriter{ResponseWriter: w, left: 64 << 10, cut: func() {
			once.Do(func() { cancel(errors.New("interrupt signal received")) })
			<-r.Context().Done()
		}}, r)
	}))
	var out, errb bytes.Buffer
	root := filepath.Join(t.TempDir(), "r")
	code := run(ctx, &env{stdout: &out, stderr: &errb}, []string{"agent", "--once", "-q", "--peer-addr", "off", "--root", root, "--service", hs.URL, "--enrollment-secret-file", secret})
	want := regexp.MustCompile(`^imepipe agent: interrupted; Contoso Demo download paused at [\d.]+ [KM]?i?B of [\d.]+ [KM]iB, resumes at the next sync\n$`)
	if code != 1 || !want.MatchString(errb.String()) {
		t.Fatalf("interrupted agent: exit %d, stderr %q, want %s", code, errb.String(), want)
	}
}

// cutWriter passes the first left bytes of a response, then calls cut
// (which blocks until the request ends) instead of writing more.
type cutWriter struct {
	http.ResponseWriter
	left int
	cut  func()
}

func (w *cutWriter) Write(p []byte) (int, error) {
	if len(p) <= w.left {
		n, err := w.ResponseWriter.Write(p)
		w.left -= n
		return n, err
	}
	n, _ := w.ResponseWriter.Write(p[:w.left])
	w.left = 0
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
	w.cut()
	return n, errors.New("response cut")
}
