package fetch

import (
	"context"
	"sync"
	"time"
)

// rateLimit paces all workers of a Job together to at most rate bytes per
// second, allowing a burst of a tenth of a second. A nil *rateLimit is
// unlimited.
type rateLimit struct {
	rate  float64
	now   func() time.Time
	sleep func(context.Context, time.Duration) error
	mu    sync.Mutex
	next  time.Time // when the bytes granted so far will have been "sent"
}

func newRateLimit(bytesPerSec int64, now func() time.Time, sleep func(context.Context, time.Duration) error) *rateLimit {
	if bytesPerSec <= 0 {
		return nil
	}
	return &rateLimit{rate: float64(bytesPerSec), now: now, sleep: sleep}
}

// wait blocks until n more bytes may be taken.
func (l *rateLimit) wait(ctx context.Context, n int) error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	now := l.now()
	burst := time.Duration(float64(time.Second) / 10)
	if l.next.Before(now.Add(-burst)) {
		l.next = now.Add(-burst)
	}
	l.next = l.next.Add(time.Duration(float64(n) / l.rate * float64(time.Second)))
	d := l.next.Sub(now)
	l.mu.Unlock()
	if d <= 0 {
		return nil
	}
	return l.sleep(ctx, d)
}
