package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/imepipe/imepipe/imeapi"
)

// ErrPrefixLost: the job started its file again from zero (the content
// changed at the source) after a PrefixReader had read past the new
// prefix; what it read is stale.
var ErrPrefixLost = errors.New("fetch: the download started again from zero")

// ErrEnded: the run ended before the file was complete.
var ErrEnded = errors.New("fetch: the download ended before the file was complete")

// PrefixReader reads a Job's file from the start while the Job writes it,
// never past Prefix: the bytes it returns are final for this run. Read
// blocks until more of the file is complete and returns io.EOF once the
// run has completed the whole file. It lets verification and decryption
// run while the download does; whatever it reads is still only as
// trustworthy as the checks applied to it (the HMAC, or in the peer
// modes the piece hashes, for content).
//
// The first PrefixReader of a Job takes the pieces the Job completes
// from memory, as they arrive (the tap), and reads the file only for
// pieces it did not get that way (those already there when it came);
// while it is open the download stays within a few pieces of it. Close
// it when done, or the download waits for it.
type PrefixReader struct {
	ctx context.Context
	j   *Job
	t   *tap // nil: another reader has the tap
	f   *os.File
	off int64
	mem int64 // bytes taken from the tap
}

// NewPrefixReader returns a reader of the file the job writes. It is
// meant to be made before or while the job runs; ctx ends its waits.
func (j *Job) NewPrefixReader(ctx context.Context) *PrefixReader {
	r := &PrefixReader{ctx: ctx, j: j}
	j.mu.Lock()
	if j.tap == nil {
		j.tap = newTap()
		r.t = j.tap
	}
	j.mu.Unlock()
	return r
}

// FromMemory is how many of the bytes read so far came from the
// download's own buffers rather than from the file.
func (r *PrefixReader) FromMemory() int64 { return r.mem }

func (r *PrefixReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	n, err := r.ready()
	if err != nil {
		return 0, err
	}
	return r.readAt(p[:min(int64(len(p)), n)])
}

// Lend is Read without the copy, for a reader that can work in the
// buffers it is given (decrypt.Lender): it returns the next 1 to max
// bytes, valid until release is called (once; the buffer then goes back
// to the pool). A piece the tap holds is handed over whole from the
// position to the piece's end when that fits in max, without a copy;
// anything else is read as Read does into a buffer from the pool.
func (r *PrefixReader) Lend(max int) (b []byte, release func(), err error) {
	if max <= 0 {
		return nil, func() {}, nil
	}
	n, err := r.ready()
	if err != nil {
		return nil, nil, err
	}
	ps := r.j.opt.PieceSize
	i := int(r.off / ps)
	pieceOff := int64(i) * ps
	if buf := r.t.lendable(i, r.off-pieceOff, max); buf != nil {
		b = (*buf)[r.off-pieceOff:]
		r.mem += int64(len(b))
		r.off += int64(len(b))
		r.t.moveOn(int(r.off / ps))
		return b, func() { ReleasePieceBuffer(buf) }, nil
	}
	buf := PieceBuffer(int64(max))
	m, err := r.readAt((*buf)[:min(int64(max), n)])
	if err != nil {
		ReleasePieceBuffer(buf)
		return nil, nil, err
	}
	return (*buf)[:m], func() { ReleasePieceBuffer(buf) }, nil
}

// ready waits until bytes past r.off are complete and says how many;
// io.EOF once the run completed the whole file and r read it all.
func (r *PrefixReader) ready() (int64, error) {
	for {
		changed := r.j.PrefixChanged()
		prefix, size, running, state := r.j.progress()
		switch {
		case prefix < r.off:
			return 0, fmt.Errorf("%w: %s", ErrPrefixLost, r.j.path)
		case prefix > r.off:
			return prefix - r.off, nil
		case state == imeapi.DOComplete && r.off == size:
			return 0, io.EOF
		case !running && state != imeapi.DOCaching: // a run ended without the whole file
			return 0, fmt.Errorf("%w: %s", ErrEnded, r.j.path)
		}
		select {
		case <-changed:
		case <-r.ctx.Done():
			return 0, r.ctx.Err()
		}
	}
}

// readAt reads complete bytes at r.off into p: from the tap's piece
// when it holds it, else from the file; then moves the tap on.
func (r *PrefixReader) readAt(p []byte) (int, error) {
	ps := r.j.opt.PieceSize
	i := int(r.off / ps)
	var n int
	if b := r.t.pieceOf(i); b != nil {
		n = copy(p, b[r.off-int64(i)*ps:])
		r.mem += int64(n)
	} else {
		if r.f == nil {
			f, err := os.Open(r.j.path)
			if err != nil {
				return 0, fmt.Errorf("fetch: %w", err)
			}
			r.f = f
		}
		var err error
		n, err = r.f.ReadAt(p, r.off)
		if n == 0 {
			if err == io.EOF || err == nil {
				err = io.ErrUnexpectedEOF // shorter than the job says it wrote
			}
			return 0, fmt.Errorf("fetch: %s: %w", r.j.path, err)
		}
	}
	r.off += int64(n)
	r.t.moveOn(int(r.off / ps))
	return n, nil
}

// Close closes the file and the tap: the download no longer waits for
// this reader.
func (r *PrefixReader) Close() error {
	if r.t != nil {
		r.t.close()
		r.j.mu.Lock()
		if r.j.tap == r.t {
			r.j.tap = nil
		}
		r.j.mu.Unlock()
		r.t = nil
	}
	if r.f == nil {
		return nil
	}
	err := r.f.Close()
	r.f = nil
	return err
}

// progress is Prefix, the file's size (known once a run has learnt it),
// whether a run is going on, and the state the last one left.
func (j *Job) progress() (prefix, size int64, running bool, state imeapi.DOStatus) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.pc != nil {
		prefix = j.pc.prefix()
	}
	if j.hdr != nil {
		size = j.hdr.Size
	}
	return prefix, size, j.running, j.state
}
