package stage

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzExtract: whatever the bytes, Extract does not panic, writes nothing
// outside its destination, and leaves no destination (nor .partial) when
// it fails.
func FuzzExtract(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("testdata", "*.zip"))
	if err != nil || len(seeds) == 0 {
		f.Fatalf("no seeds in testdata: %v", err)
	}
	for _, p := range seeds {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(rawZip(f, []rawEntry{{name: "a/b.txt", data: []byte("x"), method: 8}, {name: "c/"}}))
	f.Add(rawZip(f, []rawEntry{{name: "../x", data: []byte("x")}}))
	// One base directory per process: t.TempDir in the fuzz body stalls
	// the fuzzing worker for seconds at a time.
	base := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		parent, err := os.MkdirTemp(base, "x")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(parent)
		dir := filepath.Join(parent, "a", "b", "out")
		_, err = Extract(context.Background(), bytes.NewReader(data), int64(len(data)), dir, Options{Workers: 2})
		err2 := filepath.WalkDir(parent, func(p string, d fs.DirEntry, werr error) error {
			if werr != nil {
				return werr
			}
			rel, _ := filepath.Rel(parent, p)
			rel = filepath.ToSlash(rel)
			switch {
			case rel == "." || rel == "a" || rel == "a/b":
			case err == nil && (rel == "a/b/out" || strings.HasPrefix(rel, "a/b/out/")):
				if d.Type()&fs.ModeSymlink != 0 {
					t.Errorf("symlink extracted: %s", rel)
				}
			default:
				t.Errorf("unexpected path after Extract (err %v): %s", err, rel)
			}
			return nil
		})
		if err2 != nil {
			t.Fatal(err2)
		}
		if err != nil && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrUnsafePath) && !errors.Is(err, ErrUnsupported) {
			t.Errorf("error without a sentinel: %v", err)
		}
	})
}
