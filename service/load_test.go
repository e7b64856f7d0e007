package service

import (
	"context"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imepipe/imepipe/imeapi"
)

// loadParams are the load test's size: by default 10 agents for 2 s,
// pausing 10 ms between cycles; with IMEPIPE_SLOW=1 (and not -short) the full run, 200
// agents for 30 s, each pausing 250 ms between sync cycles (four syncs a
// second per agent, where the IME syncs hourly: 200 such agents offer up
// to 4,800 requests/s). IMEPIPE_LOAD_AGENTS, IMEPIPE_LOAD_DURATION and
// IMEPIPE_LOAD_THINK (0: closed loop) override each figure.
func loadParams(t *testing.T) (agents int, dur, think time.Duration) {
	agents, dur, think = 10, 2*time.Second, 10*time.Millisecond
	if os.Getenv("IMEPIPE_SLOW") == "1" && !testing.Short() {
		agents, dur, think = 200, 30*time.Second, 250*time.Millisecond
	}
	if v := os.Getenv("IMEPIPE_LOAD_AGENTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("IMEPIPE_LOAD_AGENTS=%q", v)
		}
		agents = n
	}
	for name, p := range map[string]*time.Duration{"IMEPIPE_LOAD_DURATION": &dur, "IMEPIPE_LOAD_THINK": &think} {
		if v := os.Getenv(name); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				t.Fatalf("%s=%q: %v", name, v, err)
			}
			*p = d
		}
	}
	return agents, dur, think
}

// TestLoad runs simulated agents against a loopback server, each in a
// loop of policies + content info for every assigned app until the run's
// time is up; no request may fail and p99 must stay under 50 ms.
func TestLoad(t *testing.T) {
	agents, dur, think := loadParams(t)
	e := newEnv(t)
	tr := &http.Transport{MaxIdleConns: agents * 2, MaxIdleConnsPerHost: agents * 2, MaxConnsPerHost: agents * 2}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	clients := make([]*imeapi.Client, agents)
	for i := range clients {
		c, _ := e.enroll(t, "load-"+strconv.Itoa(i))
		c.HTTP = hc
		clients[i] = c
	}
	ctx, cancel := context.WithTimeout(context.Background(), dur)
	defer cancel()
	var (
		mu      sync.Mutex
		lat     []time.Duration
		errs    []error
		wg      sync.WaitGroup
		cycles  int
		started = time.Now()
	)
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			var myErrs []error
			n := 0
			call := func(f func() error) bool {
				t0 := time.Now()
				err := f()
				if ctx.Err() != nil {
					return false // the run ended mid-request: not counted
				}
				mine = append(mine, time.Since(t0))
				if err != nil {
					myErrs = append(myErrs, err)
				}
				return err == nil
			}
			var tick <-chan time.Time
			if think > 0 {
				// Pacing of a simulated agent, not synchronisation: agents
				// start spread over one period so that they do not fire in step.
				start := time.NewTimer(think * time.Duration(i) / time.Duration(agents))
				select {
				case <-start.C:
				case <-ctx.Done():
				}
				tk := time.NewTicker(think)
				defer tk.Stop()
				tick = tk.C
			}
			for ctx.Err() == nil {
				var pol imeapi.Policies
				if !call(func() (err error) { pol, err = c.Policies(ctx); return err }) {
					continue
				}
				for _, p := range pol.Policies {
					call(func() error { _, err := c.ContentInfo(ctx, p.AppID, p.Version); return err })
				}
				n++
				if tick != nil {
					select {
					case <-tick:
					case <-ctx.Done():
					}
				}
			}
			mu.Lock()
			lat = append(lat, mine...)
			errs = append(errs, myErrs...)
			cycles += n
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(started)
	if len(errs) > 0 {
		t.Fatalf("%d of %d requests failed; first: %v", len(errs), len(lat), errs[0])
	}
	if len(lat) == 0 {
		t.Fatal("no request completed")
	}
	slices.Sort(lat)
	q := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	p50, p99 := q(0.50), q(0.99)
	t.Logf("agents=%d duration=%v think=%v requests=%d (%.0f/s) cycles=%d p50=%v p90=%v p99=%v max=%v",
		agents, dur, think, len(lat), float64(len(lat))/elapsed.Seconds(), cycles, p50, q(0.90), p99, lat[len(lat)-1])
	if raceEnabled || os.Getenv("IMEPIPE_SLOW") != "1" {
		// Latency is a measurement, not a unit-test verdict: CI shares two
		// cores with other packages' tests. IMEPIPE_SLOW=1 asserts it.
		t.Logf("p99 asserted only with IMEPIPE_SLOW=1 (and without -race)")
		return
	}
	if p99 >= 50*time.Millisecond {
		t.Fatalf("p99 %v, want < 50ms", p99)
	}
}

// TestMissingAppsFolderWritesNothing: a mistyped apps folder is refused
// before the data folder (secrets, store, blobs) is made.
func TestMissingAppsFolderWritesNothing(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "app.json")
	if err := os.WriteFile(file, []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, apps := range []string{filepath.Join(dir, "nosuch"), file} {
		data := filepath.Join(dir, "data")
		srv, err := NewContext(context.Background(), Config{AppsDir: apps, DataDir: data})
		if err == nil {
			srv.Close()
			t.Fatalf("apps %s: no error", apps)
		}
		if !strings.Contains(err.Error(), apps) {
			t.Errorf("apps %s: error %q does not name the folder", apps, err)
		}
		if _, serr := os.Stat(data); !errors.Is(serr, fs.ErrNotExist) {
			t.Errorf("apps %s: data folder made anyway (%v); error %v", apps, serr, err)
		}
	}
}
