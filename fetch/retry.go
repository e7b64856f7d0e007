package fetch

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// Retry is the one retry policy for every source (HTTP, cache, peers):
// it backs off between attempts, honours a server's Retry-After, stops at
// once on a permanent error, and gives up when ctx is done.
type Retry struct {
	// Attempts is how many consecutive failures without progress are
	// tolerated before giving up (default 8).
	Attempts int
	// Backoff is the pause before retry number attempt (1-based); default
	// exponential from 250 ms, capped at 30 s, with ±25 % jitter.
	Backoff func(attempt int) time.Duration
	// MaxRetryAfter caps a server's Retry-After (default 5 min).
	MaxRetryAfter time.Duration
	// Sleep waits d or until ctx is done (default: a timer). Tests inject
	// one that records d and returns at once.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now reads the clock that times the attempts for ExhaustedError
	// (default: a Job's Options.Clock; time.Now for Do on its own).
	Now func() time.Time
	// Notify, when set, hears of each failure Do will retry, before the
	// pause: the error, the number of the attempt to come, Attempts, and
	// the pause. Do calls it on its own goroutine, and a Job runs Do on
	// several at once (one per connection), so it must be safe for
	// concurrent use. Nil: Do is silent.
	Notify func(err error, attempt, attempts int, pause time.Duration)
}

// ExhaustedError is Do's error when the attempts ran out: the last
// failure (Err, which errors.Is and errors.As see through), how many
// attempts failed in a row and the time from the first to the last.
type ExhaustedError struct {
	Err      error
	Attempts int
	Elapsed  time.Duration
}

func (e *ExhaustedError) Error() string {
	return fmt.Sprintf("%v (%d attempts over %v)", e.Err, e.Attempts, RoundDuration(e.Elapsed))
}

func (e *ExhaustedError) Unwrap() error { return e.Err }

// RoundDuration rounds d for a message: to the second from 10 s, to
// 100 ms from 1 s, to the millisecond below.
func RoundDuration(d time.Duration) time.Duration {
	switch {
	case d >= 10*time.Second:
		return d.Round(time.Second)
	case d >= time.Second:
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Millisecond)
}

func (r Retry) withDefaults() Retry {
	if r.Attempts <= 0 {
		r.Attempts = 8
	}
	if r.Backoff == nil {
		r.Backoff = DefaultBackoff
	}
	if r.MaxRetryAfter <= 0 {
		r.MaxRetryAfter = 5 * time.Minute
	}
	if r.Sleep == nil {
		r.Sleep = sleepCtx
	}
	if r.Now == nil {
		r.Now = time.Now
	}
	return r
}

// DefaultBackoff is 250 ms × 2^(attempt-1), capped at 30 s, ±25 % jitter.
func DefaultBackoff(attempt int) time.Duration {
	d := 250 * time.Millisecond << min(attempt-1, 7)
	d = min(d, 30*time.Second)
	return d*3/4 + rand.N(d/2+1)
}

// Pause returns how long to wait before retry number attempt after err.
func (r Retry) Pause(attempt int, err error) time.Duration {
	d := r.Backoff(attempt)
	var ra *RetryAfterError
	if errors.As(err, &ra) {
		d = max(d, min(ra.After, r.MaxRetryAfter))
	}
	return d
}

// Do runs op until it succeeds, fails permanently, or has failed
// Attempts times in a row; op reports whether it made progress, which
// resets the count. The last error is returned, as an *ExhaustedError
// when more than one attempt ran out.
func (r Retry) Do(ctx context.Context, op func(ctx context.Context) (progress bool, err error)) error {
	r = r.withDefaults()
	fails := 0
	var first time.Time // of the current run of failures
	for {
		start := r.Now()
		progress, err := op(ctx)
		if err == nil {
			return nil
		}
		if IsPermanent(err) || ctx.Err() != nil {
			return err
		}
		if progress {
			fails = 0
		}
		if fails == 0 {
			first = start
		}
		fails++
		if fails >= r.Attempts {
			if fails == 1 {
				return err
			}
			return &ExhaustedError{Err: err, Attempts: fails, Elapsed: r.Now().Sub(first)}
		}
		pause := r.Pause(fails, err)
		if r.Notify != nil {
			r.Notify(err, fails+1, r.Attempts, pause)
		}
		if serr := r.Sleep(ctx, pause); serr != nil {
			return err
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
