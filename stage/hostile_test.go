package stage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
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

func TestExtractHostile(t *testing.T) {
	hello := []byte("hello, world\n")
	tests := []struct {
		name    string
		entries []rawEntry
		want    error
	}{
		{"dotdot", []rawEntry{{name: "../evil", data: hello}}, ErrUnsafePath},
		{"dotdot inside", []rawEntry{{name: "a/../../evil", data: hello}}, ErrUnsafePath},
		{"dotdot backslash", []rawEntry{{name: `a\..\..\evil`, data: hello}}, ErrUnsafePath},
		{"dot part", []rawEntry{{name: "a/./b", data: hello}}, ErrUnsafePath},
		{"empty part", []rawEntry{{name: "a//b", data: hello}}, ErrUnsafePath},
		{"absolute slash", []rawEntry{{name: "/tmp/evil", data: hello}}, ErrUnsafePath},
		{"absolute backslash", []rawEntry{{name: `\tmp\evil`, data: hello}}, ErrUnsafePath},
		{"drive absolute", []rawEntry{{name: `C:\evil`, data: hello}}, ErrUnsafePath},
		{"drive relative", []rawEntry{{name: `C:evil`, data: hello}}, ErrUnsafePath},
		{"stream", []rawEntry{{name: `a.txt:stream`, data: hello}}, ErrUnsafePath},
		{"unc backslash", []rawEntry{{name: `\\host\share\evil`, data: hello}}, ErrUnsafePath},
		{"unc slash", []rawEntry{{name: `//host/share/evil`, data: hello}}, ErrUnsafePath},
		{"nul", []rawEntry{{name: "a\x00b", data: hello}}, ErrUnsafePath},
		{"empty name", []rawEntry{{name: "", data: hello}}, ErrUnsafePath},
		{"root dir", []rawEntry{{name: "/"}}, ErrUnsafePath},
		{"symlink", []rawEntry{{name: "link", data: []byte("/etc/passwd"), creator: unix, attrs: 0o120777 << 16}}, ErrUnsafePath},
		{"fifo", []rawEntry{{name: "fifo", creator: unix, attrs: 0o010644 << 16}}, ErrUnsafePath},
		{"duplicate", []rawEntry{{name: "a.txt", data: hello}, {name: "a.txt", data: hello}}, ErrUnsafePath},
		{"duplicate by separator", []rawEntry{{name: "d/a.txt", data: hello}, {name: `d\a.txt`, data: hello}}, ErrUnsafePath},
		{"duplicate dir by trailing slash", []rawEntry{{name: "d/"}, {name: `d\`}}, ErrUnsafePath},
		{"file then dir", []rawEntry{{name: "a", data: hello}, {name: "a/"}}, ErrUnsafePath},
		{"file is a parent", []rawEntry{{name: "a", data: hello}, {name: "a/b", data: hello}}, ErrUnsafePath},
		{"parent then file", []rawEntry{{name: `a\b`, data: hello}, {name: "a", data: hello}}, ErrUnsafePath},
		{"size smaller (deflate)", []rawEntry{{name: "a", data: hello, method: 8, usize: u32(5)}}, ErrCorrupt},
		{"size larger (deflate)", []rawEntry{{name: "a", data: hello, method: 8, usize: u32(500)}}, ErrCorrupt},
		{"size smaller (store)", []rawEntry{{name: "a", data: hello, usize: u32(5), csize: u32(5)}}, ErrCorrupt},
		{"size larger (store)", []rawEntry{{name: "a", data: hello, usize: u32(500), csize: u32(500)}}, ErrCorrupt},
		{"store sizes differ", []rawEntry{{name: "a", data: bytes.Repeat(hello, 500), usize: u32(10)}}, ErrCorrupt},
		{"crc mismatch", []rawEntry{{name: "a", data: hello, method: 8, crc: u32(0xdeadbeef)}}, ErrCorrupt},
		{"crc zero", []rawEntry{{name: "a", data: hello, method: 8, crc: u32(0)}}, ErrCorrupt},
		{"truncated deflate", []rawEntry{{name: "a", data: bytes.Repeat(hello, 100), method: 8, cut: 4}}, ErrCorrupt},
		{"garbled deflate", []rawEntry{{name: "a", data: hello, method: 8, garble: 1}}, ErrCorrupt},
		{"compressed size past end", []rawEntry{{name: "a", data: hello, method: 8, csize: u32(1 << 20)}}, ErrCorrupt},
		{"encrypted", []rawEntry{{name: "a", data: hello, flags: flagEncrypted}}, ErrUnsupported},
		{"bzip2", []rawEntry{{name: "a", data: hello, method: 12}}, ErrUnsupported},
		{"directory with data", []rawEntry{{name: "d/", data: hello}}, ErrCorrupt},
		{"big: size smaller", []rawEntry{{name: "a", data: bigData, method: 8, usize: u32(pipeMin + 5)}}, ErrCorrupt},
		{"big: size larger", []rawEntry{{name: "a", data: bigData, method: 8, usize: u32(uint32(len(bigData)) + 1)}}, ErrCorrupt},
		{"big: crc mismatch", []rawEntry{{name: "a", data: bigData, method: 8, crc: u32(7)}}, ErrCorrupt},
		{"big: truncated", []rawEntry{{name: "a", data: bigData, method: 8, cut: 100}}, ErrCorrupt},
		{"bad later entry", []rawEntry{{name: "good/a", data: hello}, {name: "good/b", data: hello, crc: u32(1)}}, ErrCorrupt},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			z := rawZip(t, tc.entries)
			parent := t.TempDir()
			dir := filepath.Join(parent, "out")
			_, err := Extract(context.Background(), bytes.NewReader(z), int64(len(z)), dir, Options{Workers: 2})
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			assertNothingLeft(t, parent)
		})
	}
}

func TestExtractNotAZip(t *testing.T) {
	good := rawZip(t, []rawEntry{{name: "a", data: []byte("data"), method: 8}, {name: "b/c", data: []byte("more")}})
	tests := map[string][]byte{
		"empty":        nil,
		"text":         []byte("this is not a zip file at all, not even close"),
		"truncated":    good[:len(good)/2],
		"no end":       good[:len(good)-10],
		"cut local":    good[10:],
		"end only":     good[len(good)-22:],
		"garbage head": append(bytes.Repeat([]byte{0xff}, 30), good[30:]...),
	}
	for name, z := range tests {
		t.Run(name, func(t *testing.T) {
			parent := t.TempDir()
			_, err := Extract(context.Background(), bytes.NewReader(z), int64(len(z)), filepath.Join(parent, "out"), Options{})
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("err = %v, want ErrCorrupt", err)
			}
			assertNothingLeft(t, parent)
		})
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
	_, err := Extract(context.Background(), bytes.NewReader(z), int64(len(z)), filepath.Join(parent, "out"), Options{Workers: 4})
	if err == nil || !strings.Contains(err.Error(), "file name too long") {
		t.Fatalf("Extract: err = %v, want the file system's error", err)
	}
	assertNothingLeft(t, parent)
	_, err = ExtractStream(context.Background(), bytes.NewReader(z), filepath.Join(parent, "out"), Options{Workers: 4})
	if err == nil || !strings.Contains(err.Error(), "file name too long") {
		t.Fatalf("ExtractStream: err = %v, want the file system's error", err)
	}
	assertNothingLeft(t, parent)
}
