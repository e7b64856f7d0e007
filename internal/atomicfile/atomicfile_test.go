package atomicfile

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// TestWrite: the file is replaced whole with its mode; a failed write
// (the folder is gone) leaves nothing behind and says which file.
func TestWrite(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "rec.json")
	if err := os.WriteFile(p, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Write(p, []byte("new"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(p)
	fi, _ := os.Stat(p)
	if err != nil || string(got) != "new" || (runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600) {
		t.Fatalf("%q %v %v", got, fi.Mode(), err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("left %v", ents)
	}
	if err := Write(filepath.Join(dir, "missing", "x"), []byte("y"), 0o644); err == nil {
		t.Fatal("a write into a missing folder succeeded")
	}
}
