package stage

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
)

// ExtractStream extracts a ZIP read front to back from r, as it arrives,
// into dir with the same all-or-nothing commit and the same checks as
// Extract. It exists so that extraction overlaps the decryption that
// produces the ZIP, and so that the ZIP never has to be written to disk
// first: entries are found through their local headers (sizes and CRC
// there, as Microsoft's tool writes them, or Deflate entries followed by
// a data descriptor), and the central directory at the end must then agree
// with them entry by entry — names, CRCs, sizes and offsets — or the
// extraction fails. Modes of Unix-made entries come from the central
// directory and are applied before the commit.
//
// Entries up to 8 MiB compressed are decompressed by opt.Workers
// goroutines from bounded buffers (the files of those up to 1 MiB then
// created by one creator goroutine, see creator.go); larger ones are
// streamed by the reading goroutine. The caller's
// opt.Verify runs after the end of the ZIP has been read and checked.
func ExtractStream(ctx context.Context, r io.Reader, dir string, opt Options) (Result, error) {
	return into(dir, opt, func(root string) (Result, error) {
		s := &streamer{
			root:    root,
			opt:     opt,
			in:      &countReader{r: bufio.NewReaderSize(r, streamBufSize)},
			names:   newAdmission(64),
			implied: map[string]bool{},
		}
		return s.run(ctx)
	})
}

// ErrNotStreamable reports a well-formed ZIP that ExtractStream cannot
// read front to back (a stored entry followed by a data descriptor, as Go's
// archive/zip writes them): extract it with Extract from a file instead.
var ErrNotStreamable = fmt.Errorf("%w: needs random access", ErrUnsupported)

const (
	streamBufSize  = 1 << 20
	bufferedEntry  = 8 << 20 // compressed entries up to this size go to a worker
	maxCentralSize = 256 << 20
	sigDescriptor  = 0x08074b50
	flagDescriptor = 0x8
)

// streamEntry is what a local header said, kept to check the central directory.
type streamEntry struct {
	name       string // as in the archive
	clean      string
	dir        bool
	crc        uint32
	csize      uint64
	usize      uint64
	offset     uint64
	descriptor bool
}

type streamer struct {
	root    string
	opt     Options
	in      *countReader
	names   *admission      // entries' clean names (names.kind: → is a directory)
	implied map[string]bool // directories created for names below them
	entries []streamEntry
	dirs    []string // explicit directories, for their times
	mtimes  []time.Time
	files   int
	bytes   atomic.Int64
	z       inflater
	buf     []byte
	creator *creator
	pending []deferred // data-descriptor entries, see stream_defer.go
	kept    int64      // their compressed bytes
	modes   []pendingMode
}

func (s *streamer) run(ctx context.Context) (Result, error) {
	workers := s.opt.Workers
	if workers <= 0 {
		workers = defaultWorkers()
	}
	g, gctx := errgroup.WithContext(ctx)
	s.creator = newCreator(s.opt)
	g.Go(s.creator.run)
	q := startQueues(gctx, g, workers)
	s.buf = make([]byte, copyBufSize)
	err := s.entriesLoop(gctx, q)
	q.close()
	q.wait()
	s.creator.close()
	// A worker's failure cancels gctx, which the loop then reports: the
	// worker's error is the one to keep.
	if werr := g.Wait(); werr != nil && (err == nil || errors.Is(err, context.Canceled)) {
		err = werr
	}
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		if ctx.Err() != nil {
			return Result{}, fmt.Errorf("stage: %w", ctx.Err())
		}
		return Result{}, err
	}
	if err := s.central(); err != nil {
		return Result{}, err
	}
	if err := s.writeKept(ctx); err != nil {
		return Result{}, err
	}
	for _, m := range s.modes {
		if err := s.applyMode(m.e, m.mode); err != nil {
			return Result{}, err
		}
	}
	for i := len(s.dirs) - 1; i >= 0; i-- {
		if t := s.mtimes[i]; !t.IsZero() {
			if err := os.Chtimes(s.path(s.dirs[i]), time.Time{}, t); err != nil {
				return Result{}, entryErr(s.dirs[i], err)
			}
		}
	}
	dirs := len(s.implied)
	for name, isDir := range s.names.kind {
		if isDir && !s.implied[name] {
			dirs++
		}
	}
	return Result{Files: s.files, Dirs: dirs, Bytes: s.bytes.Load()}, nil
}

func (s *streamer) path(name string) string { return filepath.Join(s.root, filepath.FromSlash(name)) }

// entriesLoop reads local headers until the central directory starts.
func (s *streamer) entriesLoop(ctx context.Context, q *workQueues) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		sig, err := s.in.u32()
		if err != nil {
			return corruptf("", "truncated before the central directory: %v", err)
		}
		switch sig {
		case sigLocal:
			if err := s.entry(ctx, q); err != nil {
				return err
			}
		case sigCentral:
			return nil
		default:
			return corruptf("", "unexpected signature %08x at offset %d", sig, s.in.n-4)
		}
	}
}

// entry handles one local header and its data.
func (s *streamer) entry(ctx context.Context, q *workQueues) error {
	offset := uint64(s.in.n - 4)
	var h [26]byte
	if _, err := io.ReadFull(s.in, h[:]); err != nil {
		return corruptf("", "truncated local header: %v", err)
	}
	flags := binary.LittleEndian.Uint16(h[2:])
	method := binary.LittleEndian.Uint16(h[4:])
	dosTime, dosDate := binary.LittleEndian.Uint16(h[6:]), binary.LittleEndian.Uint16(h[8:])
	e := streamEntry{
		crc:    binary.LittleEndian.Uint32(h[10:]),
		csize:  uint64(binary.LittleEndian.Uint32(h[14:])),
		usize:  uint64(binary.LittleEndian.Uint32(h[18:])),
		offset: offset,
	}
	nameLen, extraLen := int(binary.LittleEndian.Uint16(h[22:])), int(binary.LittleEndian.Uint16(h[24:]))
	nameExtra := make([]byte, nameLen+extraLen)
	if _, err := io.ReadFull(s.in, nameExtra); err != nil {
		return corruptf("", "truncated local header: %v", err)
	}
	e.name = string(nameExtra[:nameLen])
	extra := nameExtra[nameLen:]
	zip64 := applyZip64(extra, &e.usize, &e.csize, nil)
	clean, isDir, err := cleanName(e.name, flags&flagUTF8 != 0)
	if err != nil {
		return err
	}
	e.clean, e.dir = clean, isDir
	e.descriptor = flags&flagDescriptor != 0
	if err := checkMethod(e.name, flags, method); err != nil {
		return err
	}
	if e.descriptor && method == methodStore {
		return fmt.Errorf("stage: entry %s: stored entry with a data descriptor: %w", quoteName(e.name), ErrNotStreamable)
	}
	if isDir {
		if err := checkDirData(e.name, e.usize); err != nil {
			return err
		}
		if !e.descriptor && e.csize > 2 { // an empty Deflate stream is 2 bytes
			return corruptf(e.name, "directory with %d compressed bytes", e.csize)
		}
	}
	if err := s.names.admit(e.name, clean, isDir); err != nil {
		return err
	}
	mtime := extendedTime(extra)
	if mtime.IsZero() {
		mtime = dosToTime(dosDate, dosTime)
	}
	if isDir {
		s.dirs = append(s.dirs, clean)
		s.mtimes = append(s.mtimes, mtime)
		if err := s.mkdirAll(clean); err != nil {
			return err
		}
		if _, err := io.CopyN(io.Discard, s.in, int64(e.csize)); !e.descriptor && err != nil {
			return corruptf(e.name, "truncated: %v", err)
		}
	} else {
		s.files++
		if err := s.mkdirAll(path.Dir(clean)); err != nil {
			return err
		}
		if err := s.file(ctx, q, &e, method, mtime); err != nil {
			return err
		}
	}
	if e.descriptor {
		if err := s.readDescriptor(&e, zip64); err != nil {
			return err
		}
	}
	s.entries = append(s.entries, e)
	return nil
}

// mkdirAll creates a directory and its missing parents inside the root,
// marking implied ones.
func (s *streamer) mkdirAll(name string) error {
	if name == "." || name == "" {
		return nil
	}
	if err := s.mkdirAll(path.Dir(name)); err != nil {
		return err
	}
	if _, err := os.Lstat(s.path(name)); err == nil {
		return nil
	}
	if err := os.Mkdir(s.path(name), defaultDirMode); err != nil && !errors.Is(err, fs.ErrExist) {
		return entryErr(name, err)
	}
	if isDir, ok := s.names.kind[name]; !ok || !isDir {
		s.implied[name] = true
	}
	return nil
}

// file extracts one regular file. Entries of known size up to
// bufferedEntry compressed bytes are read whole and handed to a worker
// (workQueues); bigger ones, and Deflate streams of unknown length, are
// decompressed here as they arrive.
func (s *streamer) file(ctx context.Context, q *workQueues, e *streamEntry, method uint16, mtime time.Time) error {
	if !e.descriptor && e.csize <= bufferedEntry {
		size := int64(dataCap(int(e.csize)))
		if err := q.reserve(ctx, size); err != nil {
			return err
		}
		buf := getData(int(e.csize))
		data := *buf
		if _, err := io.ReadFull(s.in, data); err != nil {
			putData(buf)
			q.release(size)
			return corruptf(e.name, "truncated: %v", err)
		}
		want := *e
		err := q.submit(ctx, func() error {
			defer q.release(size)
			defer putData(buf)
			if fits(want.csize, want.usize) {
				return s.handOff(ctx, &want, method, data, mtime)
			}
			var src io.Reader = bytes.NewReader(data)
			if method == methodDeflate {
				z := inflaterPool.Get().(*inflater)
				defer inflaterPool.Put(z)
				z.reset(bytes.NewReader(data), true)
				src = z
			}
			if want.usize >= pipeMin {
				return s.writePiped(ctx, &want, src, mtime)
			}
			copyBuf := smallBufPool.Get().(*[]byte)
			defer smallBufPool.Put(copyBuf)
			return s.write(ctx, &want, src, *copyBuf, mtime)
		})
		if err != nil {
			putData(buf)
			q.release(size)
		}
		return err
	}
	if e.descriptor {
		return s.keep(ctx, e, mtime)
	}
	lim := io.LimitReader(s.in, int64(e.csize))
	var src io.Reader = lim
	if method == methodDeflate {
		src = s.deflate(bufio.NewReaderSize(lim, readBufSize), true)
	}
	defer func() { _, _ = io.Copy(io.Discard, lim) }()
	if e.usize >= pipeMin {
		return s.writePiped(ctx, e, src, mtime)
	}
	return s.write(ctx, e, src, s.buf, mtime)
}

var (
	inflaterPool = sync.Pool{New: func() any { return new(inflater) }}
	wholePool    = sync.Pool{New: func() any { return new(whole) }}
	smallBufPool = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}
)

func (s *streamer) deflate(r flateSource, bounded bool) io.Reader {
	s.z.reset(r, bounded)
	return &s.z
}

// readDescriptor reads the data descriptor after a streamed entry and
// checks it against what was extracted.
func (s *streamer) readDescriptor(e *streamEntry, zip64 bool) error {
	first, err := s.in.u32()
	if err != nil {
		return corruptf(e.name, "truncated data descriptor: %v", err)
	}
	crc := first
	if first == sigDescriptor {
		if crc, err = s.in.u32(); err != nil {
			return corruptf(e.name, "truncated data descriptor: %v", err)
		}
	}
	var csize, usize uint64
	if zip64 {
		var b [16]byte
		_, err = io.ReadFull(s.in, b[:])
		csize, usize = binary.LittleEndian.Uint64(b[:]), binary.LittleEndian.Uint64(b[8:])
	} else {
		var b [8]byte
		_, err = io.ReadFull(s.in, b[:])
		csize, usize = uint64(binary.LittleEndian.Uint32(b[:])), uint64(binary.LittleEndian.Uint32(b[4:]))
	}
	if err != nil {
		return corruptf(e.name, "truncated data descriptor: %v", err)
	}
	if crc != e.crc || usize != e.usize {
		return corruptf(e.name, "data descriptor says CRC %08x and %d bytes, data has %08x and %d", crc, usize, e.crc, e.usize)
	}
	e.csize = csize
	return nil
}

func corruptf(name, format string, a ...any) error {
	if name == "" {
		return fmt.Errorf("stage: %s: %w", fmt.Sprintf(format, a...), ErrCorrupt)
	}
	return fmt.Errorf("stage: entry %s: %s: %w", quoteName(name), fmt.Sprintf(format, a...), ErrCorrupt)
}
