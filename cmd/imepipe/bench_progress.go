package main

import (
	"fmt"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// benchProgress shows a benchmark's timed runs: on a terminal (stderr,
// where its log goes) a bar of runs done, with the log lines printed
// above it; elsewhere the plain log lines. It does not touch stdout,
// which holds the report.
type benchProgress struct {
	e   *env
	p   *mpb.Progress
	bar *mpb.Bar
}

// newBenchProgress starts the bar labelled name when stderr is a
// terminal and bar is true (no --json).
func newBenchProgress(e *env, name string, bar bool) *benchProgress {
	b := &benchProgress{e: e}
	if !e.errTTY || !bar {
		return b
	}
	// Auto refresh: e.errTTY said stderr is a terminal; mpb would not
	// redraw for a writer it cannot see is one (tests).
	b.p = newBars(e.stderr, mpb.WithAutoRefresh())
	b.bar = b.p.AddBar(0, mpb.BarWidth(barWidth),
		mpb.PrependDecorators(decor.Name(name+" "), decor.CountersNoUnit("%d / %d runs")),
		mpb.AppendDecorators(decor.Elapsed(decor.ET_STYLE_GO, decor.WC{W: 6}), decor.Percentage(decor.WC{W: 6})),
	)
	return b
}

// Logf prints one log line: above the bar, or on stderr.
func (b *benchProgress) Logf(format string, a ...any) {
	line := fmt.Sprintf("bench: "+format+"\n", a...)
	if b.p != nil {
		if _, err := b.p.Write([]byte(line)); err == nil {
			return
		}
	}
	fmt.Fprint(b.e.stderr, line)
}

// Step records done of total runs (the bench packages' Step hook).
func (b *benchProgress) Step(done, total int) {
	if b.bar == nil {
		return
	}
	b.bar.SetCurrent(int64(done))
	b.bar.SetTotal(int64(total), done >= total) // the last run completes the bar
}

// Done ends the bar, complete or not, and waits for it to be drawn.
func (b *benchProgress) Done() {
	if b.bar == nil {
		return
	}
	if !b.bar.Completed() {
		b.bar.Abort(false)
	}
	b.p.Wait()
}
