package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// worker fetches spans until none are left or one fails for good.
func (j *Job) worker(ctx context.Context, sched *scheduler, chunk, maxChunk int64) error {
	sz := sizer{chunk: chunk, max: maxChunk, piece: j.opt.PieceSize}
	for {
		sp, ok := sched.next(sz.chunk)
		if !ok {
			return nil
		}
		if err := j.fill(ctx, sp, &sz); err != nil {
			return err
		}
	}
}

// fill completes span sp, moving between sources: the first usable one
// in order is asked; the origin is retried with backoff, a cache host or
// peer that fails is banned and the next source takes over; a source
// that lacks the pieces is skipped for this span.
func (j *Job) fill(ctx context.Context, sp span, sz *sizer) error {
	var skip map[*sourceState]bool
	var lastErr error
	for sp.first < sp.end {
		s := j.pick(skip)
		if s == nil {
			off, _ := j.pc.bounds(sp.first)
			if lastErr != nil {
				return fmt.Errorf("%w; stopped at byte %d", lastErr, off)
			}
			if why := j.banCause(skip); why != nil {
				// another worker banned the sources: its cause, whichever
				// worker's error the run reports
				return fmt.Errorf("%w: bytes from %d: %w", ErrNoSource, off, why)
			}
			return fmt.Errorf("%w: bytes from %d", ErrNoSource, off)
		}
		err := j.opt.Retry.Do(ctx, func(ctx context.Context) (bool, error) {
			t0 := j.opt.Clock.Now()
			next, w, err := j.attempt(ctx, s, sp)
			progress := next > sp.first
			sp.first = next
			if w.got >= j.opt.PieceSize {
				sz.adapt(w.got, w.first.Sub(t0), j.opt.Clock.Now().Sub(w.first))
			}
			if sp.first >= sp.end {
				// Every piece of the span is written: what failed after the
				// last one (the watchdog firing as it landed, a reset at the
				// end of the body) costs nothing, and a retry would ask for
				// an empty range.
				return true, nil
			}
			if errors.Is(err, ErrNotHave) {
				return progress, Permanent(err) // not a failure: ask another source, do not back off
			}
			if err != nil && s.kind != HTTP && j.hasAlternative(s, skip) {
				err = Permanent(err) // fail over now rather than wait on a cache host or peer
			}
			if err != nil {
				j.opt.Logf("fetch: %s: %v", s, err)
			}
			return progress, err
		})
		if errors.Is(err, ErrPieceHash) && ctx.Err() == nil {
			// Banned for good before its connection is released, so that
			// no other worker asks it for a piece in between.
			j.ban(s, 100*365*24*time.Hour, err)
		}
		j.release(s)
		if err == nil {
			continue
		}
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, ErrChanged), errors.Is(err, ErrDiskFull):
			return err
		case errors.Is(err, ErrNotHave):
			if skip == nil {
				skip = map[*sourceState]bool{}
			}
			skip[s] = true
		case errors.Is(err, ErrPieceHash): // banned above
		default:
			j.ban(s, j.opt.BanDuration, err)
		}
		lastErr = err
	}
	return nil
}

// sizer sizes one connection's requests so that waiting for the first
// byte costs about 1/ttfbFactor of each: ttfbFactor × the connection's
// lowest time to first byte (its round trip, without scheduling noise) at
// its throughput, in whole pieces, between one piece and max, moving
// halfway from the last size. On loopback or a LAN requests stay near a
// piece, so little is in flight (and lost) when the process dies; on a
// long-haul link they grow to tens of MiB.
type sizer struct {
	chunk, max, piece int64
	minTTFB           time.Duration
}

const ttfbFactor = 16

func (z *sizer) adapt(got int64, ttfb, transfer time.Duration) {
	if transfer <= 0 || ttfb < 0 {
		return
	}
	if z.minTTFB == 0 || ttfb < z.minTTFB {
		z.minTTFB = ttfb
	}
	rate := float64(got) / (ttfb + transfer).Seconds() // not inflated by bytes already buffered
	target := int64(rate * ttfbFactor * z.minTTFB.Seconds())
	next := (z.chunk + target) / 2 / z.piece * z.piece
	z.chunk = min(max(next, z.piece), z.max)
}

// attempt makes one request for the pieces of sp on s. It returns the
// first piece still missing and the writer (bytes received, first-byte time). A request that
// delivers nothing for Options.NoProgress is cancelled (ErrNoProgress).
func (j *Job) attempt(ctx context.Context, s *sourceState, sp span) (next int, w *pieceWriter, err error) {
	off, _ := j.pc.bounds(sp.first)
	lastOff, lastN := j.pc.bounds(sp.end - 1)
	n := lastOff + lastN - off

	actx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	watchdog := time.AfterFunc(j.opt.NoProgress, func() { cancel(ErrNoProgress) })
	defer watchdog.Stop()

	w = newPieceWriter(j, s.kind, sp, actx, watchdog)
	j.cnt.open(s.kind)
	_, err = s.src.Fetch(actx, off, n, w)
	j.cnt.close(s.kind)
	w.release()
	switch {
	case w.err != nil: // the writer's own failure (disk, bad piece) explains the rest
		err = w.err
	case ctx.Err() == nil && errors.Is(context.Cause(actx), ErrNoProgress):
		err = fmt.Errorf("%w: %s: nothing received for %v", ErrNoProgress, s, j.opt.NoProgress)
	case err == nil && w.idx < sp.end:
		err = fmt.Errorf("fetch: %s: source stopped at byte %d of %d: %w", s, w.off, off+n, io.ErrUnexpectedEOF)
	}
	return w.idx, w, err
}

// pick reserves the first usable source in order that is not skipped,
// not banned and below its connection limit; if all are at their limit,
// the first one anyway. Nil when none is usable.
func (j *Job) pick(skip map[*sourceState]bool) *sourceState {
	j.mu.Lock()
	defer j.mu.Unlock()
	now := j.opt.Clock.Now()
	var full *sourceState
	for _, s := range j.sources {
		if !s.usable || skip[s] || now.Before(s.banned) {
			continue
		}
		if s.active < s.maxConns {
			s.active++
			return s
		}
		if full == nil {
			full = s
		}
	}
	if full != nil {
		full.active++
	}
	return full
}

// banCause is why the first usable source pick passed over for being
// banned is banned (nil when none is): the cause of ErrNoSource.
func (j *Job) banCause(skip map[*sourceState]bool) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	now := j.opt.Clock.Now()
	for _, s := range j.sources {
		if s.usable && !skip[s] && now.Before(s.banned) {
			return s.why
		}
	}
	return nil
}

func (j *Job) release(s *sourceState) {
	j.mu.Lock()
	s.active--
	j.mu.Unlock()
}

// hasAlternative reports whether a source other than s could serve.
func (j *Job) hasAlternative(s *sourceState, skip map[*sourceState]bool) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	now := j.opt.Clock.Now()
	for _, o := range j.sources {
		if o != s && o.usable && !skip[o] && !now.Before(o.banned) {
			return true
		}
	}
	return false
}

func (j *Job) ban(s *sourceState, d time.Duration, why error) {
	j.mu.Lock()
	s.banned, s.why = j.opt.Clock.Now().Add(d), why
	j.mu.Unlock()
	j.opt.Logf("fetch: %s: banned for %v: %v", s, d, why)
}
