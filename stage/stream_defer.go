package stage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"time"
)

// A data-descriptor entry (general-purpose flag bit 3) gives its sizes and
// CRC only after its data, and the central directory — the sizes Extract
// trusts — only at the end of the ZIP. Inflating such an entry straight to
// disk let a 41 KB package write 40 MiB before it was refused (issue 11).
// So ExtractStream writes nothing of one before the central directory is
// read: it inflates the entry once to find its end, size and CRC (to no
// file; CPU only, and never more than Deflate's ~1032:1 of the bytes it
// reads), checks them against the descriptor, and keeps the compressed
// bytes in memory. Once the central directory has confirmed every entry,
// the kept entries are inflated into their files, each stopped at its
// declared size. Bytes written for such an entry are thus at most what the
// central directory declares, and nothing is written for a bomb whose
// descriptor or central directory lies.
//
// The compressed bytes kept are capped at deferMax per archive; past it
// ExtractStream fails with ErrNotStreamable and the caller extracts the
// ZIP with random access (decrypt does, from a staging file). Microsoft's
// tool writes no data descriptors, so its packages never need this.
var deferMax int64 = 32 << 20 // a variable for tests

// deferred is a data-descriptor entry waiting for the central directory.
type deferred struct {
	e     *streamEntry // filled from the descriptor; checked by central
	data  []byte       // its Deflate stream
	mtime time.Time
}

var errDeferFull = errors.New("data-descriptor entries past the in-memory limit")

// keep reads the Deflate stream of a data-descriptor entry from the
// archive, keeping its bytes, and sets e's size and CRC from inflating it.
func (s *streamer) keep(ctx context.Context, e *streamEntry, mtime time.Time) error {
	tee := &teeReader{r: s.in, left: deferMax - s.kept}
	z := s.deflate(tee, false)
	var n uint64
	var crc uint32
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("stage: %w", err)
		}
		m, rerr := fill(z, s.buf)
		n += uint64(m)
		crc = crc32.Update(crc, crc32.IEEETable, s.buf[:m])
		if rerr == io.EOF {
			break
		}
		if errors.Is(rerr, errDeferFull) {
			return fmt.Errorf("stage: entry %s: %w: %w", quoteName(e.name), errDeferFull, ErrNotStreamable)
		}
		if rerr != nil {
			return corruptf(e.name, "%v", rerr)
		}
	}
	e.usize, e.crc = n, crc // checked against the descriptor next
	s.kept += int64(len(tee.buf))
	s.pending = append(s.pending, deferred{e: e, data: tee.buf, mtime: mtime})
	return nil
}

// writeKept writes the kept entries into their files, once the central
// directory agreed with their descriptors.
func (s *streamer) writeKept(ctx context.Context) error {
	for _, d := range s.pending {
		z := inflaterPool.Get().(*inflater)
		z.reset(bytes.NewReader(d.data), true)
		err := s.write(ctx, d.e, z, s.buf, d.mtime)
		inflaterPool.Put(z)
		if err != nil {
			return err
		}
	}
	s.pending = nil
	return nil
}

// teeReader reads through r, keeping what it read in buf, up to left
// bytes (then errDeferFull). UnreadByte gives back the last byte kept.
type teeReader struct {
	r    *countReader
	buf  []byte
	left int64
}

func (t *teeReader) Read(p []byte) (int, error) {
	if int64(len(p)) > t.left {
		if t.left <= 0 {
			return 0, errDeferFull
		}
		p = p[:t.left]
	}
	n, err := t.r.Read(p)
	t.buf = append(t.buf, p[:n]...)
	t.left -= int64(n)
	return n, err
}

func (t *teeReader) ReadByte() (byte, error) {
	if t.left <= 0 {
		return 0, errDeferFull
	}
	b, err := t.r.ReadByte()
	if err == nil {
		t.buf = append(t.buf, b)
		t.left--
	}
	return b, err
}

func (t *teeReader) UnreadByte() error {
	if err := t.r.UnreadByte(); err != nil {
		return err
	}
	t.buf = t.buf[:len(t.buf)-1]
	t.left++
	return nil
}

// pendingMode is a Unix mode from the central directory, applied once
// every file exists.
type pendingMode struct {
	e    streamEntry
	mode fs.FileMode
}
