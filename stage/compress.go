package stage

import (
	"bytes"
	"context"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"sync"

	"github.com/klauspost/compress/flate"
)

const (
	smallFile   = 1 << 20   // files up to this size are read whole and compressed in memory
	spillMax    = 2 << 20   // compressed bytes of one entry kept in memory, at most, before spilling to a temp file
	spillMin    = 256 << 10 // … and at least
	memBudget   = 48 << 20  // for all entries compressed ahead: sets the spill point
	storeRatio  = 0.97      // Store when Deflate saves less than 3% on the sample
	readChunk   = 256 << 10 // also the sample that decides Store vs Deflate for a big file
	maxInFlight = 24        // packed entries waiting to be written, at most
)

// packed is one entry compressed ahead of writing: its header (sizes and
// CRC known) and where its data is.
type packed struct {
	h      zipHeader
	mem    *bytes.Buffer // the data, or the first part of it
	spill  *os.File      // the rest when it did not fit in memory
	reread string        // incompressible: copy this file again in stored Deflate blocks, checking the CRC
}

// close releases p's buffer and temp file.
func (p *packed) close() {
	if p.mem != nil {
		p.mem.Reset()
		bufPool.Put(p.mem)
		p.mem = nil
	}
	if p.spill != nil {
		name := p.spill.Name()
		p.spill.Close()
		os.Remove(name) // already unlinked where the OS allows it
		p.spill = nil
	}
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// packer compresses entries; it is shared by the compression goroutines.
type packer struct {
	level      int
	tempDir    string
	progress   func(int64)
	spillAfter int       // see spillWriter
	writers    sync.Pool // *flate.Writer at level
	chunks     sync.Pool // *[]byte of readChunk
}

// newPacker returns a packer for workers goroutines and inFlight entries
// waiting to be written: together they hold at most about memBudget.
func newPacker(opt WriteOptions, workers, inFlight int) *packer {
	spill := min(max(memBudget/(workers+inFlight), spillMin), spillMax)
	p := &packer{level: opt.Level, tempDir: opt.TempDir, progress: opt.Progress, spillAfter: spill}
	if p.level == 0 {
		p.level = flate.BestSpeed
	}
	p.chunks.New = func() any { b := make([]byte, readChunk); return &b }
	return p
}

// small is the size up to which a file is read whole and packed in memory.
func (p *packer) small() int { return min(smallFile, p.spillAfter) }

func (p *packer) flateWriter(w io.Writer) (*flate.Writer, error) {
	if fw, ok := p.writers.Get().(*flate.Writer); ok {
		fw.Reset(w)
		return fw, nil
	}
	return flate.NewWriter(w, p.level)
}

// pack compresses one source entry.
func (p *packer) pack(ctx context.Context, s source) (*packed, error) {
	out := &packed{h: zipHeader{name: s.name, method: methodStore, mtime: s.mtime, dir: s.dir}}
	if s.dir {
		return out, nil
	}
	f, err := os.Open(s.path)
	if err != nil {
		return nil, fmt.Errorf("stage: %w", err)
	}
	defer f.Close()
	out.mem = bufPool.Get().(*bytes.Buffer)
	if s.size <= int64(p.small()) {
		err = p.packSmall(f, s, out)
	} else {
		err = p.packBig(ctx, f, s, out)
	}
	if err != nil {
		out.close()
		return nil, err
	}
	return out, nil
}

// packSmall reads the whole file, then keeps whichever of the Deflate and
// the stored form is smaller.
func (p *packer) packSmall(f *os.File, s source, out *packed) error {
	raw := bufPool.Get().(*bytes.Buffer)
	defer func() { raw.Reset(); bufPool.Put(raw) }()
	if _, err := raw.ReadFrom(io.LimitReader(f, int64(p.small())+1)); err != nil {
		return fmt.Errorf("stage: %s: %w", s.path, err)
	}
	if raw.Len() > p.small() {
		return fmt.Errorf("stage: %s: file grew while packing", s.path)
	}
	data := raw.Bytes()
	out.h.usize = uint64(len(data))
	out.h.crc = crc32.ChecksumIEEE(data)
	if p.progress != nil {
		p.progress(int64(len(data)))
	}
	if len(data) == 0 {
		return nil
	}
	if err := p.deflate(out.mem, data); err != nil {
		return fmt.Errorf("stage: %s: %w", s.path, err)
	}
	// Always Deflate, as Microsoft's tool does, even where it does not shrink.
	out.h.method = methodDeflate
	out.h.csize = uint64(out.mem.Len())
	return nil
}

func (p *packer) deflate(dst io.Writer, data []byte) error {
	fw, err := p.flateWriter(dst)
	if err != nil {
		return err
	}
	defer p.writers.Put(fw)
	if _, err := fw.Write(data); err != nil {
		return err
	}
	return fw.Close()
}

// packBig streams a big file through Deflate into memory, then a temp
// file; or, when a sample shows it does not compress, only computes its
// CRC and leaves it to be copied again at write time (Store).
func (p *packer) packBig(ctx context.Context, f *os.File, s source, out *packed) error {
	bp := p.chunks.Get().(*[]byte)
	defer p.chunks.Put(bp)
	buf := *bp
	n, err := fill(f, buf) // the first chunk is the sample
	if err != nil && err != io.EOF {
		return fmt.Errorf("stage: %s: %w", s.path, err)
	}
	var sample countWriter
	if err := p.deflate(&sample, buf[:n]); err != nil {
		return fmt.Errorf("stage: %s: %w", s.path, err)
	}
	store := float64(sample) >= storeRatio*float64(n)
	var sink io.Writer = io.Discard
	var fw *flate.Writer
	sw := &spillWriter{mem: out.mem, dir: p.tempDir, limit: p.spillAfter}
	if !store {
		if fw, err = p.flateWriter(sw); err != nil {
			return fmt.Errorf("stage: %s: %w", s.path, err)
		}
		defer p.writers.Put(fw)
		sink = fw
	}
	var crc uint32
	var total uint64
	for n > 0 {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("stage: %w", err)
		}
		crc = crc32.Update(crc, crc32.IEEETable, buf[:n])
		total += uint64(n)
		if _, err := sink.Write(buf[:n]); err != nil {
			out.spill = sw.f
			return fmt.Errorf("stage: %s: %w", s.path, err)
		}
		if p.progress != nil {
			p.progress(int64(n))
		}
		n, err = fill(f, buf)
		if err != nil && err != io.EOF {
			out.spill = sw.f
			return fmt.Errorf("stage: %s: %w", s.path, err)
		}
	}
	out.h.crc, out.h.usize = crc, total
	if fw != nil {
		err := fw.Close()
		out.spill = sw.f
		if err != nil {
			return fmt.Errorf("stage: %s: %w", s.path, err)
		}
		store = sw.n >= total
	}
	if store {
		// Incompressible: emit Deflate's stored blocks around the file's
		// bytes at write time, re-read from the source, so nothing spills.
		out.close()
		out.reread = s.path
		out.h.method = methodDeflate
		out.h.csize = storedBlocksSize(total)
		return nil
	}
	out.h.method = methodDeflate
	out.h.csize = sw.n
	return nil
}

// spillWriter keeps up to limit bytes in mem, the rest in a temp file
// (unlinked at once where the OS allows, so a crash leaves nothing).
type spillWriter struct {
	mem   *bytes.Buffer
	dir   string
	limit int
	f     *os.File
	n     uint64
}

func (s *spillWriter) Write(p []byte) (int, error) {
	if s.f == nil && s.mem.Len()+len(p) <= s.limit {
		s.n += uint64(len(p))
		return s.mem.Write(p)
	}
	if s.f == nil {
		f, err := os.CreateTemp(s.dir, "imepipe-pack-*")
		if err != nil {
			return 0, err
		}
		_ = os.Remove(f.Name()) // POSIX: the open file lives on, unnamed
		s.f = f
	}
	n, err := s.f.Write(p)
	s.n += uint64(n)
	return n, err
}

type countWriter int64

func (c *countWriter) Write(p []byte) (int, error) {
	*c += countWriter(len(p))
	return len(p), nil
}
