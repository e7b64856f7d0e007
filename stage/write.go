package stage

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"runtime"

	"golang.org/x/sync/errgroup"
)

// WriteOptions tune Write. The zero value is valid.
type WriteOptions struct {
	// Workers is the number of entries compressed at once; 0 means
	// runtime.GOMAXPROCS(0).
	Workers int
	// Level is the Deflate level, 1 (fastest) to 9; 0 means 1. Whatever
	// the level, every non-empty entry is Deflate (incompressible ones as
	// stored Deflate blocks), as in Microsoft's packages.
	Level int
	// TempDir holds compressed entries too big to wait in memory; "" means
	// os.TempDir(). Temp files are unlinked as soon as they are created.
	TempDir string
	// Progress, if set, is called with each number of source bytes read.
	// It is called from several goroutines at once.
	Progress func(n int64)
	// Skip, if set, is called with the path of each file and folder in
	// root (root joined with the names below it, as walk reaches them)
	// before it is looked at; an entry it returns true for is left out as
	// if absent, and a folder that then holds nothing is left out too.
	// Pack leaves out its own output this way when that lies in root.
	Skip func(path string) bool
}

// WriteResult counts what Write packed: regular files, empty directories,
// source bytes, and ZIP bytes written.
type WriteResult struct {
	Files int   `json:"files"`
	Dirs  int   `json:"dirs"`
	Bytes int64 `json:"bytes"`
	Size  int64 `json:"size"`
}

// Write writes a ZIP of the contents of the folder root (not the folder
// itself) to w, in the layout of Microsoft's IntuneWinAppUtil: Deflate
// (Store only for empty files; incompressible data as stored Deflate blocks), UTF-8
// names with flag 0x0800, "\" between path parts, DOS times (UTC), CRC and
// sizes in the local header and no data descriptors, ZIP64 records only
// when an entry, an offset or the entry count needs them. Entries come in
// the order walk documents; empty directories are kept as "name\" entries.
//
// w need not seek: entries are compressed ahead, in parallel, into bounded
// memory buffers (temp files in opt.TempDir beyond that) and written in
// order. Memory use does not grow with file sizes. Symlinks and special
// files in root are refused (ErrUnsafePath). On error, what was written to
// w is not a valid ZIP; the caller discards it.
func Write(ctx context.Context, w io.Writer, root string, opt WriteOptions) (WriteResult, error) {
	if opt.Level < 0 || opt.Level > 9 {
		return WriteResult{}, fmt.Errorf("stage: deflate level %d not in 1..9", opt.Level)
	}
	srcs, err := walk(root, opt.Skip)
	if err != nil {
		return WriteResult{}, err
	}
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	bw := bufio.NewWriterSize(w, 256<<10)
	z := &zipWriter{w: bw}
	inFlight := min(2*workers+2, maxInFlight)
	res, err := writeEntries(ctx, z, srcs, newPacker(opt, workers, inFlight), workers, inFlight)
	if err != nil {
		return WriteResult{}, err
	}
	if err := z.close(); err != nil {
		return WriteResult{}, fmt.Errorf("stage: write: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return WriteResult{}, fmt.Errorf("stage: write: %w", err)
	}
	res.Size = int64(z.off)
	return res, nil
}

// job is one entry on its way: pack fills p or err, then closes done.
type job struct {
	p    *packed
	err  error
	done chan struct{}
}

// writeEntries compresses srcs with workers goroutines and writes them to z
// in order. At most inFlight compressed entries wait to be written.
func writeEntries(ctx context.Context, z *zipWriter, srcs []source, pk *packer, workers, inFlight int) (WriteResult, error) {
	g, gctx := errgroup.WithContext(ctx)
	queue := make(chan *job, inFlight)
	slots := make(chan struct{}, workers)
	g.Go(func() error {
		defer close(queue)
		for _, s := range srcs {
			j := &job{done: make(chan struct{})}
			select {
			case slots <- struct{}{}:
			case <-gctx.Done():
				return gctx.Err()
			}
			g.Go(func() error {
				defer func() { <-slots; close(j.done) }()
				j.p, j.err = pk.pack(gctx, s)
				return nil // reported in order by the writer
			})
			select {
			case queue <- j:
			case <-gctx.Done():
				<-j.done
				if j.p != nil {
					j.p.close()
				}
				return gctx.Err()
			}
		}
		return nil
	})
	var res WriteResult
	g.Go(func() error {
		buf := make([]byte, readChunk)
		for j := range queue {
			<-j.done
			if j.err != nil {
				return j.err
			}
			err := emit(z, j.p, buf)
			j.p.close()
			if err != nil {
				return err
			}
			if j.p.h.dir {
				res.Dirs++
			} else {
				res.Files++
				res.Bytes += int64(j.p.h.usize)
			}
		}
		return nil
	})
	err := g.Wait()
	for j := range queue { // after a failure: release what was packed ahead
		<-j.done
		if j.p != nil {
			j.p.close()
		}
	}
	if err != nil {
		return WriteResult{}, err
	}
	if err := ctx.Err(); err != nil {
		return WriteResult{}, fmt.Errorf("stage: %w", err)
	}
	return res, nil
}

// emit writes one packed entry: header, then data from memory, the temp
// file, or (incompressible) the source file again with its CRC checked.
func emit(z *zipWriter, p *packed, buf []byte) error {
	if err := z.header(p.h); err != nil {
		return fmt.Errorf("stage: write %s: %w", quoteName(p.h.name), err)
	}
	if p.reread != "" {
		return recopy(z, p, buf)
	}
	if p.mem != nil {
		if _, err := z.Write(p.mem.Bytes()); err != nil {
			return fmt.Errorf("stage: write %s: %w", quoteName(p.h.name), err)
		}
	}
	if p.spill != nil {
		if _, err := p.spill.Seek(0, io.SeekStart); err != nil {
			return fmt.Errorf("stage: temp file: %w", err)
		}
		if _, err := io.CopyBuffer(z, p.spill, buf); err != nil {
			return fmt.Errorf("stage: write %s: %w", quoteName(p.h.name), err)
		}
	}
	return nil
}

// recopy streams an incompressible source file into z as a Deflate
// stream of stored blocks (5-byte block headers around the raw bytes), so
// the entry stays Deflate like Microsoft's without being compressed or
// spilled; a file that changed since its CRC was taken is refused.
func recopy(z *zipWriter, p *packed, buf []byte) error {
	f, err := os.Open(p.reread)
	if err != nil {
		return fmt.Errorf("stage: %w", err)
	}
	defer f.Close()
	h := crc32.NewIEEE()
	left := p.h.usize
	for first := true; first || left > 0; first = false {
		n := min(left, maxStoredBlock)
		var hdr [5]byte
		if n == left {
			hdr[0] = 1 // BFINAL, BTYPE 00 (stored)
		}
		binary.LittleEndian.PutUint16(hdr[1:], uint16(n))
		binary.LittleEndian.PutUint16(hdr[3:], ^uint16(n))
		if _, err := z.Write(hdr[:]); err != nil {
			return fmt.Errorf("stage: write %s: %w", quoteName(p.h.name), err)
		}
		m, err := io.CopyBuffer(io.MultiWriter(z, h), io.LimitReader(f, int64(n)), buf)
		if err != nil {
			return fmt.Errorf("stage: write %s: %w", quoteName(p.h.name), err)
		}
		if uint64(m) != n {
			return fmt.Errorf("stage: %s: file changed while packing", p.reread)
		}
		left -= n
	}
	if h.Sum32() != p.h.crc {
		return fmt.Errorf("stage: %s: file changed while packing", p.reread)
	}
	return nil
}

// maxStoredBlock is the most a stored Deflate block holds.
const maxStoredBlock = 65535

// storedBlocksSize is the length of n bytes as a Deflate stream of stored
// blocks (at least one block, even for n = 0).
func storedBlocksSize(n uint64) uint64 {
	return n + 5*max(1, (n+maxStoredBlock-1)/maxStoredBlock)
}
