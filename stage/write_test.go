package stage

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// makeTree writes a source folder covering every kind of entry and path
// Write handles, and returns it with its files (slash paths → content).
func makeTree(t testing.TB) (string, map[string][]byte) {
	t.Helper()
	root := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	random := func(n int) []byte {
		b := make([]byte, n+8)
		for i := 0; i < n; i += 8 {
			binary.LittleEndian.PutUint64(b[i:], rng.Uint64())
		}
		return b[:n]
	}
	text := bytes.Repeat([]byte("Set-ItemProperty -Path HKLM:\\Software\\Contoso -Name Installed -Value 1\r\n"), 20)
	files := map[string][]byte{
		"install.ps1":                 text,
		"Setup.exe":                   random(300 << 10),                   // small, incompressible: stored
		"big/compressible.bin":        bytes.Repeat(text, 5<<20/len(text)), // big, spills past memory
		"big/random.cab":              random(3 << 20),                     // big, incompressible: stored, re-read
		"empty.txt":                   nil,                                 // empty file
		"Fonts/Ünïcødé €.otf":         random(1000),                        // UTF-8 name
		"Fonts/sub/deeper/readme.txt": bytes.Repeat([]byte("x"), 5000),     // nested
		"a/B/c.txt":                   []byte("case\n"),
	}
	for name, data := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{"emptydir", "a/empty2"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Date(2021, 3, 10, 11, 11, 42, 0, time.UTC)
	if err := os.Chtimes(filepath.Join(root, "install.ps1"), old, old); err != nil {
		t.Fatal(err)
	}
	return root, files
}

func writeZip(t testing.TB, root string, opt WriteOptions) ([]byte, WriteResult) {
	t.Helper()
	var buf bytes.Buffer
	res, err := Write(context.Background(), onlyWriter{&buf}, root, opt)
	if err != nil {
		t.Fatal(err)
	}
	if res.Size != int64(buf.Len()) {
		t.Fatalf("Size = %d, wrote %d", res.Size, buf.Len())
	}
	return buf.Bytes(), res
}

// onlyWriter hides everything but Write (no ReaderFrom, no Seek).
type onlyWriter struct{ w io.Writer }

func (o onlyWriter) Write(p []byte) (int, error) { return o.w.Write(p) }

func TestWriteRoundTrip(t *testing.T) {
	root, files := makeTree(t)
	z, res := writeZip(t, root, WriteOptions{Workers: 3, TempDir: t.TempDir()})
	if res.Files != len(files) || res.Dirs != 2 {
		t.Errorf("result %+v, want %d files, 2 dirs", res, len(files))
	}

	// The layout, read back by the standard library.
	zr, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		t.Fatal(err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
		if f.Flags != flagUTF8 {
			t.Errorf("%s: flags %#x, want 0x0800 (UTF-8, no data descriptor)", f.Name, f.Flags)
		}
		if strings.Contains(f.Name, "/") {
			t.Errorf("%s: slash in name, want backslashes", f.Name)
		}
		if f.CreatorVersion>>8 != 0 {
			t.Errorf("%s: creator %d, want FAT (0)", f.Name, f.CreatorVersion>>8)
		}
	}
	wantOrder := []string{
		"empty.txt", "emptydir\\", "install.ps1", "Setup.exe", // root block, NTFS order
		"a\\empty2\\", // then a\, depth first
		"a\\B\\c.txt", // a\B\
		"big\\compressible.bin", "big\\random.cab",
		"Fonts\\Ünïcødé €.otf",
		"Fonts\\sub\\deeper\\readme.txt",
	}
	if !slices.Equal(names, wantOrder) {
		t.Errorf("order\n got %q\nwant %q", names, wantOrder)
	}
	methods := map[string]uint16{}
	for _, f := range zr.File {
		methods[f.Name] = f.Method
	}
	for name, want := range map[string]uint16{
		"install.ps1": zip.Deflate, "big\\compressible.bin": zip.Deflate,
		// Microsoft's tool deflates everything but empty files, even what does not shrink.
		"Setup.exe": zip.Deflate, "big\\random.cab": zip.Deflate, "empty.txt": zip.Store,
	} {
		if methods[name] != want {
			t.Errorf("%s: method %d, want %d", name, methods[name], want)
		}
	}

	// Back through Extract: same bytes, same times (2 s resolution).
	dir := filepath.Join(t.TempDir(), "out")
	xres, err := Extract(context.Background(), bytes.NewReader(z), int64(len(z)), dir, Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if xres.Files != len(files) || xres.Bytes != res.Bytes {
		t.Errorf("extract %+v, write %+v", xres, res)
	}
	for name, data := range files {
		got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("%s: %d bytes, %v; want %d bytes", name, len(got), err, len(data))
		}
	}
	for _, d := range []string{"emptydir", "a/empty2"} {
		if fi, err := os.Stat(filepath.Join(dir, d)); err != nil || !fi.IsDir() {
			t.Errorf("%s: %v", d, err)
		}
	}
	fi, err := os.Stat(filepath.Join(dir, "install.ps1"))
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2021, 3, 10, 11, 11, 42, 0, time.UTC); !fi.ModTime().Equal(want) {
		t.Errorf("mtime %v, want %v", fi.ModTime(), want)
	}
}

func TestWritePython(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed: cannot cross-check with zipfile")
	}
	root, files := makeTree(t)
	for _, forced := range []bool{false, true} {
		name := "plain"
		if forced {
			name = "zip64"
		}
		t.Run(name, func(t *testing.T) {
			if forced {
				forceZip64(t, 100, 3)
			}
			z, _ := writeZip(t, root, WriteOptions{})
			p := filepath.Join(t.TempDir(), "out.zip")
			if err := os.WriteFile(p, z, 0o644); err != nil {
				t.Fatal(err)
			}
			const script = `
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
bad = z.testzip()
assert bad is None, bad
for i in z.infolist():
    assert i.flag_bits == 0x800, (i.filename, hex(i.flag_bits))
    print("%s\t%d" % (i.filename, i.file_size))
`
			out, err := exec.Command(py, "-c", script, p).CombinedOutput()
			if err != nil {
				t.Fatalf("python zipfile: %v\n%s", err, out)
			}
			got := map[string]bool{}
			for line := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
				got[strings.Split(line, "\t")[0]] = true
			}
			for f := range files {
				if !got[strings.ReplaceAll(f, "/", `\`)] {
					t.Errorf("python does not list %s", f)
				}
			}
			if forced && !bytes.Contains(z, []byte{0x50, 0x4b, 0x06, 0x06}) {
				t.Error("no ZIP64 end record written")
			}
		})
	}
}

// forceZip64 lowers the ZIP64 limits for one test.
func forceZip64(t testing.TB, size, entries uint64) {
	old32, old16 := max32, max16
	max32, max16 = size, entries
	t.Cleanup(func() { max32, max16 = old32, old16 })
}

func TestWriteRoundTripZip64Forced(t *testing.T) {
	forceZip64(t, 1000, 3)
	root, files := makeTree(t)
	z, _ := writeZip(t, root, WriteOptions{Workers: 2})
	zr, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		t.Fatal(err)
	}
	if len(zr.File) != len(files)+2 {
		t.Fatalf("%d entries", len(zr.File))
	}
	dir := filepath.Join(t.TempDir(), "out")
	if _, err := Extract(context.Background(), bytes.NewReader(z), int64(len(z)), dir, Options{}); err != nil {
		t.Fatal(err)
	}
	for name, data := range files {
		got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestWriteRefusesSymlink(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "a.txt"), []byte("a"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/passwd", filepath.Join(root, "passwd")); err != nil {
		t.Skipf("cannot make symlinks here: %v", err)
	}
	if fi, err := os.Lstat(filepath.Join(root, "passwd")); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		// Wine 8 reports success and makes no link.
		t.Skipf("symlink reported made but absent (%v): this system makes no symbolic links", err)
	}
	_, err := Write(context.Background(), io.Discard, root, WriteOptions{})
	if !errors.Is(err, ErrUnsafePath) {
		t.Fatalf("err = %v, want ErrUnsafePath", err)
	}
}

func TestWriteErrors(t *testing.T) {
	root, _ := makeTree(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Write(ctx, io.Discard, root, WriteOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: err = %v", err)
	}
	if _, err := Write(context.Background(), failWriter{}, root, WriteOptions{}); !errors.Is(err, errDiskFull) {
		t.Errorf("failing writer: err = %v", err)
	}
	if _, err := Write(context.Background(), io.Discard, filepath.Join(root, "nope"), WriteOptions{}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing root: err = %v", err)
	}
	if _, err := Write(context.Background(), io.Discard, root, WriteOptions{Level: 12}); err == nil {
		t.Error("level 12 accepted")
	}
}

var errDiskFull = errors.New("disk full")

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errDiskFull }

func TestWinCompare(t *testing.T) {
	names := []string{"uninstall.ps1", "Expand", "check.ps1", "Chocolatey.png", "install.ps1", "DesktopInfo64.exe", "DesktopInfo.ps1", "DesktopInfo.png", "a", "A"}
	slices.SortFunc(names, winCompare)
	want := []string{"A", "a", "check.ps1", "Chocolatey.png", "DesktopInfo.png", "DesktopInfo.ps1", "DesktopInfo64.exe", "Expand", "install.ps1", "uninstall.ps1"}
	if !slices.Equal(names, want) {
		t.Errorf("got %q\nwant %q", names, want)
	}
}

// TestWriteMatchesMicrosoftLayout: re-packing what a fixture's inner ZIP
// holds gives Microsoft's names, order, flags and version fields.
func TestWriteMatchesMicrosoftLayout(t *testing.T) {
	for zipName := range fixtureZips {
		t.Run(zipName, func(t *testing.T) {
			orig, err := os.ReadFile(filepath.Join("testdata", zipName))
			if err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(t.TempDir(), "out")
			if _, err := Extract(context.Background(), bytes.NewReader(orig), int64(len(orig)), dir, Options{}); err != nil {
				t.Fatal(err)
			}
			z, _ := writeZip(t, dir, WriteOptions{})
			want, _ := zip.NewReader(bytes.NewReader(orig), int64(len(orig)))
			got, _ := zip.NewReader(bytes.NewReader(z), int64(len(z)))
			if len(got.File) != len(want.File) {
				t.Fatalf("%d entries, want %d", len(got.File), len(want.File))
			}
			for i, w := range want.File {
				g := got.File[i]
				if g.Name != w.Name || g.Flags != w.Flags || g.CreatorVersion != w.CreatorVersion ||
					g.ReaderVersion != w.ReaderVersion || g.CRC32 != w.CRC32 || g.UncompressedSize64 != w.UncompressedSize64 ||
					g.ExternalAttrs != w.ExternalAttrs || len(g.Extra) != 0 || !g.Modified.Equal(w.Modified) {
					t.Errorf("entry %d:\n got %q flags %#x made %#x need %d crc %08x size %d attrs %#x extra %d time %v\nwant %q flags %#x made %#x need %d crc %08x size %d attrs %#x time %v",
						i, g.Name, g.Flags, g.CreatorVersion, g.ReaderVersion, g.CRC32, g.UncompressedSize64, g.ExternalAttrs, len(g.Extra), g.Modified,
						w.Name, w.Flags, w.CreatorVersion, w.ReaderVersion, w.CRC32, w.UncompressedSize64, w.ExternalAttrs, w.Modified)
				}
			}
		})
	}
}

// TestWriteManyWorkers: with many workers each entry gets less memory
// before it spills; the output is the same ZIP.
func TestWriteManyWorkers(t *testing.T) {
	root, _ := makeTree(t)
	a, _ := writeZip(t, root, WriteOptions{Workers: 1})
	b, _ := writeZip(t, root, WriteOptions{Workers: 64, TempDir: t.TempDir()})
	if !bytes.Equal(a, b) {
		t.Fatalf("1 worker: %d bytes, 64 workers: %d bytes, not the same ZIP", len(a), len(b))
	}
}
