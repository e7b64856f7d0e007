package fetch

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"sync"
	"time"
)

// pieceWriter is the io.Writer (and io.ReaderFrom) a Source fills for
// one request. It assembles each piece in a buffer of its own (an HTTP
// body is read straight into it), checks a peer's piece against its
// SHA-256 when the Job has the hashes (a bad piece is never written),
// writes the piece in place with one WriteAt, and records it; a Job's
// PrefixReader then takes the piece from that buffer (the tap) instead
// of reading it back. It counts every byte to the source's kind, paces
// to the rate limit, feeds the no-progress watchdog, and waits, before
// a piece, while the reader is more than a window behind.
type pieceWriter struct {
	j        *Job
	kind     SourceKind
	ctx      context.Context
	watchdog *time.Timer
	idx, end int   // current piece, end of the span
	off      int64 // next file offset expected
	got      int64
	first    time.Time // when the first byte arrived
	verify   bool
	buf      *[]byte // the piece being assembled
	err      error   // sticky: a failure of ours, not the source's
}

// pieceBufs holds piece buffers (*[]byte): see PieceBuffer.
var pieceBufs sync.Pool

// pieceBuf is a buffer of length 0 and capacity at least n from the pool.
func pieceBuf(n int64) *[]byte {
	if b, ok := pieceBufs.Get().(*[]byte); ok && int64(cap(*b)) >= n {
		*b = (*b)[:0]
		return b
	}
	b := make([]byte, 0, n)
	return &b
}

func newPieceWriter(j *Job, kind SourceKind, sp span, ctx context.Context, watchdog *time.Timer) *pieceWriter {
	off, _ := j.pc.bounds(sp.first)
	return &pieceWriter{j: j, kind: kind, ctx: ctx, watchdog: watchdog, idx: sp.first, end: sp.end, off: off,
		verify: kind.IsPeer() && j.opt.PieceHashes != nil}
}

// release returns the piece buffer to the pool.
func (w *pieceWriter) release() {
	if w.buf != nil {
		pieceBufs.Put(w.buf)
		w.buf = nil
	}
}

// PieceBuffer is a buffer of n bytes from the process's one pool of
// piece buffers, shared by the Jobs' writers and PrefixReaders and by
// package peer's servers and swarms, so that a fleet in one process
// needs buffers for the pieces in flight, not for each agent's peak. A
// Source that assembles whole pieces itself takes its buffers here, so
// that handing one over (PieceTaker) keeps the pool whole;
// ReleasePieceBuffer gives back one not handed over.
func PieceBuffer(n int64) *[]byte {
	b := pieceBuf(n)
	*b = (*b)[:n]
	return b
}

// ReleasePieceBuffer returns b to the pool; b must not be used after.
func ReleasePieceBuffer(b *[]byte) { pieceBufs.Put(b) }

// PieceTaker is implemented by the writer a Job gives Source.Fetch. A
// source holding the whole next piece of its range in a PieceBuffer
// hands it over with TakePiece instead of Write: the Job keeps the
// buffer (no copy), whatever TakePiece returns. A buffer that is not
// the whole next piece is written and released.
type PieceTaker interface {
	TakePiece(b *[]byte) error
}

// begin is called before the first byte of the current piece: past the
// span is the source's error; a reader too far behind is waited for,
// with the watchdog stopped, since the source is not the one stalling.
func (w *pieceWriter) begin() error {
	if w.idx >= w.end {
		return fmt.Errorf("fetch: %s source sent more than the %d pieces asked for", w.kind, w.end)
	}
	if t := w.j.currentTap(); t != nil {
		w.watchdog.Stop()
		err := t.admit(w.ctx, w.idx)
		w.watchdog.Reset(w.j.opt.NoProgress)
		if err != nil {
			return err
		}
	}
	return nil
}

// beginWithBuffer is begin, then a buffer for the piece (taken only
// now: a waiting connection holds none).
func (w *pieceWriter) beginWithBuffer() error {
	if err := w.begin(); err != nil {
		return err
	}
	if w.buf == nil {
		w.buf = pieceBuf(w.j.opt.PieceSize)
	}
	return nil
}

// TakePiece is PieceTaker's: b, when it is the whole current piece,
// becomes the piece's buffer.
func (w *pieceWriter) TakePiece(b *[]byte) error {
	if w.err != nil {
		ReleasePieceBuffer(b)
		return w.err
	}
	pieceOff, pieceLen := w.j.pc.bounds(w.idx)
	if w.off != pieceOff || int64(len(*b)) != pieceLen {
		_, err := w.Write(*b)
		ReleasePieceBuffer(b)
		return err
	}
	if err := w.begin(); err != nil {
		w.err = err
		ReleasePieceBuffer(b)
		return err
	}
	if w.buf != nil {
		pieceBufs.Put(w.buf)
	}
	w.buf = b
	if err := w.received(*b); err != nil {
		return err
	}
	w.advance(pieceOff, pieceLen)
	return w.err
}

func (w *pieceWriter) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		if w.err != nil {
			return written, w.err
		}
		pieceOff, pieceLen := w.j.pc.bounds(w.idx)
		if w.off == pieceOff {
			if err := w.beginWithBuffer(); err != nil {
				w.err = err
				return written, err
			}
		}
		take := min(int64(len(p)), pieceOff+pieceLen-w.off)
		if err := w.received(p[:take]); err != nil {
			return written, err
		}
		*w.buf = append(*w.buf, p[:take]...)
		written += int(take)
		p = p[take:]
		w.advance(pieceOff, pieceLen)
	}
	return written, w.err
}

// ReadFrom reads the span from r straight into the piece buffers, until
// the span is whole (then it returns without reading further: the
// source bounds what it hands over) or r ends.
func (w *pieceWriter) ReadFrom(r io.Reader) (int64, error) {
	var total int64
	for w.err == nil && w.idx < w.end {
		pieceOff, pieceLen := w.j.pc.bounds(w.idx)
		if w.off == pieceOff {
			if err := w.beginWithBuffer(); err != nil {
				w.err = err
				break
			}
		}
		want := pieceOff + pieceLen - w.off
		if w.j.limit != nil {
			want = min(want, 64<<10) // paced in small steps
		}
		b := *w.buf
		n, err := r.Read(b[len(b) : len(b)+int(want)])
		if n > 0 {
			if rerr := w.received(b[len(b) : len(b)+n]); rerr != nil {
				return total, rerr
			}
			*w.buf = b[:len(b)+n]
			total += int64(n)
			w.advance(pieceOff, pieceLen)
		}
		if err == io.EOF {
			return total, w.err
		}
		if err != nil {
			return total, err
		}
	}
	return total, w.err
}

// received accounts for b, the next bytes of the current piece: the
// first-byte time, the rate limit, the counters and the watchdog.
func (w *pieceWriter) received(b []byte) error {
	if w.got == 0 {
		w.first = w.j.opt.Clock.Now()
	}
	if err := w.j.limit.Wait(w.ctx, len(b)); err != nil {
		return err
	}
	n := int64(len(b))
	w.j.cnt.from[w.kind].Add(n)
	w.got += n
	w.off += n
	w.watchdog.Reset(w.j.opt.NoProgress)
	return nil
}

// advance finishes the current piece when its last byte is in.
func (w *pieceWriter) advance(pieceOff, pieceLen int64) {
	if w.off == pieceOff+pieceLen {
		w.err = w.finishPiece(pieceOff)
	}
}

// finishPiece verifies (peers, with the Job's hashes), writes, records
// and offers to the tap the piece in w.buf.
func (w *pieceWriter) finishPiece(pieceOff int64) error {
	b := *w.buf
	if w.verify && sha256.Sum256(b) != w.j.opt.PieceHashes[w.idx] {
		return fmt.Errorf("%w: %s piece %d", ErrPieceHash, w.kind, w.idx)
	}
	if _, err := w.j.f.WriteAt(b, pieceOff); err != nil {
		return diskErr(err, "write "+w.j.path)
	}
	sum := pieceSum(b)
	// Offered before it is recorded, so that a reader woken by the
	// longer prefix finds it held.
	if t := w.j.currentTap(); t != nil && t.offer(w.idx, w.buf) {
		w.buf = nil
	} else {
		*w.buf = b[:0]
	}
	w.j.complete(w.idx, sum)
	w.idx++
	return nil
}
