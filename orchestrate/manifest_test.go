package orchestrate

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// keptTree writes n files of size bytes in two folders.
func keptTree(tb testing.TB, n, size int) string {
	tb.Helper()
	dir := tb.TempDir()
	buf := make([]byte, size)
	for i := range n {
		sub := filepath.Join(dir, fmt.Sprintf("d%d", i%2))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			tb.Fatal(err)
		}
		buf[0] = byte(i)
		if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("f%d", i)), buf, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}

// TestVerifyKeptSameSizeEdit: an edit that keeps the size is caught by
// the hash; a record without a manifest never verifies.
func TestVerifyKeptSameSizeEdit(t *testing.T) {
	dir := keptTree(t, 4, 100)
	files, total, err := manifestOf(dir)
	if err != nil || total != 400 || len(files) != 6 {
		t.Fatalf("manifest %d entries, %d bytes, %v", len(files), total, err)
	}
	if err := verifyKept(dir, files); err != nil {
		t.Fatal(err)
	}
	must(t, os.WriteFile(filepath.Join(dir, "d1", "f3"), make([]byte, 100), 0o644))
	if err := verifyKept(dir, files); !errors.Is(err, ErrKept) {
		t.Fatalf("same-size edit: %v", err)
	}
	if err := verifyKept(dir, nil); !errors.Is(err, ErrKept) {
		t.Fatalf("no manifest: %v", err)
	}
}

// BenchmarkVerifyKept: the cost of checking kept content before reuse
// (64 files of 1 MiB, from the page cache).
func BenchmarkVerifyKept(b *testing.B) {
	dir := keptTree(b, 64, 1<<20)
	files, total, err := manifestOf(dir)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(total)
	for b.Loop() {
		if err := verifyKept(dir, files); err != nil {
			b.Fatal(err)
		}
	}
}
