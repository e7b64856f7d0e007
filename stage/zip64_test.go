package stage

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// sparseZip is a ZIP of more than 4 GiB held in a few kilobytes: head
// bytes at 0, zeros up to base, tail bytes from base.
type sparseZip struct {
	head, tail []byte
	base       int64
}

func (s *sparseZip) size() int64 { return s.base + int64(len(s.tail)) }

func (s *sparseZip) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	for n < len(p) {
		o := off + int64(n)
		switch {
		case o >= s.size():
			return n, io.EOF
		case o < int64(len(s.head)):
			n += copy(p[n:], s.head[o:])
		case o < s.base:
			m := min(int64(len(p)-n), s.base-o)
			clear(p[n : n+int(m)])
			n += int(m)
		default:
			n += copy(p[n:], s.tail[o-s.base:])
		}
	}
	return n, nil
}

// addStored writes one stored entry with zipWriter.
func addStored(t testing.TB, z *zipWriter, name string, data []byte) {
	t.Helper()
	h := zipHeader{name: name, method: methodStore, mtime: time.Date(2024, 5, 6, 7, 8, 10, 0, time.UTC),
		crc: crc32.ChecksumIEEE(data), csize: uint64(len(data)), usize: uint64(len(data))}
	if err := z.header(h); err != nil {
		t.Fatal(err)
	}
	if _, err := z.Write(data); err != nil {
		t.Fatal(err)
	}
}

// TestExtractOffsetsPast4GiB: an entry whose local header lies past 4 GiB,
// found through the ZIP64 extra field of its central header and the ZIP64
// end records, both written by zipWriter.
func TestExtractOffsetsPast4GiB(t *testing.T) {
	var head, tail bytes.Buffer
	z := &zipWriter{w: &head}
	addStored(t, z, "first.txt", []byte("at the start\n"))
	const base = 5 << 30
	z.w, z.off = &tail, base
	addStored(t, z, `far\away.txt`, []byte("past four gibibytes\n"))
	if err := z.close(); err != nil {
		t.Fatal(err)
	}
	s := &sparseZip{head: head.Bytes(), tail: tail.Bytes(), base: base}

	zr, err := zip.NewReader(s, s.size())
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		t.Fatalf("archive/zip cannot read it: %v", err)
	}
	if off, _ := zr.File[1].DataOffset(); off < base {
		t.Fatalf("second entry at %d, want past %d", off, base)
	}
	dir := filepath.Join(t.TempDir(), "out")
	if _, err := Extract(context.Background(), s, s.size(), dir, Options{}); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "far", "away.txt"))
	if err != nil || string(got) != "past four gibibytes\n" {
		t.Errorf("far/away.txt = %q, %v", got, err)
	}
}

// TestExtractManyEntries: more than 65,535 entries, so the counts live
// only in the ZIP64 end record.
func TestExtractManyEntries(t *testing.T) {
	if testing.Short() {
		t.Skip("creates 65,600 files; skipped with -short")
	}
	const n = 65600
	var buf bytes.Buffer
	z := &zipWriter{w: &buf}
	for i := range n {
		addStored(t, z, fmt.Sprintf(`d%02d\f%05d`, i%64, i), nil)
	}
	if err := z.close(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(buf.Bytes()[buf.Len()-100:], []byte{0x50, 0x4b, 0x06, 0x06}) {
		t.Fatal("no ZIP64 end record")
	}
	dir := filepath.Join(t.TempDir(), "out")
	res, err := Extract(context.Background(), bytes.NewReader(buf.Bytes()), int64(buf.Len()), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Files != n || res.Dirs != 64 {
		t.Errorf("result %+v, want %d files in 64 dirs", res, n)
	}
	if _, err := os.Stat(filepath.Join(dir, "d63", "f65599")); err != nil {
		t.Error(err)
	}
}

// TestZip64LocalHeader: an entry of 4 GiB or more carries both sizes in a
// ZIP64 field of its local header (IntuneWinAppUtil cannot write these).
func TestZip64LocalHeader(t *testing.T) {
	var buf bytes.Buffer
	z := &zipWriter{w: &buf}
	if err := z.header(zipHeader{name: "huge.bin", method: methodDeflate, usize: 9 << 30, csize: 5 << 30}); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	le := func(i, n int) uint64 {
		var v uint64
		for k := n - 1; k >= 0; k-- {
			v = v<<8 | uint64(b[i+k])
		}
		return v
	}
	if le(4, 2) != version45 || le(18, 4) != sentinel32 || le(22, 4) != sentinel32 || le(28, 2) != 20 {
		t.Fatalf("local header %x", b[:30])
	}
	extra := 30 + len("huge.bin")
	if le(extra, 2) != extraZip64 || le(extra+2, 2) != 16 || le(extra+4, 8) != 9<<30 || le(extra+12, 8) != 5<<30 {
		t.Fatalf("zip64 extra %x", b[extra:])
	}
}
