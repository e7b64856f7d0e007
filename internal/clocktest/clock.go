// Package clocktest is a manual clock for tests: Now returns a fixed time
// that only Advance moves, and After's channels fire when Advance reaches
// their deadline, so retry gaps, GRS windows, expiries, refresh intervals
// and waits are tested without sleeping. It is safe for concurrent use.
package clocktest

import (
	"context"
	"sync"
	"time"
)

// Clock is a manually advanced clock.
type Clock struct {
	mu      sync.Mutex
	t       time.Time
	waiters []waiter
}

type waiter struct {
	at time.Time
	ch chan time.Time
}

// New returns a clock that reads t until advanced.
func New(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// After returns a channel that receives the clock's time once Advance
// has moved it d past now (at once when d <= 0).
func (c *Clock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.t
		return ch
	}
	c.waiters = append(c.waiters, waiter{at: c.t.Add(d), ch: ch})
	return ch
}

// Waiters is how many After channels have not fired yet (a test waits
// for a goroutine to be waiting before it advances the clock).
func (c *Clock) Waiters() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.waiters)
}

// Advance moves the clock forward by d and fires the After channels
// whose deadline it reached.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if w.at.After(c.t) {
			kept = append(kept, w)
			continue
		}
		w.ch <- c.t
	}
	c.waiters = kept
	c.mu.Unlock()
}

// Sleep is a pause on the clock: it moves the clock forward by d and
// returns at once, unless ctx is done (a stand-in for a retry policy's
// sleep, so that its elapsed time is the sum of its pauses).
func (c *Clock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.Advance(d)
	return nil
}

// Func is a clock that reads now (a test's own sequence of times); its
// After waits real time, for tests whose waits are not what they test.
type Func func() time.Time

// Now calls f.
func (f Func) Now() time.Time { return f() }

// After is time.After.
func (Func) After(d time.Duration) <-chan time.Time { return time.After(d) }
