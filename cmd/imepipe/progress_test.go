package main

import (
	"bytes"
	"os"
	"regexp"
	"runtime"
	"testing"
	"time"

	"github.com/vbauerster/mpb/v8/decor"
)

// TestProgressDone: a bar with a total that the work does not reach
// exactly still completes, and Done returns (it once waited forever).
func TestProgressDone(t *testing.T) {
	for _, total := range []int64{0, 1000, 5000} {
		var out bytes.Buffer
		pr := newProgress(&env{stdout: &out, tty: true}, false, "test", total)
		pr.Add(700)
		pr.Add(1300)
		done := make(chan struct{})
		go func() { pr.Done(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second): // a hang detector, not a synchronisation
			t.Fatalf("total %d: Done did not return", total)
		}
		if got := pr.n.Load(); got != 2000 {
			t.Errorf("total %d: counted %d, want 2000", total, got)
		}
	}
}

func TestIsTerminalDevNull(t *testing.T) {
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if isTerminal(f) {
		t.Fatal("/dev/null taken for a terminal")
	}
}

// TestProgressSpacing: at 100 % a space parts the speed from the
// percentage (it once printed "3.9 MiB/s100 %").
func TestProgressSpacing(t *testing.T) {
	_, app := barDecorators("x")
	var line string
	for _, d := range app { // a frame before the end sets the speed, then the last one
		d.Decor(decor.Statistics{Total: 4 << 20, Current: 3 << 20})
		s, _ := d.Decor(decor.Statistics{Total: 4 << 20, Current: 4 << 20, Completed: true})
		line += s
	}
	if !regexp.MustCompile(`B/s 100 %$`).MatchString(line) {
		t.Errorf("after the bar: %q, want the speed, a space, then 100 %%", line)
	}
}

// TestSpeedOnCoarseClock: a bar that ends in the tick it began (Windows'
// clock) shows an unknown speed, not an overflowed one; once the clock
// has moved, mpb's average is shown.
func TestSpeedOnCoarseClock(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	d := averageSpeed(func() time.Time { return at })
	if s, _ := d.Decor(decor.Statistics{Total: 1 << 20, Current: 1 << 20, Completed: true}); s != " ? B/s" {
		t.Errorf("no time elapsed: %q, want \" ? B/s\"", s)
	}
	if runtime.GOOS == "windows" {
		t.Skip("mpb times the average on the real clock, which a coarse clock (Wine's) has not moved yet")
	}
	at = at.Add(2 * time.Second)
	if s, _ := d.Decor(decor.Statistics{Total: 8 << 20, Current: 8 << 20}); !regexp.MustCompile(`^ [0-9]+\.[0-9] [KMGTP]iB/s$`).MatchString(s) {
		t.Errorf("8 MiB once time has passed: %q, want mpb's average in B/s", s)
	}
}
