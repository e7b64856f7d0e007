package stage

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/imepipe/imepipe/internal/align"
)

// TestOutFileDirectTail writes a big file the way copyPiped does (aligned
// chunks, then an unaligned tail) and one that starts unaligned: both must
// read back byte for byte whether or not the file system takes O_DIRECT.
func TestOutFileDirectTail(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	chunk := align.Buf(pipeChunk)
	for i := range chunk {
		chunk[i] = byte(rng.Uint32())
	}
	cases := map[string][][]byte{
		"aligned then tail": {chunk, chunk, chunk[:12345]},
		"unaligned first":   {chunk[1:4097], chunk, chunk[:align.Size]},
		"aligned only":      {chunk, chunk[:align.Size]},
	}
	for name, writes := range cases {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "f")
			f, err := createFile(p, 0o644, directMin)
			if err != nil {
				t.Fatal(err)
			}
			var want bytes.Buffer
			for _, w := range writes {
				if n, err := f.Write(w); err != nil || n != len(w) {
					t.Fatalf("write %d bytes: %d, %v", len(w), n, err)
				}
				want.Write(w)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want.Bytes()) {
				t.Fatalf("read back %d bytes, want %d equal ones", len(got), want.Len())
			}
		})
	}
}

func TestDataPools(t *testing.T) {
	for _, n := range []int{0, 1, 4096, 4097, 1 << 20, bufferedEntry, bufferedEntry + 1} {
		p := getData(n)
		if len(*p) != n {
			t.Fatalf("getData(%d): len %d", n, len(*p))
		}
		if c := sizeClass(n); c >= 0 && cap(*p) != 1<<(c+minClassShift) {
			t.Fatalf("getData(%d): cap %d, want the class size", n, cap(*p))
		}
		putData(p)
		if q := getData(n); len(*q) != n {
			t.Fatalf("getData(%d) after putData: len %d", n, len(*q))
		}
	}
}

func TestDataCacheBounded(t *testing.T) {
	var bufs []*[]byte
	for range 2 * cacheBytes / bufferedEntry {
		bufs = append(bufs, getData(bufferedEntry))
	}
	for _, b := range bufs {
		putData(b)
	}
	dataCache.Lock()
	defer dataCache.Unlock()
	if dataCache.bytes > cacheBytes {
		t.Fatalf("cache keeps %d bytes, more than %d", dataCache.bytes, cacheBytes)
	}
}
