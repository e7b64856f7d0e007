package stage

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"sync"
)

const (
	copyBufSize = 256 << 10 // per worker: decompressed bytes per write
	readBufSize = 64 << 10  // per worker: compressed bytes per read
)

// worker holds one extraction goroutine's reusable state: a copy buffer, a
// read buffer over the entry's own section of the ZIP, and two Deflate
// decompressors: internal/inflate for entries read whole, klauspost's
// flate for streamed ones. Both are used directly (rather than registered
// with archive/zip) so that one decompressor is reset per entry instead of
// allocated, and so that size and CRC are checked here, always
// (archive/zip skips the CRC check when the stored CRC is 0).
type worker struct {
	buf   []byte
	br    *bufio.Reader
	small []byte       // compressed data of an entry inflated whole
	whole whole        // inflates it
	sr    bytes.Reader // over what it inflated to
	z     inflater
}

var workerPool = sync.Pool{New: func() any {
	return &worker{
		buf:   make([]byte, copyBufSize),
		br:    bufio.NewReaderSize(nil, readBufSize),
		small: make([]byte, 0, readBufSize),
	}
}}

func newWorker() *worker { return workerPool.Get().(*worker) }

func (w *worker) release() {
	w.br.Reset(nil)
	workerPool.Put(w)
}

// source returns the decompressed stream of f, whose compressed data must
// lie within the first size bytes of the archive.
func (w *worker) source(f *zip.File, size int64) (io.Reader, error) {
	raw, err := f.OpenRaw()
	if err != nil {
		return nil, err
	}
	if sr, ok := raw.(*io.SectionReader); ok {
		if _, off, n := sr.Outer(); off < 0 || n < 0 || off > size || n > size-off {
			return nil, fmt.Errorf("data of %d bytes at offset %d past the end of the archive", n, off)
		}
	}
	if f.Method == zip.Store {
		return raw, nil
	}
	// Entries up to wholeMax are read in one go and inflated whole; the
	// rest stream through the read buffer.
	if fits(f.CompressedSize64, f.UncompressedSize64) {
		if uint64(cap(w.small)) < f.CompressedSize64 {
			w.small = make([]byte, f.CompressedSize64)
		}
		w.small = w.small[:f.CompressedSize64]
		if _, err := io.ReadFull(raw, w.small); err != nil {
			return nil, err
		}
		plain, err := w.whole.inflate(w.small, int(f.UncompressedSize64))
		if err != nil {
			return nil, err
		}
		w.sr.Reset(plain)
		return &w.sr, nil
	}
	var in flateSource = w.br
	w.br.Reset(raw)
	w.z.reset(in, true)
	return &w.z, nil
}

// file extracts one regular file, checking its size and CRC-32.
func (x *extractor) file(ctx context.Context, w *worker, e *fileEntry) error {
	src, err := w.source(e.f, x.size)
	if err != nil {
		return e.corrupt("%v", err)
	}
	p := x.path(e.name)
	out, err := createFile(p, e.perm, e.size)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("stage: entry %q: collides with another entry: %w", e.f.Name, ErrUnsafePath)
		}
		return fmt.Errorf("stage: entry %q: %w", e.f.Name, err)
	}
	var n uint64
	var crc uint32
	if wt, ok := src.(io.WriterTo); ok && e.size < pipeMin {
		n, crc, err = x.writeTo(ctx, out, wt, e)
	} else if e.size >= pipeMin {
		n, crc, err = copyPiped(ctx, out, src, e.f.Name, e.size, x.opt.Progress)
	} else {
		n, crc, err = x.copy(ctx, w.buf, out, src, e)
	}
	if err != nil {
		out.Close()
		return err
	}
	switch {
	case n != e.size:
		out.Close()
		return e.corrupt("%d bytes, declared %d", n, e.size)
	case crc != e.f.CRC32:
		out.Close()
		return e.corrupt("CRC-32 %08x, declared %08x", crc, e.f.CRC32)
	}
	if x.opt.Sync {
		if err := out.Sync(); err != nil {
			out.Close()
			return fmt.Errorf("stage: entry %q: %w", e.f.Name, err)
		}
	}
	if !e.mtime.IsZero() {
		if err := out.SetModTime(e.mtime); err != nil {
			out.Close()
			return fmt.Errorf("stage: entry %q: %w", e.f.Name, err)
		}
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("stage: entry %q: %w", e.f.Name, err)
	}
	return nil
}

// copy streams src into out through buf, returning the bytes and their
// CRC-32; more bytes than e declares is an error at once.
func (x *extractor) copy(ctx context.Context, buf []byte, out io.Writer, src io.Reader, e *fileEntry) (uint64, uint32, error) {
	var n uint64
	var crc uint32
	for {
		if err := ctx.Err(); err != nil {
			return n, crc, fmt.Errorf("stage: %w", err)
		}
		m, rerr := fill(src, buf)
		if m > 0 {
			n += uint64(m)
			if n > e.size {
				return n, crc, e.corrupt("more data than the declared %d bytes", e.size)
			}
			crc = crc32.Update(crc, crc32.IEEETable, buf[:m])
			if _, err := out.Write(buf[:m]); err != nil {
				return n, crc, fmt.Errorf("stage: entry %q: %w", e.f.Name, err)
			}
			if x.opt.Progress != nil {
				x.opt.Progress(int64(m))
			}
		}
		if rerr == io.EOF {
			return n, crc, nil
		}
		if rerr != nil {
			return n, crc, e.corrupt("%v", rerr)
		}
	}
}

// writeTo lets the decompressor write straight from its window into out
// (no copy through a buffer), checking size and CRC-32 on the way.
func (x *extractor) writeTo(ctx context.Context, out io.Writer, src io.WriterTo, e *fileEntry) (uint64, uint32, error) {
	s := &sink{ctx: ctx, out: out, e: e, progress: x.opt.Progress}
	_, err := src.WriteTo(s)
	switch {
	case s.err != nil:
		return s.n, s.crc, s.err
	case err != nil:
		return s.n, s.crc, e.corrupt("%v", err)
	}
	return s.n, s.crc, nil
}

// sink is the io.Writer of writeTo; its first error is kept in err.
type sink struct {
	ctx      context.Context
	out      io.Writer
	e        *fileEntry
	progress func(int64)
	n        uint64
	crc      uint32
	err      error
}

func (s *sink) Write(p []byte) (int, error) {
	switch {
	case s.err != nil:
	case s.ctx.Err() != nil:
		s.err = fmt.Errorf("stage: %w", s.ctx.Err())
	case s.n+uint64(len(p)) > s.e.size:
		s.err = s.e.corrupt("more data than the declared %d bytes", s.e.size)
	default:
		s.crc = crc32.Update(s.crc, crc32.IEEETable, p)
		if _, err := s.out.Write(p); err != nil {
			s.err = fmt.Errorf("stage: entry %q: %w", s.e.f.Name, err)
			break
		}
		s.n += uint64(len(p))
		if s.progress != nil {
			s.progress(int64(len(p)))
		}
		return len(p), nil
	}
	return 0, s.err
}

func (e *fileEntry) corrupt(format string, a ...any) error {
	return fmt.Errorf("stage: entry %q: %s: %w", e.f.Name, fmt.Sprintf(format, a...), ErrCorrupt)
}

// fill reads into buf until it is full or src ends. Unlike io.ReadFull it
// reports the end as io.EOF only when src did, so a truncated Deflate
// stream (io.ErrUnexpectedEOF from the decompressor) stays an error.
func fill(src io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := src.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
