package inflate

import (
	"bytes"
	stdflate "compress/flate"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"testing/iotest"

	"github.com/klauspost/compress/flate"
)

// corpus returns inputs that exercise every block type and match shape:
// text, random bytes, long runs, short-period repeats, and empty.
func corpus() map[string][]byte {
	r := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 300<<10)
	for i := range random {
		random[i] = byte(r.Uint32())
	}
	words := []string{"func ", "return ", "err ", "nil", "{\n", "}\n", "\t", "if ", "for ", "range ", "x", "y := ", "0x1f", "// comment\n"}
	var text bytes.Buffer
	for text.Len() < 400<<10 {
		text.WriteString(words[r.IntN(len(words))])
	}
	var mixed bytes.Buffer
	for mixed.Len() < 200<<10 {
		switch r.IntN(4) {
		case 0:
			mixed.Write(random[:r.IntN(5000)])
		case 1:
			mixed.Write(bytes.Repeat([]byte{byte(r.IntN(256))}, r.IntN(3000)))
		case 2:
			p := random[:1+r.IntN(9)]
			for range r.IntN(400) {
				mixed.Write(p)
			}
		default:
			mixed.Write(text.Bytes()[:r.IntN(8000)])
		}
	}
	return map[string][]byte{
		"empty":  nil,
		"one":    {'x'},
		"random": random,
		"text":   text.Bytes(),
		"zeros":  make([]byte, 200<<10),
		"mixed":  mixed.Bytes(),
	}
}

func compress(t testing.TB, data []byte, level int) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := flate.NewWriter(&b, level)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func compressStd(t testing.TB, data []byte, level int) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := stdflate.NewWriter(&b, level)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	w.Close()
	return b.Bytes()
}

func TestRoundTrip(t *testing.T) {
	var d Decompressor
	for name, data := range corpus() {
		for _, level := range []int{flate.HuffmanOnly, flate.NoCompression, 1, 2, 5, 6, 9} {
			for i, z := range [][]byte{compress(t, data, level), compressStd(t, data, level)} {
				dst := make([]byte, len(data))
				n, err := d.Decompress(dst, z)
				if err != nil || n != len(data) || !bytes.Equal(dst, data) {
					t.Fatalf("%s level %d writer %d: n=%d err=%v, equal=%v", name, level, i, n, err, bytes.Equal(dst[:n], data))
				}
				// Trailing bytes after the final block are not read.
				n, err = d.Decompress(dst, append(z[:len(z):len(z)], 0xff, 0xee))
				if err != nil || n != len(data) {
					t.Fatalf("%s level %d: with trailing bytes n=%d err=%v", name, level, n, err)
				}
			}
		}
	}
}

func TestTooLong(t *testing.T) {
	var d Decompressor
	data := corpus()["text"]
	for _, level := range []int{0, 6} {
		z := compress(t, data, level)
		for _, short := range []int{1, 7, 258, 5000} {
			dst := make([]byte, len(data)-short)
			if _, err := d.Decompress(dst, z); !errors.Is(err, ErrTooLong) {
				t.Fatalf("level %d, %d bytes short: %v, want ErrTooLong", level, short, err)
			}
		}
	}
}

// Every truncation of a stream fails, and none reports a success.
func TestTruncated(t *testing.T) {
	var d Decompressor
	data := corpus()["mixed"][:20000]
	for _, level := range []int{0, 1, 6} {
		z := compress(t, data, level)
		dst := make([]byte, len(data))
		for cut := range len(z) {
			_, err := d.Decompress(dst, z[:cut])
			if err == nil {
				t.Fatalf("level %d: cut at %d of %d: no error", level, cut, len(z))
			}
		}
	}
}

func TestBadStreams(t *testing.T) {
	var d Decompressor
	cases := map[string][]byte{
		// Block type 3.
		"reserved type": {0x07},
		// Stored block whose NLEN is not ^LEN.
		"stored length": {0x01, 0x05, 0x00, 0x00, 0x00},
		// Fixed block: literal 'a', then a match at distance 2 (only 1 byte out).
		"distance too far": fixedBits(t, "a", 257, 1),
		// Fixed block using literal/length symbol 286.
		"symbol 286": fixedBits(t, "", 286, -1),
		// Fixed block using distance symbol 30.
		"distance 30": fixedBits(t, "ab", 257, 30),
		// Dynamic header with HLIT = 287 (30 + 257).
		"hlit": {0x05 | 30<<3, 0x00, 0x00},
	}
	for name, z := range cases {
		dst := make([]byte, 100)
		_, err := d.Decompress(dst, z)
		_, stdErr := io.ReadAll(stdflate.NewReader(bytes.NewReader(z)))
		if err == nil || stdErr == nil {
			t.Errorf("%s: err %v, compress/flate %v: want both to fail", name, err, stdErr)
		}
	}
}

// fixedBits writes a final fixed-Huffman block: the literals of lits,
// then symbol sym (a length code), then distance code dist (if ≥ 0),
// then end of block.
func fixedBits(t *testing.T, lits string, sym, dist int) []byte {
	var w bitWriter
	w.put(1, 1) // final
	w.put(1, 2) // fixed
	code := func(s int) {
		switch {
		case s < 144:
			w.putRev(0x30+s, 8)
		case s < 256:
			w.putRev(0x190+s-144, 9)
		case s < 280:
			w.putRev(s-256, 7)
		default:
			w.putRev(0xc0+s-280, 8)
		}
	}
	for _, c := range []byte(lits) {
		code(int(c))
	}
	code(sym)
	if dist >= 0 {
		w.putRev(dist, 5)
	}
	code(256)
	return w.bytes()
}

type bitWriter struct {
	b  []byte
	nb uint
}

func (w *bitWriter) put(v int, n uint) {
	for i := range n {
		if w.nb%8 == 0 {
			w.b = append(w.b, 0)
		}
		w.b[len(w.b)-1] |= byte(v>>i&1) << (w.nb % 8)
		w.nb++
	}
}

// putRev writes a Huffman code, most significant bit first.
func (w *bitWriter) putRev(v int, n uint) {
	for i := int(n) - 1; i >= 0; i-- {
		w.put(v>>i&1, 1)
	}
}

func (w *bitWriter) bytes() []byte { return w.b }

func TestMatchesFlateOnCorruptions(t *testing.T) {
	var d Decompressor
	zr := NewReader(nil, nil)
	r := rand.New(rand.NewPCG(3, 4))
	data := corpus()["mixed"][:30000]
	z := compress(t, data, 6)
	for range 3000 {
		bad := bytes.Clone(z)
		for range 1 + r.IntN(3) {
			bad[r.IntN(len(bad))] ^= byte(1 + r.IntN(255))
		}
		differential(t, &d, zr, bad)
	}
}

// scratch is differential's output buffer; its callers run one at a time.
var scratch = make([]byte, 256<<10)

// differential checks Decompress and a Reader (its source read in small
// pieces) against compress/flate on src: each fails when flate does, or
// produces the same bytes. Output past 256 KiB is not compared.
func differential(t *testing.T, d *Decompressor, z *Reader, src []byte) {
	t.Helper()
	const limit = 256 << 10
	want, stdErr := io.ReadAll(io.LimitReader(stdflate.NewReader(bytes.NewReader(src)), limit+1))
	if stdErr == nil && len(want) > limit {
		return
	}
	n, err := d.Decompress(scratch[:limit], src)
	z.Reset(iotest.HalfReader(bytes.NewReader(src)), nil)
	got, zerr := io.ReadAll(io.LimitReader(z, limit+1))
	for name, r := range map[string]struct {
		out []byte
		err error
	}{"Decompress": {scratch[:n], err}, "Reader": {got, zerr}} {
		switch {
		case (r.err == nil) != (stdErr == nil):
			t.Fatalf("%s err %v, compress/flate err %v (src %x)", name, r.err, stdErr, src)
		case r.err == nil && !bytes.Equal(r.out, want):
			t.Fatalf("%s output differs from compress/flate: %d vs %d bytes (src %x)", name, len(r.out), len(want), src)
		}
	}
}
