//go:build unix

package stage

import (
	"archive/zip"
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestBigFileZip64 packs and extracts one 4.5 GiB file (sparse zeros, so
// the test costs time, not disk) and checks that peak memory stays under
// 100 MiB. Run with IMEPIPE_SLOW=1.
func TestBigFileZip64(t *testing.T) {
	if testing.Short() || os.Getenv("IMEPIPE_SLOW") != "1" {
		t.Skip("slow: set IMEPIPE_SLOW=1 (packs and extracts 4.5 GiB)")
	}
	const size = 4608 << 20
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "small.txt"), []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(root, "big.bin")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	f.Close()

	zp := filepath.Join(t.TempDir(), "big.zip")
	out, err := os.Create(zp)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Write(context.Background(), onlyWriter{out}, root, WriteOptions{TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	if res.Bytes != size+5 {
		t.Fatalf("packed %d bytes", res.Bytes)
	}
	zf, err := os.Open(zp)
	if err != nil {
		t.Fatal(err)
	}
	defer zf.Close()
	zr, err := zip.NewReader(zf, res.Size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		t.Fatal(err)
	}
	var found bool
	for _, f := range zr.File {
		if f.Name == "big.bin" {
			found = f.UncompressedSize64 == size
		}
	}
	if !found {
		t.Fatal("big.bin missing or wrong size in the central directory")
	}

	dir := filepath.Join(t.TempDir(), "out")
	xres, err := Extract(context.Background(), zf, res.Size, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if xres.Bytes != size+5 {
		t.Fatalf("extracted %d bytes", xres.Bytes)
	}
	fi, err := os.Stat(filepath.Join(dir, "big.bin"))
	if err != nil || fi.Size() != size {
		t.Fatalf("big.bin: %v %v", fi, err)
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	t.Logf("peak RSS %d MiB, zip %d bytes", ru.Maxrss>>10, res.Size)
	if ru.Maxrss>>10 >= 100 {
		t.Errorf("peak RSS %d MiB, want < 100", ru.Maxrss>>10)
	}
}
