package stage

import (
	"bytes"
	"compress/flate"
	"context"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/imepipe/imepipe/internal/fulldisk"
)

// hostileCase is one hostile ZIP of the table that both extractors run.
type hostileCase struct {
	name string
	zip  []byte
	want error // the sentinel both must return
	// random, when set, is what Extract (random access) returns instead:
	// a lie only a front-to-back reader can see, since Extract reads the
	// central directory alone (nil: Extract accepts it, as archive/zip).
	random *error
}

// bombData is 40 MiB of zeros and its Deflate stream (about 40 KB).
var bombData = sync.OnceValues(func() ([]byte, []byte) {
	data := make([]byte, 40<<20)
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.BestCompression)
	w.Write(data)
	w.Close()
	return data, b.Bytes()
})

func hostileCases(t *testing.T) []hostileCase {
	hello := []byte("hello, world\n")
	z := func(entries ...rawEntry) []byte { return rawZip(t, entries) }
	good := z(rawEntry{name: "a", data: hello, method: 8}, rawEntry{name: "b/c", data: hello})
	// A central directory that names another file than the local header.
	renamed := bytes.Clone(good)
	if i := bytes.LastIndex(renamed, []byte("b/c")); i > 0 {
		renamed[i+2] = 'x'
	}
	// A central directory that claims a symlink for an entry the stream wrote as a file.
	symlinked := bytes.Clone(good)
	cd := bytes.Index(symlinked, []byte{0x50, 0x4b, 0x01, 0x02})
	binary.LittleEndian.PutUint16(symlinked[cd+4:], 3<<8|20)
	binary.LittleEndian.PutUint32(symlinked[cd+38:], 0o120777<<16)
	bomb, bombComp := bombData()
	accepted := func(err error) *error { return &err }

	return []hostileCase{
		// names
		{"dotdot", z(rawEntry{name: "../evil", data: hello}), ErrUnsafePath, nil},
		{"dotdot inside", z(rawEntry{name: "a/../../evil", data: hello}), ErrUnsafePath, nil},
		{"dotdot backslash", z(rawEntry{name: `a\..\..\evil`, data: hello}), ErrUnsafePath, nil},
		{"dot part", z(rawEntry{name: "a/./b", data: hello}), ErrUnsafePath, nil},
		{"empty part", z(rawEntry{name: "a//b", data: hello}), ErrUnsafePath, nil},
		{"absolute slash", z(rawEntry{name: "/tmp/evil", data: hello}), ErrUnsafePath, nil},
		{"absolute backslash", z(rawEntry{name: `\tmp\evil`, data: hello}), ErrUnsafePath, nil},
		{"drive absolute", z(rawEntry{name: `C:\evil`, data: hello}), ErrUnsafePath, nil},
		{"drive relative", z(rawEntry{name: `C:evil`, data: hello}), ErrUnsafePath, nil},
		{"stream", z(rawEntry{name: `a.txt:stream`, data: hello}), ErrUnsafePath, nil},
		{"unc backslash", z(rawEntry{name: `\\host\share\evil`, data: hello}), ErrUnsafePath, nil},
		{"unc slash", z(rawEntry{name: `//host/share/evil`, data: hello}), ErrUnsafePath, nil},
		{"nul", z(rawEntry{name: "a\x00b", data: hello}), ErrUnsafePath, nil},
		{"empty name", z(rawEntry{name: "", data: hello}), ErrUnsafePath, nil},
		{"root dir", z(rawEntry{name: "/"}), ErrUnsafePath, nil},
		{"escape sequence", z(rawEntry{name: "\x1b]0;owned\x07.txt", data: hello}), ErrUnsafePath, nil},
		{"C1 control", z(rawEntry{name: "a\u009b2J", data: hello}), ErrUnsafePath, nil},
		{"right-to-left override", z(rawEntry{name: "invoice\u202Etxt.exe", data: hello}), ErrUnsafePath, nil},
		{"invalid UTF-8", z(rawEntry{name: "a\xff\xfe", data: hello}), ErrUnsafePath, nil},
		{"CP437 control", z(rawEntry{name: "a\x07b", data: hello, cp437: true}), ErrUnsafePath, nil},
		{"trailing dot", z(rawEntry{name: "dir./a", data: hello}), ErrUnsafePath, nil},
		{"trailing space", z(rawEntry{name: "a ", data: hello}), ErrUnsafePath, nil},
		{"device name", z(rawEntry{name: `sub\con.txt`, data: hello}), ErrUnsafePath, nil},
		{"8.3 alias", z(rawEntry{name: "PROGRA~1/x", data: hello}), ErrUnsafePath, nil},
		{"long name", z(rawEntry{name: strings.Repeat("n", 9000) + "/..", data: hello}), ErrUnsafePath, nil},
		// kinds
		{"symlink", z(rawEntry{name: "link", data: []byte("/etc/passwd"), creator: unix, attrs: 0o120777 << 16}), ErrUnsafePath, nil},
		{"fifo", z(rawEntry{name: "fifo", creator: unix, attrs: 0o010644 << 16}), ErrUnsafePath, nil},
		{"central symlink", symlinked, ErrUnsafePath, nil},
		// collisions
		{"duplicate", z(rawEntry{name: "a.txt", data: hello}, rawEntry{name: "a.txt", data: hello}), ErrUnsafePath, nil},
		{"duplicate by separator", z(rawEntry{name: "d/a.txt", data: hello}, rawEntry{name: `d\a.txt`, data: hello}), ErrUnsafePath, nil},
		{"duplicate dir by trailing slash", z(rawEntry{name: "d/"}, rawEntry{name: `d\`}), ErrUnsafePath, nil},
		{"duplicate by case", z(rawEntry{name: "Setup.exe", data: hello}, rawEntry{name: "setup.EXE", data: hello}), ErrUnsafePath, nil},
		{"folders differ by case", z(rawEntry{name: "Dir/a", data: hello}, rawEntry{name: "dir/b", data: hello}), ErrUnsafePath, nil},
		{"file then dir", z(rawEntry{name: "a", data: hello}, rawEntry{name: "a/"}), ErrUnsafePath, nil},
		{"file is a parent", z(rawEntry{name: "a", data: hello}, rawEntry{name: "a/b", data: hello}), ErrUnsafePath, nil},
		{"parent then file", z(rawEntry{name: `a\b`, data: hello}, rawEntry{name: "a", data: hello}), ErrUnsafePath, nil},
		// sizes and checksums
		{"size smaller (deflate)", z(rawEntry{name: "a", data: hello, method: 8, usize: u32(5)}), ErrCorrupt, nil},
		{"size larger (deflate)", z(rawEntry{name: "a", data: hello, method: 8, usize: u32(500)}), ErrCorrupt, nil},
		{"size smaller (store)", z(rawEntry{name: "a", data: hello, usize: u32(5), csize: u32(5)}), ErrCorrupt, nil},
		{"size larger (store)", z(rawEntry{name: "a", data: hello, usize: u32(500), csize: u32(500)}), ErrCorrupt, nil},
		{"store sizes differ", z(rawEntry{name: "a", data: bytes.Repeat(hello, 500), usize: u32(10)}), ErrCorrupt, nil},
		{"crc mismatch", z(rawEntry{name: "a", data: hello, method: 8, crc: u32(0xdeadbeef)}), ErrCorrupt, nil},
		{"crc zero", z(rawEntry{name: "a", data: hello, method: 8, crc: u32(0)}), ErrCorrupt, nil},
		{"truncated deflate", z(rawEntry{name: "a", data: bytes.Repeat(hello, 100), method: 8, cut: 4}), ErrCorrupt, nil},
		{"garbled deflate", z(rawEntry{name: "a", data: hello, method: 8, garble: 1}), ErrCorrupt, nil},
		{"compressed size past end", z(rawEntry{name: "a", data: hello, method: 8, csize: u32(1 << 20)}), ErrCorrupt, nil},
		{"directory with data", z(rawEntry{name: "d/", data: hello}), ErrCorrupt, nil},
		{"big: size smaller", z(rawEntry{name: "a", data: bigData, method: 8, usize: u32(pipeMin + 5)}), ErrCorrupt, nil},
		{"big: size larger", z(rawEntry{name: "a", data: bigData, method: 8, usize: u32(uint32(len(bigData)) + 1)}), ErrCorrupt, nil},
		{"big: crc mismatch", z(rawEntry{name: "a", data: bigData, method: 8, crc: u32(7)}), ErrCorrupt, nil},
		{"big: truncated", z(rawEntry{name: "a", data: bigData, method: 8, cut: 100}), ErrCorrupt, nil},
		{"bad later entry", z(rawEntry{name: "good/a", data: hello}, rawEntry{name: "good/b", data: hello, crc: u32(1)}), ErrCorrupt, nil},
		// bombs: 40 KB of Deflate inflating to 40 MiB, declaring 1000 bytes
		{"bomb", z(rawEntry{name: "bomb", data: bomb, comp: bombComp, method: 8, usize: u32(1000)}), ErrCorrupt, nil},
		{"descriptor bomb", z(rawEntry{name: "bomb", data: bomb, comp: bombComp, method: 8, usize: u32(1000), descriptor: true}), ErrCorrupt, nil},
		{"descriptor bomb, central lies", z(rawEntry{name: "bomb", data: bomb, comp: bombComp, method: 8, cdUsize: u32(1000), descriptor: true}), ErrCorrupt, nil},
		{"descriptor bomb after a good entry", z(rawEntry{name: "ok", data: hello, method: 8}, rawEntry{name: "bomb", data: bomb, comp: bombComp, method: 8, usize: u32(1000), descriptor: true}), ErrCorrupt, nil},
		// methods
		{"encrypted", z(rawEntry{name: "a", data: hello, flags: flagEncrypted}), ErrUnsupported, nil},
		{"bzip2", z(rawEntry{name: "a", data: hello, method: 12}), ErrUnsupported, nil},
		// structure
		{"central renames", renamed, ErrCorrupt, accepted(nil)},
		{"truncated", good[:len(good)-10], ErrCorrupt, nil},
		{"trailing bytes", append(bytes.Clone(good), "junk"...), ErrCorrupt, accepted(nil)},
		{"not a zip", []byte("MZ this is not a zip"), ErrCorrupt, nil},
		{"empty", nil, ErrCorrupt, nil},
		{"half", good[:len(good)/2], ErrCorrupt, nil},
		{"cut local", good[10:], ErrCorrupt, nil},
		{"end only", good[len(good)-22:], ErrCorrupt, nil},
		{"garbage head", append(bytes.Repeat([]byte{0xff}, 30), good[30:]...), ErrCorrupt, nil},
	}
}

// extractors are the two ways in: random access and front to back.
var extractors = map[string]func(z []byte, dir string, opt Options) error{
	"Extract": func(z []byte, dir string, opt Options) error {
		_, err := Extract(context.Background(), bytes.NewReader(z), int64(len(z)), dir, opt)
		return err
	},
	"ExtractStream": func(z []byte, dir string, opt Options) error {
		_, err := ExtractStream(context.Background(), bytes.NewReader(z), dir, opt)
		return err
	},
}

// declared is what the ZIP declares its entries inflate to: the larger
// of the sums over the central directory (what Extract trusts) and over
// the local headers (what ExtractStream acts on before the end; 0 for a
// data-descriptor entry, whose data ExtractStream writes only after the
// central directory confirmed it).
func declared(z []byte) int64 {
	sum := func(sig []byte, at int) int64 {
		var n int64
		for i := 0; ; {
			j := bytes.Index(z[i:], sig)
			if j < 0 || i+j+at+4 > len(z) {
				return n
			}
			n += int64(binary.LittleEndian.Uint32(z[i+j+at:]))
			i += j + 4
		}
	}
	return max(sum([]byte{0x50, 0x4b, 0x01, 0x02}, 24), sum([]byte{0x50, 0x4b, 0x03, 0x04}, 22))
}

// TestHostile (acceptance 4 of issue 11): one table of hostile ZIPs, every
// case through both extractors, each asserting the error class (a stage
// sentinel), that nothing is left in or beside the target (no target, no
// temp folder, no lock file), and that the bytes written stay within the
// declared sizes (counted through Options.Progress, which both call with
// every write).
func TestHostile(t *testing.T) {
	for _, c := range hostileCases(t) {
		for how, extract := range extractors {
			t.Run(how+"/"+c.name, func(t *testing.T) {
				want := c.want
				if how == "Extract" && c.random != nil {
					want = *c.random
				}
				parent := t.TempDir()
				var written atomic.Int64
				err := extract(c.zip, filepath.Join(parent, "out"), Options{Workers: 2, Progress: func(n int64) { written.Add(n) }})
				if want == nil {
					if err != nil {
						t.Fatalf("err = %v, want success (archive/zip accepts it)", err)
					}
					return
				}
				if !errors.Is(err, want) {
					t.Fatalf("err = %v, want %v", err, want)
				}
				if msg := err.Error(); len(msg) > 400 || strings.ContainsAny(msg, "\x1b\x07\n") {
					t.Errorf("error is not one short line: %.200q", msg)
				}
				if limit := declared(c.zip); written.Load() > limit {
					t.Errorf("wrote %d bytes, the ZIP declares %d", written.Load(), limit)
				}
				assertNothingLeft(t, parent)
			})
		}
	}
}

// TestBombOnSmallDisk: the 40 MiB bombs, into a 1 MiB file system, fail
// as corrupt (stopped at the declared size), not with a full disk.
func TestBombOnSmallDisk(t *testing.T) {
	for _, c := range hostileCases(t) {
		if !strings.Contains(c.name, "bomb") {
			continue
		}
		for how, extract := range extractors {
			t.Run(how+"/"+c.name, func(t *testing.T) {
				parent := fulldisk.Dir(t, 1<<20)
				err := extract(c.zip, filepath.Join(parent, "out"), Options{Workers: 2})
				if !errors.Is(err, ErrCorrupt) || strings.Contains(err.Error(), "no space") {
					t.Fatalf("err = %v, want ErrCorrupt", err)
				}
				assertNothingLeft(t, parent)
			})
		}
	}
}

// TestDescriptorEntriesPastTheLimit: data-descriptor entries whose
// compressed bytes exceed what ExtractStream keeps in memory fail with
// ErrNotStreamable (the caller then extracts with random access) and
// leave nothing; Extract takes the same ZIP.
func TestDescriptorEntriesPastTheLimit(t *testing.T) {
	defer func(n int64) { deferMax = n }(deferMax)
	deferMax = 4000
	noise := make([]byte, 3000)
	rand.NewChaCha8([32]byte{11}).Read(noise)
	z := rawZip(t, []rawEntry{
		{name: "a", data: noise, method: 8, descriptor: true},
		{name: "b", data: bytes.Repeat(noise, 2), method: 8, descriptor: true},
	})
	parent := t.TempDir()
	_, err := ExtractStream(context.Background(), bytes.NewReader(z), filepath.Join(parent, "out"), Options{})
	if !errors.Is(err, ErrNotStreamable) {
		t.Fatalf("err = %v, want ErrNotStreamable", err)
	}
	assertNothingLeft(t, parent)
	if _, err := Extract(context.Background(), bytes.NewReader(z), int64(len(z)), filepath.Join(parent, "out"), Options{}); err != nil {
		t.Fatalf("Extract: %v", err)
	}
}
