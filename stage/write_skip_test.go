package stage

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestWriteSkip: entries Skip returns true for are not packed, nor looked
// at (a symlink skipped is no error), and a folder left with nothing is
// not packed either.
func TestWriteSkip(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "out"), 0o755)
	for _, n := range []string{"a.txt", "skip.bin", filepath.Join("out", "pkg.bin")} {
		if err := os.WriteFile(filepath.Join(root, n), []byte(n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	skipped := map[string]bool{filepath.Join(root, "skip.bin"): true, filepath.Join(root, "out", "pkg.bin"): true}
	if os.Symlink("/etc/passwd", filepath.Join(root, "link")) == nil {
		skipped[filepath.Join(root, "link")] = true
	}
	data, res := writeZip(t, root, WriteOptions{Skip: func(p string) bool { return skipped[p] }})
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	if !slices.Equal(names, []string{"a.txt"}) || res.Files != 1 || res.Dirs != 0 {
		t.Errorf("packed %q (%d files, %d folders), want only a.txt", names, res.Files, res.Dirs)
	}
}
