package stage

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
)

const unix = 3 << 8

// assertNothingLeft checks that a failed Extract into parent/out left
// parent exactly as empty as it was.
func assertNothingLeft(t *testing.T, parent string) {
	t.Helper()
	ents, err := os.ReadDir(parent)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		t.Errorf("left behind: %s", e.Name())
	}
}

// bigData is big enough for the two-goroutine path (pipeMin).
var bigData = bytes.Repeat([]byte("0123456789abcdef\n"), (pipeMin+3<<20)/17)

func TestExtractBigEntry(t *testing.T) {
	z := rawZip(t, []rawEntry{{name: `big\data.log`, data: bigData, method: 8}, {name: "stored.bin", data: bigData}})
	dir := filepath.Join(t.TempDir(), "out")
	var progress atomic.Int64
	res, err := Extract(context.Background(), bytes.NewReader(z), int64(len(z)), dir, Options{Progress: func(n int64) { progress.Add(n) }})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"big/data.log", "stored.bin"} {
		got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil || !bytes.Equal(got, bigData) {
			t.Errorf("%s: %d bytes, %v", name, len(got), err)
		}
	}
	if progress.Load() != 2*int64(len(bigData)) || res.Bytes != progress.Load() {
		t.Errorf("progress %d, result %+v", progress.Load(), res)
	}
}

// A file the creator cannot create (a name past the file system's 255
// bytes) fails the extraction while workers are still handing entries
// over: the error comes back, nobody waits forever, nothing is left;
// the same for ExtractStream.
func TestExtractCreatorFails(t *testing.T) {
	var entries []rawEntry
	for i := range 400 {
		entries = append(entries, rawEntry{name: fmt.Sprintf("d/%03d.txt", i), data: bytes.Repeat([]byte{byte(i)}, 3000), method: 8})
		if i == 100 {
			entries = append(entries, rawEntry{name: "d/" + strings.Repeat("n", 300), data: []byte("x")})
		}
	}
	z := rawZip(t, entries)
	parent := t.TempDir()
	// Linux says ENAMETOOLONG; Windows words it otherwise (ERROR_INVALID_NAME,
	// or "File not found." under Wine): there the error must name the entry.
	fsErr := "file name too long"
	if runtime.GOOS == "windows" {
		fsErr = `stage: entry "d/nnnnnnnn`
	}
	_, err := Extract(context.Background(), bytes.NewReader(z), int64(len(z)), filepath.Join(parent, "out"), Options{Workers: 4})
	if err == nil || !strings.Contains(err.Error(), fsErr) {
		t.Fatalf("Extract: err = %v, want the file system's error", err)
	}
	assertNothingLeft(t, parent)
	_, err = ExtractStream(context.Background(), bytes.NewReader(z), filepath.Join(parent, "out"), Options{Workers: 4})
	if err == nil || !strings.Contains(err.Error(), fsErr) {
		t.Fatalf("ExtractStream: err = %v, want the file system's error", err)
	}
	assertNothingLeft(t, parent)
}
