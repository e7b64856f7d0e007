package bench

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/imepipe/imepipe/decrypt"
	"github.com/imepipe/imepipe/stage"
)

// seal encrypts plain as an inner .intunewin file and returns it with
// its complete keys.
func seal(t *testing.T, plain []byte) (*io.SectionReader, decrypt.Keys) {
	t.Helper()
	k, err := decrypt.NewKeys()
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	s, err := decrypt.NewSealer(&b, k)
	if err != nil {
		t.Fatal(err)
	}
	s.Write(plain)
	k, _, err = s.Close()
	if err != nil {
		t.Fatal(err)
	}
	enc := b.Bytes()
	copy(enc, k.Mac)
	return io.NewSectionReader(bytes.NewReader(enc), 0, int64(len(enc))), k
}

// packSmall generates a small installer folder and packs it.
func packSmall(t *testing.T) (setup, pkg string, ds Dataset) {
	t.Helper()
	dir := t.TempDir()
	setup = filepath.Join(dir, "setup")
	ds, err := Generate(setup, Installer, 1<<20, 5)
	if err != nil {
		t.Fatal(err)
	}
	pkg = filepath.Join(dir, "setup.intunewin")
	if _, err := decrypt.Pack(context.Background(), setup, SetupFile, pkg, decrypt.PackOptions{}); err != nil {
		t.Fatal(err)
	}
	return setup, pkg, ds
}

// assertClean checks that a failed run left neither its folder nor a
// staging file in parent.
func assertClean(t *testing.T, parent string, want ...string) {
	t.Helper()
	ents, err := os.ReadDir(parent)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if len(got) != len(want) {
		t.Errorf("%s holds %v, want only %v", parent, got, want)
	}
}

func TestStdlibUnpack(t *testing.T) {
	setup, pkg, ds := packSmall(t)
	parent := t.TempDir()
	out := filepath.Join(parent, "out")
	tr, err := StdlibUnpack(context.Background(), pkg, out)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Files != ds.Files || tr.Bytes != ds.Bytes {
		t.Errorf("extracted %+v, want %d files, %d bytes", tr, ds.Files, ds.Bytes)
	}
	if a, b := hashTree(t, setup), hashTree(t, out); a != b {
		t.Errorf("output tree %s differs from the source %s", b, a)
	}
	if err := ds.check("stdlib", out); err != nil {
		t.Error(err)
	}
	assertClean(t, parent, "out")
	if _, err := StdlibUnpack(context.Background(), pkg, out); !errors.Is(err, ErrExists) {
		t.Errorf("second unpack into the same folder: %v, want ErrExists", err)
	}
}

func TestStdlibRejectsTamperedPackage(t *testing.T) {
	_, pkg, _ := packSmall(t)
	p, f, err := decrypt.OpenFile(pkg)
	if err != nil {
		t.Fatal(err)
	}
	_, off, n := p.Content.Outer()
	f.Close()
	orig, err := os.ReadFile(pkg)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		at   int64
		want error
	}{
		{"mac", off + 3, decrypt.ErrMAC},
		{"iv", off + decrypt.MacSize + 1, decrypt.ErrIV},
		{"ciphertext", off + n/2, decrypt.ErrMAC},
		{"last block", off + n - 1, decrypt.ErrMAC},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := bytes.Clone(orig)
			bad[tt.at] ^= 0x40
			dir := t.TempDir()
			path := filepath.Join(dir, "bad.intunewin")
			if err := os.WriteFile(path, bad, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := StdlibUnpack(context.Background(), path, filepath.Join(dir, "out"))
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			assertClean(t, dir, "bad.intunewin")
		})
	}
}

func zipOf(t *testing.T, entries ...[2]string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	for _, e := range entries {
		f, err := w.Create(e[0])
		if err != nil {
			t.Fatal(err)
		}
		f.Write([]byte(e[1]))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestStdlibChecks(t *testing.T) {
	badCRC := func() []byte {
		var b bytes.Buffer
		w := zip.NewWriter(&b)
		f, _ := w.CreateRaw(&zip.FileHeader{Name: "a.txt", Method: zip.Store, CRC32: crc32.ChecksumIEEE([]byte("other")),
			CompressedSize64: 5, UncompressedSize64: 5})
		f.Write([]byte("hello"))
		w.Close()
		return b.Bytes()
	}()
	tests := []struct {
		name    string
		zip     []byte
		breakFn func(*decrypt.Keys)
		want    error
		files   []string
	}{
		{"backslashes", zipOf(t, [2]string{`Fonts\a.otf`, "font"}, [2]string{`Fonts\Sub\b.txt`, "b"}), nil, nil,
			[]string{"Fonts/a.otf", "Fonts/Sub/b.txt"}},
		{"digest", zipOf(t, [2]string{"a.txt", "a"}), func(k *decrypt.Keys) { k.FileDigest[0] ^= 1 }, decrypt.ErrDigest, nil},
		{"mac key", zipOf(t, [2]string{"a.txt", "a"}), func(k *decrypt.Keys) { k.MacKey[0] ^= 1 }, decrypt.ErrMAC, nil},
		{"parent", zipOf(t, [2]string{"ok.txt", "y"}, [2]string{`..\evil.txt`, "x"}), nil, stage.ErrUnsafePath, nil},
		{"absolute", zipOf(t, [2]string{"/etc/evil", "x"}), nil, stage.ErrUnsafePath, nil},
		{"drive", zipOf(t, [2]string{`C:\evil`, "x"}), nil, stage.ErrUnsafePath, nil},
		{"crc", badCRC, nil, zip.ErrChecksum, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc, k := seal(t, tt.zip)
			if tt.breakFn != nil {
				tt.breakFn(&k)
			}
			parent := t.TempDir()
			out := filepath.Join(parent, "out")
			_, err := stdlibUnpack(context.Background(), enc, k, out, nil)
			if tt.want != nil {
				if !errors.Is(err, tt.want) {
					t.Fatalf("got %v, want %v", err, tt.want)
				}
				assertClean(t, parent)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range tt.files {
				if _, err := os.Stat(filepath.Join(out, filepath.FromSlash(f))); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

func FuzzStdlibExtract(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.zip")
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		parent := t.TempDir()
		out := filepath.Join(parent, "out")
		_, err := extractZip(context.Background(), bytes.NewReader(data), int64(len(data)), out)
		ents, rerr := os.ReadDir(parent)
		if rerr != nil {
			t.Fatal(rerr)
		}
		for _, e := range ents {
			if e.Name() != "out" {
				t.Fatalf("extraction wrote %q outside its folder (err %v)", e.Name(), err)
			}
		}
	})
}

func TestMeasurePhases(t *testing.T) {
	_, pkg, _ := packSmall(t)
	work := t.TempDir()
	ph, err := MeasurePhases(context.Background(), pkg, work)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range append(ph.Imepipe, ph.Stdlib...) {
		if p.Seconds < 0 {
			t.Errorf("phase %s took %v s", p.Name, p.Seconds)
		}
		names = append(names, p.Name)
	}
	want := []string{"verify+decrypt (decrypt.Open)", "extract (stage.Extract)", "hmac", "decrypt", "sha256", "extract"}
	if !slices.Equal(names, want) {
		t.Errorf("phases %v, want %v", names, want)
	}
	assertClean(t, work)
}
