package stage

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// rawZipTime is the modification time rawZip writes (DOS 2020-01-01 12:00).
var rawZipTime = time.Date(2020, 1, 1, 12, 0, 0, 0, time.UTC)

// The closer goroutines Windows uses (and every system with Options.Sync)
// run here when forced: every file is written, dated and closed before
// the commit, and a failure still returns cleanly.
func TestAsyncClosers(t *testing.T) {
	defer func(n int) { asyncClosers = n }(asyncClosers)
	asyncClosers = 3
	testClosers(t, Options{Workers: 4})
	asyncClosers = 0
	testClosers(t, Options{Workers: 4, Sync: true})
}

func testClosers(t *testing.T, opt Options) {
	var entries []rawEntry
	for i := range 300 {
		entries = append(entries, rawEntry{name: fmt.Sprintf("d%d/%03d.txt", i%5, i), data: bytes.Repeat([]byte{byte(i)}, 100+i*7), method: 8})
	}
	z := rawZip(t, entries)
	extract := map[string]func(dir string) error{
		"Extract": func(dir string) error {
			_, err := Extract(context.Background(), bytes.NewReader(z), int64(len(z)), dir, opt)
			return err
		},
		"ExtractStream": func(dir string) error {
			_, err := ExtractStream(context.Background(), bytes.NewReader(z), dir, opt)
			return err
		},
	}
	for name, run := range extract {
		dir := filepath.Join(t.TempDir(), "out")
		if err := run(dir); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, e := range entries {
			p := filepath.Join(dir, filepath.FromSlash(e.name))
			got, err := os.ReadFile(p)
			if err != nil || !bytes.Equal(got, e.data) {
				t.Fatalf("%s: %s: %d bytes, %v", name, e.name, len(got), err)
			}
			if fi, err := os.Stat(p); err != nil || !fi.ModTime().Equal(rawZipTime) {
				t.Fatalf("%s: %s: modified %v, want %v", name, e.name, fi.ModTime(), rawZipTime)
			}
		}
	}
	bad := append(entries[:100:100], rawEntry{name: "d0/" + strings.Repeat("n", 300), data: []byte("x")})
	z = rawZip(t, append(bad, entries[100:]...))
	for name, run := range extract {
		parent := t.TempDir()
		if err := run(filepath.Join(parent, "out")); err == nil {
			t.Fatalf("%s: a name too long extracted", name)
		}
		assertNothingLeft(t, parent)
	}
}
