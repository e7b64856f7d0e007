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

// TestBarTextsFitLineWidth: a bar's texts at their longest (an agent
// bar's label, four-digit counters and speed) leave room for the filler's
// two spaces within lineWidth, the line mpb draws where it cannot read
// the terminal's width (the tests' terminals). They once did not (40):
// mpb then cut the line's end, so a bar drawn once before its download
// ended, whose speed had been set, showed no "100 %" at the end, and
// TestAgentProgressBars failed whenever the download outlasted a refresh.
func TestBarTextsFitLineWidth(t *testing.T) {
	const gib = 1 << 30
	pre, app := barDecorators(barLabel("0b5c7c3e-6f0d-4a8e-9d3b-1c2e3f4a5b6c_1234"))
	mid := decor.Statistics{Total: 1023 * gib, Current: 1000 * gib}
	end := decor.Statistics{Total: 1023 * gib, Current: 1023 * gib, Completed: true}
	width := 2 // the spaces around the filler
	var line string
	for _, d := range append(pre, app...) {
		if a, ok := d.(decor.AverageDecorator); ok {
			// a second at least since the start: the speed is at most
			// 1023 GiB/s, four digits (mpb times it on the real clock)
			a.AverageAdjust(time.Now().Add(-time.Second))
		}
		d.Decor(mid) // a frame before the end: the speed is set
		s, w := d.Decor(end)
		line += s
		width += w
	}
	if !regexp.MustCompile(` 1023\.0 GiB / 1023\.0 GiB +[0-9]{1,4}\.[0-9] GiB/s 100 %$`).MatchString(line) {
		t.Fatalf("the longest texts: %q, want four-digit counters and speed before 100 %%", line)
	}
	if width > lineWidth {
		t.Errorf("a bar's texts take %d columns, more than the %d of a line mpb cannot size: %q", width, lineWidth, line)
	}
}
