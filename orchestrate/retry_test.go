package orchestrate

import (
	"context"
	"testing"
	"time"

	"github.com/imepipe/imepipe/imeapi"
)

func TestRetryThenGRSThenReset(t *testing.T) {
	app := fileApp("Flaky", "required").installs(`exit 2`, "exit /b 2")
	h := newHarness(t, []testApp{app}, func(c *Config) {
		c.RetryInterval = 5 * time.Minute
		c.GRSWindow = 24 * time.Hour
		c.MaxAttempts = 3
	})
	runs := func() int {
		// Each attempt truncates the installer log; count attempts by state instead.
		return h.app(app.id()).Attempts.Count
	}
	steps := []struct {
		advance  time.Duration
		attempts int
		grs      bool
	}{
		{0, 1, false},
		{time.Minute, 1, false},     // retry not due
		{4 * time.Minute, 2, false}, // 5 min after the first
		{5 * time.Minute, 3, true},  // third failure: GRS
		{5 * time.Minute, 3, true},  // in GRS: nothing
		{6 * time.Hour, 3, true},
	}
	for i, s := range steps {
		h.clock.Advance(s.advance)
		h.sync()
		ap := h.app(app.id())
		if runs() != s.attempts || !ap.GRS.IsZero() != s.grs {
			t.Fatalf("step %d: attempts %d GRS %v, want %d %v\n%s", i, runs(), ap.GRS, s.attempts, s.grs, h.log())
		}
		h.wantState(app.id(), imeapi.EnforcementError, imeapi.ComplianceError, 2)
		// The last report carries the attempt count and the GRS window's end.
		h.logMu.Lock()
		last := (*h.reports)[len(*h.reports)-1]
		h.logMu.Unlock()
		if last.Attempts != s.attempts || (last.GRSUntil != nil) != s.grs {
			t.Fatalf("step %d: report attempts %d GRSUntil %v, want %d, GRS %v", i, last.Attempts, last.GRSUntil, s.attempts, s.grs)
		}
		if i == 3 && !last.GRSUntil.Equal(ap.GRS.Add(24*time.Hour)) {
			t.Fatalf("report GRSUntil %v, want %v", last.GRSUntil, ap.GRS.Add(24*time.Hour))
		}
	}
	st, err := h.agent.Status(context.Background())
	must(t, err)
	if len(st.Apps) != 1 || !st.Apps[0].InGRS || st.Apps[0].Attempts != 3 || st.Apps[0].NextAttempt == nil {
		t.Fatalf("status does not show GRS: %+v", st.Apps)
	}
	// The admin resets GRS: the next sync attempts at once (and fails again).
	n, err := h.agent.ResetGRS(context.Background(), app.id())
	must(t, err)
	if n < 2 {
		t.Fatalf("reset removed %d entries", n)
	}
	h.sync()
	if ap := h.app(app.id()); ap.Attempts.Count != 1 || !ap.GRS.IsZero() {
		t.Fatalf("after reset: attempts %d GRS %v", ap.Attempts.Count, ap.GRS)
	}
	// GRS expiry: fail twice more into GRS, then 24 h later it is tried again.
	h.clock.Advance(5 * time.Minute)
	h.sync()
	h.clock.Advance(5 * time.Minute)
	h.sync()
	if ap := h.app(app.id()); ap.GRS.IsZero() {
		t.Fatal("not in GRS after 3 failures")
	}
	h.clock.Advance(24 * time.Hour)
	h.sync()
	if ap := h.app(app.id()); ap.Attempts.Count != 1 || !ap.GRS.IsZero() {
		t.Fatalf("after the GRS window: attempts %d GRS %v", ap.Attempts.Count, ap.GRS)
	}
}

func TestRunWakesForRetries(t *testing.T) {
	app := fileApp("Loop", "required").installs(`exit 3`, "exit /b 3")
	waits := make(chan time.Duration, 10)
	fire := make(chan time.Time)
	h := newHarness(t, []testApp{app}, func(c *Config) {
		c.RetryInterval = 5 * time.Minute
		c.SyncInterval = time.Hour
		tc := c.Clock.(testClock)
		tc.after = func(d time.Duration) <-chan time.Time { waits <- d; return fire }
		c.Clock = tc
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.agent.Run(ctx) }()
	if d := <-waits; d != 5*time.Minute {
		t.Fatalf("first wait %v, want the retry gap", d)
	}
	h.clock.Advance(5 * time.Minute)
	fire <- h.clock.Now()
	if d := <-waits; d != 5*time.Minute {
		t.Fatalf("second wait %v", d)
	}
	if n := h.app(app.id()).Attempts.Count; n != 2 {
		t.Fatalf("attempts %d after two syncs", n)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestInstallTimeoutKillsTree: an installer past its time limit is killed
// with its descendants and recorded as 0x87D300C9.
func TestInstallTimeoutKillsTree(t *testing.T) {
	app := fileApp("Hang", "required").installs(`sleep 60 & sleep 60`,
		"@echo off\r\nset "+envTestHang+"=1\r\nstart \"\" /b \"%"+envTestExe+"%\"\r\n\"%"+envTestExe+"%\"")
	h := newHarness(t, []testApp{app}, func(c *Config) { c.InstallTimeout = 300 * time.Millisecond })
	start := time.Now()
	h.sync()
	if el := time.Since(start); el > 20*time.Second {
		t.Fatalf("timeout took %v", el)
	}
	h.wantState(app.id(), imeapi.EnforcementError, imeapi.ComplianceError, CodeTimeout)
}
