package fetch

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"

	"golang.org/x/sync/errgroup"
)

// statSources asks every source what it holds. The origin's answer (or,
// without a usable origin, the first source's) defines the content; a
// source that disagrees on the size is not used.
func (j *Job) statSources(ctx context.Context) (Meta, error) {
	metas := make([]Meta, len(j.sources))
	ok := make([]bool, len(j.sources))
	var firstErr error
	for i, s := range j.sources {
		j.mu.Lock()
		banned := j.opt.Clock.Now().Before(s.banned)
		j.mu.Unlock()
		if banned {
			continue
		}
		err := j.opt.Retry.Do(ctx, func(ctx context.Context) (bool, error) {
			sctx, cancel := context.WithTimeout(ctx, j.opt.NoProgress)
			defer cancel()
			m, err := s.src.Stat(sctx)
			if err != nil && s.kind != HTTP && len(j.sources) > 1 {
				err = Permanent(err)
			}
			metas[i] = m
			return false, err
		})
		if err != nil {
			if ctx.Err() != nil {
				return Meta{}, ctx.Err()
			}
			j.opt.Logf("fetch: %s: %v", s, err)
			firstErr = cmp(firstErr, err)
			if s.kind != HTTP {
				j.ban(s, j.opt.BanDuration, err)
			}
			continue
		}
		ok[i] = true
	}
	ref := -1
	for i, s := range j.sources {
		if ok[i] && (ref < 0 || (s.kind == HTTP && j.sources[ref].kind != HTTP)) {
			ref = i
		}
	}
	if ref < 0 {
		if firstErr == nil {
			firstErr = ErrNoSource
		}
		return Meta{}, firstErr
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	for i, s := range j.sources {
		s.usable = ok[i] && metas[i].Size == metas[ref].Size
		if ok[i] && !s.usable {
			j.opt.Logf("fetch: %s: size %d, origin says %d: not used", s, metas[i].Size, metas[ref].Size)
		}
	}
	return metas[ref], nil
}

func cmp(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// riskShare: all connections' requests together stay under 1/riskShare of the file.
const riskShare = 64

// transfer runs the workers, the journal flusher and the whole-file hash
// until every piece is done or something fails.
func (j *Job) transfer(ctx context.Context, meta Meta) error {
	conns, chunk, maxChunk := j.opt.connections(), j.opt.ChunkSize, j.opt.MaxChunk
	// What is in flight when the process dies is lost (the server's socket
	// buffers hold up to a request's worth), so requests are capped to keep
	// a crash's cost near 1/riskShare of the file plus a piece per connection.
	maxChunk = min(maxChunk, max(j.opt.PieceSize, meta.Size/int64(conns*riskShare)/j.opt.PieceSize*j.opt.PieceSize))
	chunk = min(chunk, maxChunk)
	if !meta.Ranges {
		// One stream from the start is the best a server without ranges allows.
		conns, chunk, maxChunk = 1, max(meta.Size, j.opt.PieceSize), max(meta.Size, j.opt.PieceSize)
	}
	j.mu.Lock()
	sched := newScheduler(j.pc.missing(), j.opt.PieceSize, conns)
	f := j.f
	j.mu.Unlock()

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stop := make(chan struct{})
	flushed := make(chan error, 1)
	go func() {
		err := j.flusher(stop)
		if err != nil {
			cancel(err)
		}
		flushed <- err
	}()

	g, gctx := errgroup.WithContext(ctx)
	h := sha256.New()
	if j.opt.SHA256 != nil {
		g.Go(func() error { return j.hashPrefix(gctx, f, meta.Size, h) })
	}
	for range conns {
		g.Go(func() error { return j.worker(gctx, sched, chunk, maxChunk) })
	}
	err := g.Wait()
	close(stop)
	if ferr := <-flushed; ferr != nil {
		return ferr
	}
	if err != nil {
		if cerr := context.Cause(ctx); errors.Is(err, context.Canceled) && cerr != nil {
			return cerr
		}
		return err
	}
	if j.opt.SHA256 != nil && !bytes.Equal(h.Sum(nil), j.opt.SHA256) {
		j.mu.Lock()
		_ = j.f.Close()
		j.f = nil
		j.mu.Unlock()
		_ = os.Remove(j.path)
		_ = os.Remove(journalPath(j.path))
		return fmt.Errorf("%w: %s: got %x, want %s (file removed)", ErrChecksum, j.path, h.Sum(nil), hex.EncodeToString(j.opt.SHA256))
	}
	return nil
}
