package decrypt

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imepipe/imepipe/internal/fulldisk"
)

// Pack into a file system that fills up fails with the file system's
// error and leaves no package, not even a partial one; the space is free
// again.
func TestPackDiskFull(t *testing.T) {
	src := t.TempDir()
	r := rand.New(rand.NewPCG(9, 10))
	data := make([]byte, 12<<20)
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	if err := os.WriteFile(filepath.Join(src, "setup.bin"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "setup.cmd"), []byte("@echo off\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, size := range []int64{1 << 20, 8 << 20} {
		out := fulldisk.Dir(t, size)
		_, err := Pack(context.Background(), src, "setup.cmd", filepath.Join(out, "setup.intunewin"), PackOptions{})
		if err == nil || !strings.Contains(err.Error(), "no space left") {
			t.Fatalf("pack into %d bytes: err = %v, want no space left", size, err)
		}
		ents, err := os.ReadDir(out)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			t.Errorf("left behind in %d bytes: %s", size, e.Name())
		}
	}
}
