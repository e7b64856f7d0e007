package main

import (
	"io"
	"sync/atomic"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// progress is a byte-count progress bar shown only when stdout is a
// terminal and --json is off; otherwise every method is a cheap no-op.
// Add is safe for concurrent use.
type progress struct {
	p   *mpb.Progress
	bar *mpb.Bar
	n   atomic.Int64
}

// newProgress starts a bar for total bytes (0 if unknown) labelled name.
func newProgress(e *env, quiet bool, name string, total int64) *progress {
	pr := &progress{}
	if !e.tty || quiet {
		return pr
	}
	pr.p = newBars(e.stdout)
	// A bar made with total 0 keeps its total adjustable, so Done can
	// complete it at whatever count the work really reached.
	pre, app := barDecorators(name)
	pr.bar = pr.p.AddBar(0, mpb.BarWidth(barWidth), mpb.PrependDecorators(pre...), mpb.AppendDecorators(app...))
	if total > 0 {
		pr.bar.SetTotal(total, false)
	}
	return pr
}

// barWidth is how wide a bar's filler is drawn (its texts aside), at most.
const barWidth = 40

// lineWidth is the width mpb gives a whole line (texts and filler) when it
// cannot read the terminal's (a writer that is not an *os.File, as the
// tests' terminals are). It must hold a bar's texts at their longest, or
// mpb cuts the percentage off; 40, the filler's width, did not, so a bar
// drawn once before its download ended lost its "100 %".
const lineWidth = 80

// newBars is the container every progress bar of the CLI is drawn in,
// writing to w; opts add to its options. Bars added to it take
// mpb.BarWidth(barWidth).
func newBars(w io.Writer, opts ...mpb.ContainerOption) *mpb.Progress {
	return mpb.New(append([]mpb.ContainerOption{mpb.WithOutput(w), mpb.WithWidth(lineWidth)}, opts...)...)
}

// barDecorators are a byte bar's texts: before it the name and the
// counts, after it the speed and the percentage. The percentage is 5 wide
// ("100 %") and padded to 6, so a space always parts it from the speed
// ("3.9 MiB/s 100 %").
func barDecorators(name string) (prepend, append []decor.Decorator) {
	return []decor.Decorator{decor.Name(name + " "), decor.CountersKibiByte("% .1f / % .1f")},
		[]decor.Decorator{averageSpeed(time.Now), decor.Percentage(decor.WC{W: 6})}
}

// averageSpeed is mpb's AverageSpeed (timed by mpb on the real clock),
// except for a bar that ends within one tick of a coarse clock (Windows':
// ~15 ms), where mpb divides by the zero elapsed time and printed
// "-9223372036854775808.0 b/s": the speed is then unknown ("? B/s"). now
// is the clock that tells (time.Now; tests inject one).
func averageSpeed(now func() time.Time) decor.Decorator {
	return &knownSpeed{Decorator: decor.NewAverageSpeed(decor.SizeB1024(0), " % .1f", time.Now()), start: now(), now: now}
}

// knownSpeed guards an average-speed decorator against a zero elapsed time.
type knownSpeed struct {
	decor.Decorator
	start time.Time
	now   func() time.Time
}

func (k *knownSpeed) Decor(s decor.Statistics) (string, int) {
	if k.now().Sub(k.start) <= 0 {
		const unknown = " ? B/s"
		return unknown, len(unknown)
	}
	return k.Decorator.Decor(s)
}

// AverageAdjust moves the start when mpb starts the bar, as it does for
// its own average decorators.
func (k *knownSpeed) AverageAdjust(start time.Time) {
	k.start = start
	if a, ok := k.Decorator.(decor.AverageDecorator); ok {
		a.AverageAdjust(start)
	}
}

// Add records n more bytes done.
func (pr *progress) Add(n int64) {
	pr.n.Add(n)
	if pr.bar != nil {
		pr.bar.IncrInt64(n)
	}
}

// Done ends the bar (completed or not) and waits for it to be drawn.
func (pr *progress) Done() {
	if pr.bar == nil {
		return
	}
	pr.bar.SetTotal(-1, true) // the current count becomes the total: complete
	pr.p.Wait()
}
