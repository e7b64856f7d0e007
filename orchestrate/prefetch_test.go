//go:build !windows

package orchestrate

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/imepipe/imepipe/fetch"
	"github.com/imepipe/imepipe/imeapi"
)

// gateWait bounds every wait on an installer gate (a deadline, not a
// pause: each wait ends as soon as the other side acts).
const gateWait = 60 * time.Second

// gatedApp is fileApp whose installer appends "start NAME" to
// dir/installs.log, opens dir/NAME.started for writing (the test's
// signal that it runs), reads a line from dir/NAME.gate (blocking until
// the test opens it), then appends "end NAME" and installs.
func gatedApp(t *testing.T, name, dir string) testApp {
	for _, f := range []string{name + ".started", name + ".gate"} {
		must(t, syscall.Mkfifo(filepath.Join(dir, f), 0o600))
	}
	log := filepath.Join(dir, "installs.log")
	return fileApp(name, "required").script("install.sh", fmt.Sprintf(
		`echo start %[1]s >> %[2]q; echo up > %[3]q; read x < %[4]q; echo end %[1]s >> %[2]q; `+
			`mkdir -p "$ProgramFiles/%[1]s" && echo installed > "$ProgramFiles/%[1]s/app.txt"`,
		name, log, filepath.Join(dir, name+".started"), filepath.Join(dir, name+".gate")))
}

// fifo runs open (a blocking open of a FIFO and its use) within gateWait.
func fifo(t *testing.T, what string, open func() error) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- open() }()
	select {
	case err := <-done:
		must(t, err)
	case <-time.After(gateWait):
		t.Fatalf("%s: nothing within %v", what, gateWait)
	}
}

// started waits until name's installer runs.
func started(t *testing.T, dir, name string) {
	fifo(t, name+" starts", func() error {
		f, err := os.Open(filepath.Join(dir, name+".started"))
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.ReadAll(f)
		return err
	})
}

// release lets name's installer go on.
func release(t *testing.T, dir, name string) {
	fifo(t, name+" released", func() error {
		f, err := os.OpenFile(filepath.Join(dir, name+".gate"), os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		_, err = f.WriteString("go\n")
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return err
	})
}

func installsLog(t *testing.T, dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, "installs.log"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return strings.Join(strings.Fields(strings.ReplaceAll(string(b), " ", "_")), ", ")
}

// TestPrefetchOverlapsInstalls: three required apps, the second's blob
// missing at the origin. While the first app's installer is held at its
// gate, the third app's content is downloaded and unpacked (its download
// ends before the first install does), the failed download does not
// hold it back, and no second installer starts; installs run one at a
// time, each app installed once, the failed one reported failed. All
// with the default look-ahead (one app).
func TestPrefetchOverlapsInstalls(t *testing.T) {
	gates := t.TempDir()
	alpha, bravo, charlie := gatedApp(t, "Alpha", gates), fileApp("Bravo", "required"), gatedApp(t, "Charlie", gates)
	ready := make(chan string, 8) // keys whose download and unpack ended
	h := newHarness(t, []testApp{alpha, bravo, charlie}, func(c *Config) {
		c.Progress = func(key string, _ *fetch.Job) func() { return func() { ready <- key } }
	})
	next := h.http.Config.Handler
	h.http.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/blobs/"+bravo.id()) {
			http.Error(w, "no such blob", http.StatusNotFound)
			return
		}
		next.ServeHTTP(w, r)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*gateWait)
	defer cancel()
	synced := make(chan error, 1)
	go func() { synced <- h.agent.Sync(ctx) }()

	started(t, gates, "Alpha")
	// Alpha's installer is held: Charlie's content must arrive meanwhile.
	want := charlie.id() + "_1"
	for got := ""; got != want; {
		select {
		case got = <-ready:
		case <-time.After(gateWait):
			t.Fatalf("Charlie's download did not end while Alpha installs\nlog:\n%s", h.log())
		}
	}
	if got := installsLog(t, gates); got != "start_Alpha" {
		t.Fatalf("installs while Alpha is held: %q, want only Alpha's start", got)
	}
	if _, err := os.Stat(filepath.Join(h.agent.layout.IMECache, want)); err != nil {
		t.Fatalf("Charlie's content is not staged in IMECache: %v", err)
	}
	release(t, gates, "Alpha")
	started(t, gates, "Charlie")
	if got := installsLog(t, gates); got != "start_Alpha, end_Alpha, start_Charlie" {
		t.Fatalf("installs %q: want Alpha's to end before Charlie's starts", got)
	}
	release(t, gates, "Charlie")
	select {
	case err := <-synced:
		must(t, err)
	case <-time.After(gateWait):
		t.Fatal("the sync did not end")
	}
	if got := installsLog(t, gates); got != "start_Alpha, end_Alpha, start_Charlie, end_Charlie" {
		t.Fatalf("installs %q", got)
	}
	h.wantState(alpha.id(), imeapi.EnforcementSuccess, imeapi.ComplianceInstalled, 0)
	h.wantState(bravo.id(), imeapi.EnforcementError, imeapi.ComplianceError, CodeFailure)
	h.wantState(charlie.id(), imeapi.EnforcementSuccess, imeapi.ComplianceInstalled, 0)
	// Prefetched, so detected again just before its install.
	if n := strings.Count(h.log(), "Completed detectionManager"); n != 2+1+3 {
		t.Errorf("%d detections, want Alpha 2, Bravo 1, Charlie 3 (before download, before install, after)", n)
	}
}

// syncing runs a sync in the background; wait returns its error.
func syncing(t *testing.T, h *harness, ctx context.Context) (wait func() error) {
	done := make(chan error, 1)
	go func() { done <- h.agent.Sync(ctx) }()
	return func() error {
		select {
		case err := <-done:
			return err
		case <-time.After(2 * gateWait):
			t.Fatal("the sync did not end")
			return nil
		}
	}
}

// waitReady waits until key's download and unpack have ended.
func waitReady(t *testing.T, h *harness, ready <-chan string, key string) {
	t.Helper()
	for got := ""; got != key; {
		select {
		case got = <-ready:
		case <-time.After(gateWait):
			t.Fatalf("%s's download did not end\nlog:\n%s", key, h.log())
		}
	}
}

// TestPrefetchedAppDetectedAgain: the first app's installer also
// installs the second app. The second's content was fetched during that
// install (its detection said missing then), but it is detected again
// before its install: nothing runs, it is reported installed, and its
// staged content is cleaned up.
func TestPrefetchedAppDetectedAgain(t *testing.T) {
	gates := t.TempDir()
	alpha, bravo := gatedApp(t, "Alpha", gates), fileApp("Bravo", "required")
	alpha = alpha.script("install.sh", alpha.files["install.sh"]+` && mkdir -p "$ProgramFiles/Bravo" && echo installed > "$ProgramFiles/Bravo/app.txt"`)
	bravo = bravo.script("install.sh", `echo start Bravo >> `+fmt.Sprintf("%q", filepath.Join(gates, "installs.log")))
	ready := make(chan string, 8)
	h := newHarness(t, []testApp{alpha, bravo}, func(c *Config) {
		c.Progress = func(key string, _ *fetch.Job) func() { return func() { ready <- key } }
	})
	wait := syncing(t, h, context.Background())
	started(t, gates, "Alpha")
	waitReady(t, h, ready, bravo.id()+"_1")
	release(t, gates, "Alpha")
	must(t, wait())
	if got := installsLog(t, gates); got != "start_Alpha, end_Alpha" {
		t.Fatalf("installs %q: Bravo's installer must not run", got)
	}
	h.wantState(bravo.id(), imeapi.EnforcementSuccess, imeapi.ComplianceInstalled, 0)
	if ents, _ := os.ReadDir(h.agent.layout.IMECache); len(ents) != 0 {
		t.Fatalf("IMECache not cleaned: %v", ents)
	}
}

// TestStopDuringPrefetch: the agent stops while the first app installs
// and the second's content is staged. Nothing is recorded for the
// second; the next sync finishes the first (its detached run re-adopted)
// and installs the second, once each.
func TestStopDuringPrefetch(t *testing.T) {
	gates := t.TempDir()
	alpha, bravo := gatedApp(t, "Alpha", gates), gatedApp(t, "Bravo", gates)
	ready := make(chan string, 8)
	h := newHarness(t, []testApp{alpha, bravo}, func(c *Config) {
		c.Progress = func(key string, _ *fetch.Job) func() { return func() { ready <- key } }
	})
	ctx, cancel := context.WithCancel(context.Background())
	wait := syncing(t, h, ctx)
	started(t, gates, "Alpha")
	waitReady(t, h, ready, bravo.id()+"_1")
	cancel()
	if err := wait(); err == nil {
		t.Fatal("a stopped sync returned no error")
	}
	if ap := h.app(bravo.id()); ap.Compliance != nil {
		t.Fatalf("Bravo has a compliance record after a stop mid-prefetch: %+v", ap.Compliance)
	}
	release(t, gates, "Alpha") // the detached installer ends
	wait = syncing(t, h, context.Background())
	started(t, gates, "Bravo")
	release(t, gates, "Bravo")
	must(t, wait())
	if got := installsLog(t, gates); got != "start_Alpha, end_Alpha, start_Bravo, end_Bravo" {
		t.Fatalf("installs %q", got)
	}
	h.wantState(alpha.id(), imeapi.EnforcementSuccess, imeapi.ComplianceInstalled, 0)
	h.wantState(bravo.id(), imeapi.EnforcementSuccess, imeapi.ComplianceInstalled, 0)
}
