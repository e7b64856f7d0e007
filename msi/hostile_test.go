package msi

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
)

// hostileBase is a valid v3 MSI whose _StringData is a regular (FAT)
// stream, with a few small (mini) streams too.
func hostileBase() ([]byte, layout) {
	return msiWith(map[string]string{"Big": strings.Repeat("B", 5000)}).build()
}

var le = binary.LittleEndian

// setFAT points sector s's FAT entry at v.
func setFAT(b []byte, l layout, s, v uint32) {
	le.PutUint32(b[l.sectorOff(l.fat[0])+int(s)*4:], v)
}

func dataStart(l layout) uint32 {
	return l.starts[string(utf16.Decode(encodeName("_StringData", true)))]
}

func TestHostile(t *testing.T) {
	base, l := hostileBase()
	if _, err := ReadInfo(bytes.NewReader(base), int64(len(base))); err != nil {
		t.Fatalf("base file: %v", err)
	}
	cases := []struct {
		name   string
		damage func(b []byte) []byte
		want   string
	}{
		{"FAT loop", func(b []byte) []byte { setFAT(b, l, dataStart(l)+3, dataStart(l)+1); return b }, "loops"},
		{"FAT self loop", func(b []byte) []byte { setFAT(b, l, dataStart(l), dataStart(l)); return b }, "loops"},
		{"FAT sector out of range", func(b []byte) []byte { setFAT(b, l, dataStart(l), 0x00FFFFFF); return b }, "outside the file"},
		{"FAT chain ends early", func(b []byte) []byte { setFAT(b, l, dataStart(l), endOfChain); return b }, "ends after"},
		{"FAT free sector in chain", func(b []byte) []byte { setFAT(b, l, dataStart(l), freeSect); return b }, "outside the file"},
		{"directory loop", func(b []byte) []byte { setFAT(b, l, l.dirStart, l.dirStart); return b }, "loops"},
		{"directory start out of range", func(b []byte) []byte { le.PutUint32(b[0x30:], 0x7FFFFFF0); return b }, "outside the file"},
		{"directory cycle", func(b []byte) []byte { le.PutUint32(b[l.dirOff(3)+72:], 1); return b }, "cycle"},
		{"directory child is root", func(b []byte) []byte { le.PutUint32(b[l.dirOff(0)+76:], 0); return b }, "link to entry 0"},
		{"directory link past the end", func(b []byte) []byte { le.PutUint32(b[l.dirOff(1)+72:], 100000); return b }, "link to entry"},
		{"directory entry name length", func(b []byte) []byte { le.PutUint16(b[l.dirOff(1)+64:], 200); return b }, "name length"},
		{"root not root", func(b []byte) []byte { b[l.dirOff(0)+66] = typeStorage; return b }, "root"},
		{"huge stream size", func(b []byte) []byte { le.PutUint32(b[l.dirOff(1)+120:], 0xFFFFFFF0); return b }, "declares"},
		{"huge root size", func(b []byte) []byte { le.PutUint32(b[l.dirOff(0)+120:], 0x7FFFFFFF); return b }, "declares"},
		{"huge FAT count", func(b []byte) []byte { le.PutUint32(b[0x2C:], 0xFFFFFFFF); return b }, "FAT sectors"},
		{"huge mini FAT count", func(b []byte) []byte { le.PutUint32(b[0x40:], 0xFFFFFFFF); return b }, "mini FAT"},
		{"huge DIFAT count", func(b []byte) []byte { le.PutUint32(b[0x48:], 0xFFFFFFFF); return b }, "DIFAT"},
		{"FAT sector out of range in header", func(b []byte) []byte { le.PutUint32(b[0x4C:], 0x0FFFFFFF); return b }, "outside the file"},
		{"mini chain loop", func(b []byte) []byte {
			for i := range 16 { // every mini sector → itself
				le.PutUint32(b[l.sectorOff(l.miniFAT)+i*4:], uint32(i))
			}
			return b
		}, "loops"},
		{"mini FAT out of range", func(b []byte) []byte { le.PutUint32(b[0x3C:], 0x00FFFFFF); return b }, "outside the file"},
		{"bad signature", func(b []byte) []byte { b[0] = 'M'; return b }, "signature"},
		{"bad byte order", func(b []byte) []byte { b[0x1C] = 0; return b }, "byte order"},
		{"bad sector shift", func(b []byte) []byte { b[0x1E] = 20; return b }, "sector shift"},
		{"bad mini sector shift", func(b []byte) []byte { b[0x20] = 7; return b }, "mini sector shift"},
		{"truncated header", func(b []byte) []byte { return b[:100] }, "shorter than"},
		{"truncated to header", func(b []byte) []byte { return b[:512] }, "FAT sectors"},
		{"truncated mid-file", func(b []byte) []byte { return b[:len(b)/2] }, ""},
		{"no string pool", func(b []byte) []byte {
			// Rename every stream so that none is found.
			for id := 1; id < 8; id++ {
				b[l.dirOff(id)] ^= 1
			}
			return b
		}, "no _StringPool"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.damage(bytes.Clone(base))
			start := time.Now()
			_, err := ReadInfo(bytes.NewReader(b), int64(len(b)))
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v", d)
			}
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("err = %v, want ErrFormat", err)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "msi: ") {
				t.Errorf("err = %q, want it to start with msi: and mention %q", err, tc.want)
			}
		})
	}
}

// A DIFAT chain that points back at itself: the header says more FAT
// sectors than the header and one DIFAT sector list.
func TestHostileDIFATLoop(t *testing.T) {
	m := msiWith(nil)
	m.extra = []testStream{{utf16.Encode([]rune("pad")), make([]byte, 250*512)}}
	b, l := m.build()
	pad := l.starts["pad"]
	for i := range 127 {
		le.PutUint32(b[l.sectorOff(pad)+i*4:], l.fat[0])
	}
	le.PutUint32(b[l.sectorOff(pad)+127*4:], pad) // next DIFAT sector: itself
	le.PutUint32(b[0x2C:], 240)                   // FAT sectors: more than 109 + 127
	le.PutUint32(b[0x44:], pad)
	le.PutUint32(b[0x48:], 2)
	_, err := ReadInfo(bytes.NewReader(b), int64(len(b)))
	if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "DIFAT chain loops") {
		t.Fatalf("err = %v, want ErrFormat for a DIFAT loop", err)
	}
}

// Every truncation of a valid file fails cleanly (or, past the last
// byte needed, succeeds), never panics.
func TestHostileTruncations(t *testing.T) {
	for _, major := range []int{3, 4} {
		m := msiWith(map[string]string{"Big": strings.Repeat("B", 5000)})
		m.major = major
		b, _ := m.build()
		for n := 0; n < len(b); n += 97 {
			_, err := ReadInfo(bytes.NewReader(b[:n]), int64(n))
			if err != nil && !errors.Is(err, ErrFormat) {
				t.Fatalf("v%d cut at %d: %v, want ErrFormat", major, n, err)
			}
		}
	}
}

// A reader that fails is reported as such, not as a format error.
func TestReaderError(t *testing.T) {
	b, _ := hostileBase()
	boom := errors.New("disk on fire")
	_, err := ReadInfo(failingReader{bytes.NewReader(b), 1024, boom}, int64(len(b)))
	if !errors.Is(err, boom) || errors.Is(err, ErrFormat) {
		t.Fatalf("err = %v, want the reader's error", err)
	}
}

type failingReader struct {
	r     *bytes.Reader
	after int64
	err   error
}

func (f failingReader) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > f.after {
		return 0, f.err
	}
	return f.r.ReadAt(p, off)
}
