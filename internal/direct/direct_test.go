package direct

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// dirs are the file systems to try: the test's temp dir (ext4 here, where
// O_DIRECT works) and /dev/shm (tmpfs, which may refuse it).
func dirs(t *testing.T) []string {
	out := []string{t.TempDir()}
	if d, err := os.MkdirTemp("/dev/shm", "direct-test"); err == nil {
		t.Cleanup(func() { os.RemoveAll(d) })
		out = append(out, d)
	}
	return out
}

// The file ends up holding the head written before, then every byte
// written, whatever the start offset and the sizes of the writes.
func TestWriter(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, dir := range dirs(t) {
		for _, c := range []struct{ head, total int }{
			{0, 0}, {0, 4096}, {1, 10}, {118, BlockSize}, {4095, 3*BlockSize + 17}, {4096, BlockSize + 4096}, {70000, 2*BlockSize - 1},
		} {
			head := make([]byte, c.head)
			for i := range head {
				head[i] = byte(r.Uint32())
			}
			data := make([]byte, c.total)
			for i := range data {
				data[i] = byte(r.Uint32())
			}
			path := filepath.Join(dir, "out")
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.Write(head); err != nil {
				t.Fatal(err)
			}
			w, err := NewWriter(f, int64(c.head))
			if err != nil {
				t.Fatal(err)
			}
			for rest := data; len(rest) > 0; {
				n := min(len(rest), 1+r.IntN(300000))
				if m, err := w.Write(rest[:n]); err != nil || m != n {
					t.Fatalf("%s %+v: Write %d of %d: %v", dir, c, m, n, err)
				}
				rest = rest[n:]
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			// The file is still usable through f after the Writer.
			if _, err := f.WriteAt([]byte("END"), int64(c.head+c.total)); err != nil {
				t.Fatal(err)
			}
			f.Close()
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			want := append(append(head, data...), "END"...)
			if !bytes.Equal(got, want) {
				t.Fatalf("%s %+v: file of %d bytes differs from the %d written", dir, c, len(got), len(want))
			}
			os.Remove(path)
		}
	}
}

// A file opened without read access cannot give back the head block.
func TestWriterNeedsReadableFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.Write([]byte("head"))
	w, err := NewWriter(f, 4)
	if err == nil && w.direct != nil {
		t.Fatal("NewWriter on a write-only file with an unaligned start: no error")
	}
}
