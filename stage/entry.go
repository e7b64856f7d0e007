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

	"github.com/klauspost/compress/flate"
)

const (
	copyBufSize = 256 << 10 // per worker: decompressed bytes per write
	readBufSize = 64 << 10  // per worker: compressed bytes per read
)

// worker holds one extraction goroutine's reusable state: a copy buffer, a
// read buffer over the entry's own section of the ZIP, and a Deflate
// decompressor. Package klauspost/compress/flate is used directly (rather
// than registered with archive/zip) so that one decompressor is reset per
// entry instead of allocated, and so that size and CRC are checked here,
// always (archive/zip skips the CRC check when the stored CRC is 0).
type worker struct {
	buf []byte
	br  *bufio.Reader
	fl  io.ReadCloser
}

var workerPool = sync.Pool{New: func() any {
	return &worker{buf: make([]byte, copyBufSize), br: bufio.NewReaderSize(nil, readBufSize)}
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
	w.br.Reset(raw)
	if w.fl == nil {
		w.fl = flate.NewReader(w.br)
		return w.fl, nil
	}
	if err := w.fl.(flate.Resetter).Reset(w.br, nil); err != nil {
		return nil, err
	}
	return w.fl, nil
}

// file extracts one regular file, checking its size and CRC-32.
func (x *extractor) file(ctx context.Context, w *worker, e *fileEntry) error {
	corrupt := func(format string, a ...any) error {
		return fmt.Errorf("stage: entry %q: %s: %w", e.f.Name, fmt.Sprintf(format, a...), ErrCorrupt)
	}
	src, err := w.source(e.f, x.size)
	if err != nil {
		return corrupt("%v", err)
	}
	p := x.path(e.name)
	out, err := createFile(p, e.perm)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("stage: entry %q: collides with another entry: %w", e.f.Name, ErrUnsafePath)
		}
		return fmt.Errorf("stage: entry %q: %w", e.f.Name, err)
	}
	var (
		n   uint64
		crc uint32
	)
	for {
		if err := ctx.Err(); err != nil {
			out.Close()
			return fmt.Errorf("stage: %w", err)
		}
		m, rerr := fill(src, w.buf)
		if m > 0 {
			n += uint64(m)
			if n > e.size {
				out.Close()
				return corrupt("more data than the declared %d bytes", e.size)
			}
			crc = crc32.Update(crc, crc32.IEEETable, w.buf[:m])
			if _, err := out.Write(w.buf[:m]); err != nil {
				out.Close()
				return fmt.Errorf("stage: entry %q: %w", e.f.Name, err)
			}
			if x.opt.Progress != nil {
				x.opt.Progress(int64(m))
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			out.Close()
			return corrupt("%v", rerr)
		}
	}
	switch {
	case n != e.size:
		out.Close()
		return corrupt("%d bytes, declared %d", n, e.size)
	case crc != e.f.CRC32:
		out.Close()
		return corrupt("CRC-32 %08x, declared %08x", crc, e.f.CRC32)
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
