package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imepipe/imepipe/internal/fixtures"
	"github.com/imepipe/imepipe/internal/linkfile"
	"github.com/imepipe/imepipe/internal/promtest"
	"github.com/imepipe/imepipe/service"
	dto "github.com/prometheus/client_model/go"
)

// lineWriter collects output and signals every write.
type lineWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	wrote chan struct{}
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	select {
	case w.wrote <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (w *lineWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

func TestServe(t *testing.T) {
	root := t.TempDir()
	apps := filepath.Join(root, "apps", "a")
	os.MkdirAll(apps, 0o755)
	example, err := os.ReadFile("../../service/testdata/app-example.json")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(apps, "app.json"), example, 0o644)
	pkg := fixtures.Path(t, "desktopinfo.intunewin")
	if err := linkfile.Make(pkg, filepath.Join(apps, "desktopinfo.intunewin")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stderr := &lineWriter{wrote: make(chan struct{}, 1)}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, &env{stdout: &bytes.Buffer{}, stderr: stderr},
			[]string{"serve", "--apps", filepath.Join(root, "apps"), "--addr", "127.0.0.1:0", "--data", filepath.Join(root, "data"),
				"--metrics-listen", "127.0.0.1:0"})
	}()
	urlRE := regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+) \(1 app\)`)
	metricsRE := regexp.MustCompile(`metrics on (http://127\.0\.0\.1:\d+/metrics)\n`)
	timeout := time.After(30 * time.Second)
	var url, metricsURL string
	for url == "" || metricsURL == "" {
		select {
		case <-stderr.wrote:
			if m := urlRE.FindStringSubmatch(stderr.String()); m != nil && strings.Contains(stderr.String(), "enrollment secret in") {
				url = m[1]
			}
			if m := metricsRE.FindStringSubmatch(stderr.String()); m != nil {
				metricsURL = m[1]
			}
		case code := <-done:
			t.Fatalf("serve exited %d: %s", code, stderr.String())
		case <-timeout:
			t.Fatalf("serve did not start: %s", stderr.String())
		}
	}
	resp, err := http.Get(url + "/api/v1/policies")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("policies without a token: %s", resp.Status)
	}
	// --metrics-listen: /metrics there, without a token, counting the
	// refusal above by route pattern; not on the API's listener.
	m := promtest.Scrape(t, metricsURL)
	if got := m.Value(t, service.MetricRequests, dto.MetricType_COUNTER, "route=GET /api/v1/policies", "code=401"); got != 1 {
		t.Errorf("%s{GET /api/v1/policies, 401} = %v, want 1", service.MetricRequests, got)
	}
	if resp, err := http.Get(url + "/metrics"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("the API listener answers /metrics: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	// The console is served too, its login form first.
	resp, err = http.Get(url + "/console/login")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), `name="token"`) || !strings.Contains(stderr.String(), "console at "+url+"/console/") {
		t.Fatalf("console login: %s %s\nstderr: %s", resp.Status, page, stderr.String())
	}
	// Private by mode bits; Windows keeps none (its ACLs are not checked here).
	if fi, err := os.Stat(filepath.Join(root, "data", "enrollment-secret")); err != nil || (runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600) {
		t.Fatalf("enrollment secret: %v %v", fi, err)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d after SIGINT: %s", code, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not shut down")
	}
}

func TestServeUsage(t *testing.T) {
	cases := []struct {
		args []string
		code int
	}{
		{[]string{"serve"}, 2},
		{[]string{"serve", "--apps", "x", "extra"}, 2},
		{[]string{"serve", "--apps", "x", "--blob-ttl", "1ms"}, 2},
		{[]string{"serve", "--apps", "x", "--metrics-listen", "9180"}, 2},
		{[]string{"serve", "--apps", "x", "--addr", "127.0.0.1:8080", "--metrics-listen", "127.0.0.1:8080"}, 2},
		{[]string{"serve", "--apps", filepath.Join(t.TempDir(), "missing"), "--data", t.TempDir()}, 1},
	}
	for _, c := range cases {
		code, _, stderr := runCLI(t, c.args...)
		if code != c.code || strings.TrimSpace(stderr) == "" {
			t.Errorf("%v: exit %d (stderr %q), want %d", c.args, code, stderr, c.code)
		}
	}
}

// TestShownAddr: serve names its listeners with the host as given (Go
// reports 0.0.0.0 as [::]) and the port bound.
func TestShownAddr(t *testing.T) {
	bound := &net.TCPAddr{IP: net.IPv6unspecified, Port: 9180}
	for given, want := range map[string]string{
		"0.0.0.0:9180": "0.0.0.0:9180",
		"0.0.0.0:0":    "0.0.0.0:9180",
		"[::1]:0":      "[::1]:9180",
		":9180":        "[::]:9180", // no host given: as bound
	} {
		if got := shownAddr(given, bound); got != want {
			t.Errorf("shownAddr(%q) = %q, want %q", given, got, want)
		}
	}
}
