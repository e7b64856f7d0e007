package stage

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imepipe/imepipe/internal/fulldisk"
)

// A full disk ends Extract and ExtractStream with the file system's error
// and leaves nothing behind, whichever writer met it: the creator (small
// files), a worker (mid-size) or the two-goroutine direct path (big).
func TestExtractDiskFull(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return b
	}
	var entries []rawEntry
	for i := range 40 {
		entries = append(entries, rawEntry{name: fmt.Sprintf("small/%02d.bin", i), data: random(200 << 10), method: 8})
	}
	entries = append(entries,
		rawEntry{name: "mid.bin", data: random(3 << 20), method: 8},
		rawEntry{name: "big.bin", data: random(pipeMin + 1<<20), method: 8})
	z := rawZip(t, entries)
	for name, run := range map[string]func(dir string) error{
		"Extract": func(dir string) error {
			_, err := Extract(context.Background(), bytes.NewReader(z), int64(len(z)), dir, Options{})
			return err
		},
		"ExtractStream": func(dir string) error {
			_, err := ExtractStream(context.Background(), bytes.NewReader(z), dir, Options{})
			return err
		},
	} {
		for _, size := range []int64{2 << 20, 6 << 20, 12 << 20} {
			parent := fulldisk.Dir(t, size)
			err := run(filepath.Join(parent, "out"))
			if err == nil || !strings.Contains(err.Error(), "no space left") {
				t.Fatalf("%s into %d bytes: err = %v, want no space left", name, size, err)
			}
			assertNothingLeft(t, parent)
		}
	}
}
