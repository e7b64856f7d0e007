package fetch

import (
	"context"
	"io"
	"sync"
	"time"
)

// Pacer paces its callers together to at most a rate in bytes per second,
// allowing a burst of a tenth of a second. A nil *Pacer does not limit. It
// is safe for concurrent use: a Job's workers share one for --max-rate and
// background priority, the peer server one for its upload cap, the fleet
// benchmark one for its emulated internet link.
type Pacer struct {
	rate  float64
	now   func() time.Time
	sleep func(context.Context, time.Duration) error
	mu    sync.Mutex
	next  time.Time // when the bytes granted so far will have been "sent"
}

// NewPacer returns a Pacer for bytesPerSec, or nil (no limit) when it is
// not positive. now and sleep are the clock (nil: the real one).
func NewPacer(bytesPerSec int64, now func() time.Time, sleep func(context.Context, time.Duration) error) *Pacer {
	if bytesPerSec <= 0 {
		return nil
	}
	if now == nil {
		now = time.Now
	}
	if sleep == nil {
		sleep = sleepCtx
	}
	return &Pacer{rate: float64(bytesPerSec), now: now, sleep: sleep}
}

// Wait blocks until n more bytes may go.
func (p *Pacer) Wait(ctx context.Context, n int) error {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	now := p.now()
	if floor := now.Add(-time.Second / 10); p.next.Before(floor) {
		p.next = floor
	}
	p.next = p.next.Add(time.Duration(float64(n) / p.rate * float64(time.Second)))
	d := p.next.Sub(now)
	p.mu.Unlock()
	if d <= 0 {
		return nil
	}
	return p.sleep(ctx, d)
}

// Writer returns w paced by p, in slices of at most 64 KiB.
func (p *Pacer) Writer(ctx context.Context, w io.Writer) io.Writer {
	if p == nil {
		return w
	}
	return pacedWriter{ctx: ctx, w: w, p: p}
}

type pacedWriter struct {
	ctx context.Context
	w   io.Writer
	p   *Pacer
}

func (pw pacedWriter) Write(b []byte) (int, error) {
	done := 0
	for len(b) > 0 {
		n := min(len(b), 64<<10)
		if err := pw.p.Wait(pw.ctx, n); err != nil {
			return done, err
		}
		m, err := pw.w.Write(b[:n])
		done += m
		if err != nil {
			return done, err
		}
		b = b[n:]
	}
	return done, nil
}
