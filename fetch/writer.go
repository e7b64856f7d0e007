package fetch

import (
	"context"
	"crypto/sha256"
	"fmt"
	"sync"
	"time"

	"github.com/cespare/xxhash/v2"
)

// pieceWriter is the io.Writer a Source fills for one request. It writes
// bytes in place (WriteAt), hashes each piece as it passes, and records a
// piece once all of it is written. Bytes from a peer are held until the
// piece is whole and checked against its SHA-256; a bad piece is never
// written. It counts every byte to the source's kind, paces to the rate
// limit, and feeds the no-progress watchdog.
type pieceWriter struct {
	j        *Job
	kind     SourceKind
	ctx      context.Context
	watchdog *time.Timer
	idx, end int   // current piece, end of the span
	off      int64 // next file offset expected
	got      int64
	first    time.Time // when the first byte arrived
	digest   *xxhash.Digest
	verify   bool
	buf      *[]byte // the piece being assembled when verifying
	err      error   // sticky: a failure of ours, not the source's
}

var pieceBufs sync.Pool

func newPieceWriter(j *Job, kind SourceKind, sp span, ctx context.Context, watchdog *time.Timer) *pieceWriter {
	off, _ := j.pc.bounds(sp.first)
	w := &pieceWriter{j: j, kind: kind, ctx: ctx, watchdog: watchdog, idx: sp.first, end: sp.end, off: off, digest: xxhash.New()}
	if kind.IsPeer() && j.opt.PieceHashes != nil {
		w.verify = true
		if b, ok := pieceBufs.Get().(*[]byte); ok && int64(cap(*b)) >= j.opt.PieceSize {
			w.buf = b
		} else {
			b := make([]byte, 0, j.opt.PieceSize)
			w.buf = &b
		}
		*w.buf = (*w.buf)[:0]
	}
	return w
}

// release returns the piece buffer to the pool.
func (w *pieceWriter) release() {
	if w.buf != nil {
		pieceBufs.Put(w.buf)
		w.buf = nil
	}
}

func (w *pieceWriter) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if w.got == 0 && len(p) > 0 {
		w.first = w.j.opt.Clock.Now()
	}
	written := 0
	for len(p) > 0 {
		if w.idx >= w.end {
			w.err = fmt.Errorf("fetch: %s source sent more than the %d pieces asked for", w.kind, w.end)
			return written, w.err
		}
		pieceOff, pieceLen := w.j.pc.bounds(w.idx)
		take := min(int64(len(p)), pieceOff+pieceLen-w.off)
		b := p[:take]
		if err := w.j.limit.Wait(w.ctx, len(b)); err != nil {
			return written, err
		}
		w.j.cnt.from[w.kind].Add(take)
		w.got += take
		if w.verify {
			*w.buf = append(*w.buf, b...)
		} else {
			if _, err := w.j.f.WriteAt(b, w.off); err != nil {
				w.err = diskErr(err, "write "+w.j.path)
				return written, w.err
			}
			_, _ = w.digest.Write(b)
		}
		w.off += take
		written += int(take)
		p = p[take:]
		w.watchdog.Reset(w.j.opt.NoProgress)
		if w.off == pieceOff+pieceLen {
			if err := w.finishPiece(pieceOff); err != nil {
				w.err = err
				return written, err
			}
		}
	}
	return written, nil
}

// finishPiece verifies (peers), writes (peers) and records the piece.
func (w *pieceWriter) finishPiece(pieceOff int64) error {
	if w.verify {
		if sha256.Sum256(*w.buf) != w.j.opt.PieceHashes[w.idx] {
			return fmt.Errorf("%w: %s piece %d", ErrPieceHash, w.kind, w.idx)
		}
		if _, err := w.j.f.WriteAt(*w.buf, pieceOff); err != nil {
			return diskErr(err, "write "+w.j.path)
		}
		_, _ = w.digest.Write(*w.buf)
		*w.buf = (*w.buf)[:0]
	}
	w.j.complete(w.idx, w.digest.Sum64())
	w.digest.Reset()
	w.idx++
	return nil
}
