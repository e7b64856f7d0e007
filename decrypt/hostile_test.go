package decrypt

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/imepipe/imepipe/stage"
)

// sealInner writes a valid, correctly keyed .intunewin around an
// arbitrary inner ZIP, so that only the ZIP is hostile.
func sealInner(t *testing.T, inner []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hostile.intunewin")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	o := newOuter(f, time.Now())
	start, err := o.begin(ContentsPath)
	if err != nil {
		t.Fatal(err)
	}
	cw := &crcWriter{w: io.NewOffsetWriter(f, start), skip: MacSize, crc: crc32.NewIEEE()}
	k, _ := NewKeys()
	s, err := NewSealer(cw, k)
	if err != nil {
		t.Fatal(err)
	}
	s.Write(inner)
	k, size, err := s.Close()
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt(k.Mac, start)
	if err := o.finish(crc32Combine(crc32.ChecksumIEEE(k.Mac), cw.crc.Sum32(), size-MacSize), size); err != nil {
		t.Fatal(err)
	}
	xml := k.Info("x", "x").Marshal()
	if err := o.add(DetectionPath, xml, crc32.ChecksumIEEE(xml)); err != nil {
		t.Fatal(err)
	}
	if err := o.close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// zipOf builds an inner ZIP with archive/zip, which writes any name it is given.
func zipOf(t *testing.T, build func(zw *zip.Writer)) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	build(zw)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func entry(zw *zip.Writer, name, body string) {
	w, _ := zw.Create(name)
	w.Write([]byte(body))
}

// TestUnpackHostileInner: a package that verifies but holds a hostile
// inner ZIP is refused, and nothing is written anywhere: not at the
// output, not beside it, not where the names point.
func TestUnpackHostileInner(t *testing.T) {
	cases := map[string]struct {
		build func(zw *zip.Writer)
		want  error
	}{
		"dotdot":         {func(zw *zip.Writer) { entry(zw, "../evil.txt", "x") }, stage.ErrUnsafePath},
		"dotdot nested":  {func(zw *zip.Writer) { entry(zw, `sub\..\..\evil.txt`, "x") }, stage.ErrUnsafePath},
		"absolute":       {func(zw *zip.Writer) { entry(zw, "/tmp/imepipe-evil.txt", "x") }, stage.ErrUnsafePath},
		"drive letter":   {func(zw *zip.Writer) { entry(zw, `C:\Windows\evil.txt`, "x") }, stage.ErrUnsafePath},
		"duplicate":      {func(zw *zip.Writer) { entry(zw, "a.txt", "1"); entry(zw, "a.txt", "2") }, stage.ErrUnsafePath},
		"dup separators": {func(zw *zip.Writer) { entry(zw, "d/a.txt", "1"); entry(zw, `d\a.txt`, "2") }, stage.ErrUnsafePath},
		"symlink": {func(zw *zip.Writer) {
			target := []byte("/etc/passwd")
			h := &zip.FileHeader{Name: "link", Method: zip.Store, CRC32: crc32.ChecksumIEEE(target),
				CompressedSize64: uint64(len(target)), UncompressedSize64: uint64(len(target))}
			h.SetMode(fs.ModeSymlink | 0o777)
			w, _ := zw.CreateRaw(h)
			w.Write(target)
		}, stage.ErrUnsafePath},
		"symlink, not streamable": {func(zw *zip.Writer) {
			h := &zip.FileHeader{Name: "link", Method: zip.Store}
			h.SetMode(fs.ModeSymlink | 0o777)
			w, _ := zw.CreateHeader(h)
			w.Write([]byte("/etc/passwd"))
		}, stage.ErrUnsafePath},
		"size lies": {func(zw *zip.Writer) {
			body := []byte("twelve bytes")
			w, _ := zw.CreateRaw(&zip.FileHeader{Name: "a.txt", Method: zip.Store, CRC32: crc32.ChecksumIEEE(body),
				CompressedSize64: uint64(len(body)), UncompressedSize64: 5})
			w.Write(body)
		}, stage.ErrCorrupt},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			pkg := sealInner(t, zipOf(t, c.build))
			parent := t.TempDir()
			out := filepath.Join(parent, "deep", "out")
			_, err := Unpack(context.Background(), pkg, out, UnpackOptions{})
			if !errors.Is(err, c.want) {
				t.Fatalf("want %v, got %v", c.want, err)
			}
			var left []string
			filepath.WalkDir(parent, func(p string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					left = append(left, p)
				}
				return nil
			})
			if len(left) > 0 {
				t.Errorf("files left behind: %v", left)
			}
			if _, err := os.Stat(out + ".partial"); !os.IsNotExist(err) {
				t.Errorf(".partial left behind")
			}
			for _, p := range []string{filepath.Join(parent, "deep", "evil.txt"), filepath.Join(parent, "evil.txt"), "/tmp/imepipe-evil.txt"} {
				if _, err := os.Lstat(p); err == nil {
					t.Errorf("wrote outside the output: %s", p)
				}
			}
		})
	}
}

// TestUnpackNotStreamable: a legitimate inner ZIP with stored entries and
// data descriptors (Go's archive/zip writes these) unpacks through the
// staged path.
func TestUnpackNotStreamable(t *testing.T) {
	inner := zipOf(t, func(zw *zip.Writer) {
		w, _ := zw.CreateHeader(&zip.FileHeader{Name: `sub\stored.bin`, Method: zip.Store})
		w.Write(bytes.Repeat([]byte("stored "), 1000))
		entry(zw, "setup.cmd", "echo hi")
	})
	out := filepath.Join(t.TempDir(), "out")
	res, err := Unpack(context.Background(), sealInner(t, inner), out, UnpackOptions{})
	if err != nil {
		t.Fatalf("Unpack: %v", err)
	}
	if res.Extract.Files != 2 || !res.Open.Verified() {
		t.Fatalf("result %+v", res)
	}
	b, err := os.ReadFile(filepath.Join(out, "sub", "stored.bin"))
	if err != nil || len(b) != 7000 {
		t.Fatalf("stored entry: %d bytes, %v", len(b), err)
	}
	if ents, _ := os.ReadDir(filepath.Dir(out)); len(ents) != 1 {
		t.Fatalf("staging file left behind: %v", ents)
	}
}

// TestUnpackNotStreamableIntoCurrentFolder: the staged path into "." (an
// empty current folder, filled in place) puts its staging ZIP beside the
// folder, not in it, and leaves nothing but the tree.
func TestUnpackNotStreamableIntoCurrentFolder(t *testing.T) {
	inner := zipOf(t, func(zw *zip.Writer) {
		w, _ := zw.CreateHeader(&zip.FileHeader{Name: "stored.bin", Method: zip.Store})
		w.Write(bytes.Repeat([]byte("stored "), 1000))
		entry(zw, "setup.cmd", "echo hi")
	})
	pkg := sealInner(t, inner)
	parent := t.TempDir()
	here := filepath.Join(parent, "here")
	if err := os.Mkdir(here, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(here)
	res, err := Unpack(context.Background(), pkg, ".", UnpackOptions{})
	if err != nil {
		t.Fatalf("Unpack into .: %v", err)
	}
	if res.Extract.Files != 2 {
		t.Fatalf("result %+v", res)
	}
	var names []string
	for _, d := range []string{here, parent} {
		ents, _ := os.ReadDir(d)
		for _, e := range ents {
			names = append(names, filepath.Join(filepath.Base(d), e.Name()))
		}
	}
	want := []string{filepath.Join("here", "setup.cmd"), filepath.Join("here", "stored.bin"), filepath.Join(filepath.Base(parent), "here")}
	if fmt.Sprint(names) != fmt.Sprint(want) {
		t.Errorf("left %v, want %v", names, want)
	}
}
