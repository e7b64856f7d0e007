package stage

import (
	"archive/zip"
	"bufio"
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
// read buffer over the entry's own section of the ZIP, and Deflate
// decompressors from internal/inflate: one for entries read whole, one for
// streamed ones (see inflater). They are used directly (rather than
// registered with archive/zip) so that they are reset per entry instead of
// allocated, and so that size and CRC are checked here, always
// (archive/zip skips the CRC check when the stored CRC is 0).
type worker struct {
	buf   []byte
	br    *bufio.Reader
	small []byte // compressed data of an entry inflated whole
	whole whole  // inflates it
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

// raw returns f's compressed data, which must lie within the first size
// bytes of the archive.
func raw(f *zip.File, size int64) (io.Reader, error) {
	r, err := f.OpenRaw()
	if err != nil {
		return nil, err
	}
	if sr, ok := r.(*io.SectionReader); ok {
		if _, off, n := sr.Outer(); off < 0 || n < 0 || off > size || n > size-off {
			return nil, fmt.Errorf("data of %d bytes at offset %d past the end of the archive", n, off)
		}
	}
	return r, nil
}

// source returns the decompressed stream of f.
func (w *worker) source(f *zip.File, size int64) (io.Reader, error) {
	r, err := raw(f, size)
	if err != nil || f.Method == zip.Store {
		return r, err
	}
	w.br.Reset(r)
	w.z.reset(w.br, true)
	return &w.z, nil
}

// readWhole reads and inflates the data of f (fits(f)) into dst, which
// has room for its declared size plus wholeSlack, and returns it.
func (w *worker) readWhole(f *zip.File, size int64, dst []byte) ([]byte, error) {
	r, err := raw(f, size)
	if err != nil {
		return nil, err
	}
	if f.Method == zip.Store {
		if f.CompressedSize64 != f.UncompressedSize64 {
			return nil, fmt.Errorf("stored entry of %d bytes declares %d", f.CompressedSize64, f.UncompressedSize64)
		}
		n, err := io.ReadFull(r, dst[:f.CompressedSize64])
		return dst[:n], err
	}
	if uint64(cap(w.small)) < f.CompressedSize64 {
		w.small = make([]byte, f.CompressedSize64)
	}
	w.small = w.small[:f.CompressedSize64]
	if _, err := io.ReadFull(r, w.small); err != nil {
		return nil, err
	}
	return w.whole.inflateInto(dst, w.small, int(f.UncompressedSize64))
}

// file extracts one regular file, checking its size and CRC-32. Entries
// that fit in memory are read and inflated here and handed to the
// creator; the rest are streamed into their file here.
func (x *extractor) file(ctx context.Context, w *worker, e *fileEntry) error {
	if fits(e.f.CompressedSize64, e.size) {
		return x.handOff(ctx, w, e)
	}
	if err := x.dir(e.parent); err != nil {
		return err
	}
	src, err := w.source(e.f, x.size)
	if err != nil {
		return e.corrupt("%v", err)
	}
	out, err := x.create(e)
	if err != nil {
		return err
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
	if err == nil {
		err = e.check(n, crc)
	}
	if err != nil {
		out.Close()
		return err
	}
	return x.finish(out, e)
}

// create creates e's file.
func (x *extractor) create(e *fileEntry) (*outFile, error) {
	out, err := createFile(x.path(e.name), e.perm, e.size)
	switch {
	case errors.Is(err, fs.ErrExist):
		return nil, fmt.Errorf("stage: entry %s: collides with another entry: %w", quoteName(e.f.Name), ErrUnsafePath)
	case err != nil:
		return nil, entryErr(e.f.Name, err)
	}
	return out, nil
}

// check compares what was extracted with what e declares.
func (e *fileEntry) check(n uint64, crc uint32) error {
	switch {
	case n != e.size:
		return e.corrupt("%d bytes, declared %d", n, e.size)
	case crc != e.f.CRC32:
		return e.corrupt("CRC-32 %08x, declared %08x", crc, e.f.CRC32)
	}
	return nil
}

// finish syncs (with Options.Sync), dates and closes a written file.
func (x *extractor) finish(out *outFile, e *fileEntry) error {
	if x.opt.Sync {
		if err := out.Sync(); err != nil {
			out.Close()
			return entryErr(e.f.Name, err)
		}
	}
	if !e.mtime.IsZero() {
		if err := out.SetModTime(e.mtime); err != nil {
			out.Close()
			return entryErr(e.f.Name, err)
		}
	}
	if err := out.Close(); err != nil {
		return entryErr(e.f.Name, err)
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
				return n, crc, entryErr(e.f.Name, err)
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
			s.err = entryErr(s.e.f.Name, err)
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
	return fmt.Errorf("stage: entry %s: %s: %w", quoteName(e.f.Name), fmt.Sprintf(format, a...), ErrCorrupt)
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
