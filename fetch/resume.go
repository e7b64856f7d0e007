package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/cespare/xxhash/v2"
)

// open opens the target and decides what is already there: the pieces a
// matching journal records and that still hash right. Anything else
// (no journal, another version, fresh) starts from an empty file.
func (j *Job) open(want *journal, fresh bool) error {
	j.mu.Lock()
	if j.f != nil {
		_ = j.f.Close()
		j.f = nil
	}
	j.mu.Unlock()
	f, err := openFile(j.path)
	if err != nil {
		return Permanent(diskErr(err, ""))
	}
	var old *journal
	if !fresh {
		old, err = loadJournal(j.path)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			j.opt.Logf("fetch: %s: ignoring journal: %v", j.path, err)
		}
	}
	pc := newPieces(want.Size, want.PieceSize)
	resumed := old != nil && old.sameContent(want)
	adopted := false
	if !resumed && old == nil && !fresh && j.opt.SHA256 != nil {
		var err error
		if pc, adopted, err = adoptComplete(f, j.path, want, j.opt.SHA256); err != nil {
			_ = f.Close()
			return fmt.Errorf("fetch: %s: checking the file there: %w", j.path, err)
		}
		if adopted {
			j.opt.Logf("fetch: %s: already complete (size and SHA-256 match)", j.path)
		}
	}
	switch {
	case adopted: // every piece recorded: nothing to fetch
	case resumed:
		pc = old.pieces
		if bad, err := rehash(f, pc); err != nil {
			_ = f.Close()
			return fmt.Errorf("fetch: %s: re-checking pieces: %w", j.path, err)
		} else if bad > 0 {
			j.opt.Logf("fetch: %s: %d recorded pieces are damaged and will be fetched again", j.path, bad)
		}
	default:
		if old != nil {
			j.opt.Logf("fetch: %s: the journal is for other content, starting from zero", j.path)
		}
		if err := f.Truncate(0); err != nil {
			_ = f.Close()
			return Permanent(diskErr(err, j.path))
		}
	}
	if err := prepareFile(j.path, f, want.Size); err != nil {
		_ = f.Close()
		return Permanent(err)
	}
	j.mu.Lock()
	j.f, j.pc, j.hdr = f, pc, want
	if j.tap != nil {
		j.tap.drop() // what it holds may be of the content before
	}
	if !j.run.started {
		j.run.started = true
		j.run.AlreadyComplete = pc.completeBytes() == want.Size
	}
	if resumed {
		j.cnt.previous, j.cnt.prevConns = old.Bytes, old.Conns
		j.elapsed += time.Duration(old.Elapsed)
	}
	close(j.prefixCh) // the prefix may have jumped (resume) or dropped (fresh)
	j.prefixCh = make(chan struct{})
	j.mu.Unlock()
	return j.flush(false)
}

// rehash re-reads every recorded piece and forgets those whose checksum
// no longer matches (a torn write, a damaged disk, a file edited by
// hand). The sums of a format-1 journal (xxhash64) are checked as such
// and replaced by pieceSum's.
func rehash(f io.ReaderAt, pc *pieces) (bad int, err error) {
	buf := make([]byte, min(pc.pieceSize, 1<<20))
	h, old := newPieceHash(), xxhash.New()
	var w io.Writer = h
	if pc.legacy {
		w = io.MultiWriter(h, old)
	}
	for i := range pc.count() {
		if !pc.done[i] {
			continue
		}
		off, n := pc.bounds(i)
		h.Reset()
		old.Reset()
		if _, err := io.CopyBuffer(w, io.NewSectionReader(f, off, n), buf); err != nil {
			return bad, err
		}
		sum := uint64(h.Sum32())
		want := sum
		if pc.legacy {
			want = old.Sum64()
		}
		if want != pc.sums[i] {
			pc.clear(i)
			bad++
			continue
		}
		pc.sums[i] = sum
	}
	pc.legacy = false
	return bad, nil
}

// complete records piece i as written with checksum sum (pieceSum).
func (j *Job) complete(i int, sum uint64) {
	j.mu.Lock()
	before := j.pc.first
	j.pc.set(i, sum)
	if j.pc.first != before {
		close(j.prefixCh)
		j.prefixCh = make(chan struct{})
	}
	j.mu.Unlock()
	select {
	case j.dirty <- struct{}{}:
	default:
	}
}

// flush writes the journal now; durable also syncs the file first and
// the journal itself (end of a run).
func (j *Job) flush(durable bool) error {
	j.mu.Lock()
	if j.pc == nil {
		j.mu.Unlock()
		return nil
	}
	jr := *j.hdr
	jr.pieces = j.pc
	for k := range numKinds {
		jr.Bytes[k] = j.cnt.bytesFrom(k)
		jr.Conns[k] = j.cnt.connections(k)
	}
	el := j.elapsed
	if j.running {
		el += j.opt.Clock.Now().Sub(j.started)
	}
	jr.Elapsed = int64(el)
	data, err := jr.encode()
	f := j.f
	j.mu.Unlock()
	if err != nil {
		return err
	}
	if durable && f != nil {
		if err := f.Sync(); err != nil {
			return diskErr(err, j.path)
		}
	}
	return jr.save(j.path, data, durable)
}

// flusher rewrites the journal whenever pieces complete, coalescing: at
// most one write is in flight, and it carries every piece done before it
// started. It returns when stop is closed.
func (j *Job) flusher(stop <-chan struct{}) error {
	for {
		select {
		case <-stop:
			return nil
		case <-j.dirty:
			if err := j.flush(false); err != nil {
				return err
			}
		}
	}
}

// hashPrefix computes the whole-file SHA-256 by following the prefix as
// it grows, so the check costs no extra pass once the download ends.
func (j *Job) hashPrefix(ctx context.Context, f io.ReaderAt, size int64, h io.Writer) error {
	buf := make([]byte, 1<<20)
	var pos int64
	for pos < size {
		changed := j.PrefixChanged()
		p := j.Prefix()
		if p > pos {
			if _, err := io.CopyBuffer(h, io.NewSectionReader(f, pos, p-pos), buf); err != nil {
				return fmt.Errorf("fetch: %s: hashing: %w", j.path, err)
			}
			pos = p
			continue
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}
