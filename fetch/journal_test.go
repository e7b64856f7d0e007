package fetch

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func sampleJournal() *journal {
	j := &journal{Size: 5<<20 + 3, PieceSize: 1 << 20, ETag: `"abc"`, LastModified: "Mon, 02 Jan 2006 15:04:05 GMT"}
	j.Bytes[HTTP] = 12345
	j.Bytes[LanPeer] = 678
	j.Conns[HTTP], j.Conns[LanPeer] = 4, 2
	j.pieces = newPieces(j.Size, j.PieceSize)
	j.pieces.set(0, 0x1111)
	j.pieces.set(1, 0x2222)
	j.pieces.set(5, 0x5555)
	return j
}

func TestJournalRoundTrip(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "x.bin")
	j := sampleJournal()
	data, err := j.encode()
	if err != nil {
		t.Fatal(err)
	}
	if err := j.save(file, data, true); err != nil {
		t.Fatal(err)
	}
	got, err := loadJournal(file)
	if err != nil {
		t.Fatal(err)
	}
	if !got.sameContent(j) || got.Bytes != j.Bytes || got.Conns != j.Conns {
		t.Fatalf("header %+v, want %+v", got, j)
	}
	p := got.pieces
	if p.ndone != 3 || p.sums[5] != 0x5555 || p.prefix() != 2<<20 || p.completeBytes() != 2<<20+3 {
		t.Fatalf("pieces: done %d sum5 %x prefix %d complete %d", p.ndone, p.sums[5], p.prefix(), p.completeBytes())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temp files left beside the journal: %v", entries)
	}
}

func TestJournalDamage(t *testing.T) {
	data, _ := sampleJournal().encode()
	cases := map[string][]byte{
		"empty":     nil,
		"truncated": data[:len(data)-3],
		"flipped":   flip(data, 20),
		"magic":     append([]byte("XXXXXXXX"), data[8:]...),
	}
	for name, b := range cases {
		if _, err := decodeJournal(b); !errors.Is(err, errJournal) {
			t.Errorf("%s: err %v, want errJournal", name, err)
		}
	}
}

// TestJournalConnCounts: the journals of earlier versions, which have
// no conns_by_kind (every seed in testdata/journal but conns.bin), still
// load, with their bytes and no connection counts; one with them keeps
// them.
func TestJournalConnCounts(t *testing.T) {
	cases := []struct {
		file  string
		bytes [numKinds]int64
		conns [numKinds]int
	}{
		{"sample.bin", [numKinds]int64{HTTP: 12345}, [numKinds]int{}},
		{"sample-v2.bin", [numKinds]int64{HTTP: 12345}, [numKinds]int{}},
		{"empty-file.bin", [numKinds]int64{}, [numKinds]int{}},
		{"lan-bytes-no-conns.bin", [numKinds]int64{HTTP: 64 << 10, LanPeer: 128 << 10}, [numKinds]int{}},
		{"conns.bin", [numKinds]int64{HTTP: 12345, LanPeer: 678}, [numKinds]int{HTTP: 4, LanPeer: 2}},
	}
	for _, c := range cases {
		b, err := os.ReadFile(filepath.Join("testdata/journal", c.file))
		if err != nil {
			t.Fatal(err)
		}
		j, err := decodeJournal(b)
		if err != nil {
			t.Errorf("%s: %v", c.file, err)
			continue
		}
		if j.Bytes != c.bytes || j.Conns != c.conns {
			t.Errorf("%s: bytes %v, connections %v; want %v, %v", c.file, j.Bytes, j.Conns, c.bytes, c.conns)
		}
	}
}

func flip(b []byte, i int) []byte {
	c := append([]byte(nil), b...)
	c[i] ^= 0x40
	return c
}

// FuzzJournal: decoding never panics, and what decodes re-encodes the same.
func FuzzJournal(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/journal/*")
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		j, err := decodeJournal(b)
		if err != nil {
			return
		}
		again, err := j.encode()
		if err != nil {
			t.Fatal(err)
		}
		j2, err := decodeJournal(again)
		if err != nil || !j2.sameContent(j) || j2.pieces.ndone != j.pieces.ndone || j2.Bytes != j.Bytes || j2.Conns != j.Conns {
			t.Fatalf("re-encoded journal differs: %v", err)
		}
	})
}

func TestContentRange(t *testing.T) {
	cases := []struct {
		in                 string
		ok                 bool
		first, last, total int64
	}{
		{"bytes 0-0/10", true, 0, 0, 10},
		{"bytes 5-9/10", true, 5, 9, 10},
		{"bytes 5-9/*", true, 5, 9, -1},
		{"bytes */10", true, -1, -1, 10},
		{"bytes 5-10/10", false, 0, 0, 0},
		{"bytes 9-5/10", false, 0, 0, 0},
		{"bytes -1-5/10", false, 0, 0, 0},
		{"items 0-1/2", false, 0, 0, 0},
		{"bytes 0-1", false, 0, 0, 0},
		{"bytes */*", false, 0, 0, 0},
	}
	for _, c := range cases {
		cr, ok := parseContentRange(c.in)
		if ok != c.ok || (ok && (cr.first != c.first || cr.last != c.last || cr.total != c.total)) {
			t.Errorf("%q: %+v %v, want %v %d-%d/%d", c.in, cr, ok, c.ok, c.first, c.last, c.total)
		}
	}
}

// FuzzContentRange: a parsed range is always well formed.
func FuzzContentRange(f *testing.F) {
	b, err := os.ReadFile("testdata/content-range.txt")
	if err != nil {
		f.Fatal(err)
	}
	for _, line := range splitLines(string(b)) {
		f.Add(line)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cr, ok := parseContentRange(s)
		if !ok || cr.first == -1 {
			return
		}
		if cr.first < 0 || cr.last < cr.first || (cr.total >= 0 && cr.last >= cr.total) {
			t.Fatalf("%q parsed to %+v", s, cr)
		}
	})
}

func splitLines(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '\n' {
			if i > start {
				out = append(out, s[start:i])
			}
			start = i + 1
		}
	}
	return out
}
