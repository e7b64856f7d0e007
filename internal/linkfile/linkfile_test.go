package linkfile

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestMakeNamesTheSameBytes(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src.bin")
	body := bytes.Repeat([]byte("imepipe"), 1000)
	if err := os.WriteFile(src, body, 0o644); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, "sub", "dst.intunewin")
	if err := os.Mkdir(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := Make(src, dst); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(dst)
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("dst reads %d bytes, %v; want the %d bytes of src", len(got), err, len(body))
	}
	if st, err := os.Stat(dst); err != nil || !st.Mode().IsRegular() {
		t.Fatalf("dst stat %v, %v; want a regular file", st, err)
	}
}

func TestMakeKeepsExistingDst(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	os.WriteFile(src, []byte("new"), 0o644)
	os.WriteFile(dst, []byte("old"), 0o644)
	if err := Make(src, dst); !errors.Is(err, os.ErrExist) {
		t.Fatalf("Make over an existing dst: %v, want ErrExist", err)
	}
	if got, _ := os.ReadFile(dst); string(got) != "old" {
		t.Fatalf("dst now %q, want it untouched", got)
	}
}

func TestMakeMissingSrc(t *testing.T) {
	dir := t.TempDir()
	dst := filepath.Join(dir, "dst")
	if err := Make(filepath.Join(dir, "nope"), dst); err == nil {
		t.Fatal("Make of a missing src succeeded")
	}
	if _, err := os.Lstat(dst); !os.IsNotExist(err) {
		t.Fatalf("a failed Make left dst: %v", err)
	}
}
