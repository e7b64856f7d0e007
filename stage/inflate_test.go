package stage

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/klauspost/compress/flate"
)

// storedBlocks writes data as stored Deflate blocks of at most size bytes,
// the last one final when final is set.
func storedBlocks(data []byte, size int, final bool) []byte {
	var out []byte
	for first := true; first || len(data) > 0; first = false {
		n := min(len(data), size)
		last := final && n == len(data)
		h := byte(0)
		if last {
			h = 1
		}
		out = append(out, h)
		out = binary.LittleEndian.AppendUint16(out, uint16(n))
		out = binary.LittleEndian.AppendUint16(out, ^uint16(n))
		out = append(out, data[:n]...)
		data = data[n:]
	}
	return out
}

// mixedStream is stored blocks of a, then b compressed at level with a as
// the dictionary, so that b's matches may reach back into a.
func mixedStream(t testing.TB, a, b []byte, size, level int) []byte {
	var buf bytes.Buffer
	buf.Write(storedBlocks(a, size, false))
	w, err := flate.NewWriterDict(&buf, level, a)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func inflateAll(src flateSource, chunk int, bounded bool) ([]byte, error) {
	var z inflater
	z.reset(src, bounded)
	var out []byte
	buf := make([]byte, chunk)
	for {
		n, err := z.Read(buf)
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

func TestInflater(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	random := make([]byte, 300<<10)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	text := bytes.Repeat([]byte("the quick brown fox jumps over the lazy dog\n"), 5000)
	var compressed bytes.Buffer
	w, _ := flate.NewWriter(&compressed, 6)
	w.Write(text)
	w.Close()
	cases := map[string]struct {
		stream, want []byte
	}{
		"stored only":              {storedBlocks(random, 65535, true), random},
		"stored small blocks":      {storedBlocks(random[:100000], 1000, true), random[:100000]},
		"empty stored":             {storedBlocks(nil, 65535, true), nil},
		"compressed only":          {compressed.Bytes(), text},
		"stored then compressed":   {mixedStream(t, random[:70000], append(random[30000:50000:50000], text...), 65535, 6), append(append(random[:70000:70000], random[30000:50000]...), text...)},
		"stored then huffman only": {mixedStream(t, random[:1000], text[:5000], 400, flate.HuffmanOnly), append(random[:1000:1000], text[:5000]...)},
	}
	for name, c := range cases {
		for _, chunk := range []int{1, 7, 4096, 1 << 20} {
			if chunk == 1 && len(c.want) > 100000 {
				continue
			}
			for _, bounded := range []bool{false, true} {
				got, err := inflateAll(bufio.NewReaderSize(bytes.NewReader(c.stream), 4096), chunk, bounded)
				if err != nil || !bytes.Equal(got, c.want) {
					t.Errorf("%s, reads of %d, bounded %v: %d bytes, %v; want %d bytes", name, chunk, bounded, len(got), err, len(c.want))
				}
				got, err = inflateAll(bytes.NewReader(c.stream), chunk, bounded)
				if err != nil || !bytes.Equal(got, c.want) {
					t.Errorf("%s from memory, reads of %d, bounded %v: %d bytes, %v", name, chunk, bounded, len(got), err)
				}
			}
		}
		for _, bounded := range []bool{false, true} {
			var z inflater
			z.reset(bytes.NewReader(c.stream), bounded)
			var out bytes.Buffer
			if n, err := z.WriteTo(&out); err != nil || n != int64(len(c.want)) || !bytes.Equal(out.Bytes(), c.want) {
				t.Errorf("%s, WriteTo, bounded %v: %d bytes, %v", name, bounded, n, err)
			}
		}
	}
}

func TestInflaterBadStreams(t *testing.T) {
	good := storedBlocks(bytes.Repeat([]byte{7}, 1000), 300, true)
	bad := bytes.Clone(good)
	bad[3] ^= 1 // NLEN no longer the complement of LEN
	notFinal := storedBlocks([]byte("abc"), 300, false)
	for name, s := range map[string][]byte{
		"truncated in data":   good[:500],
		"truncated in header": good[:3],
		"length check":        bad,
		"no final block":      notFinal,
		"empty":               nil,
		"reserved block type": {0x07, 0, 0},
	} {
		for _, bounded := range []bool{false, true} {
			if _, err := inflateAll(bytes.NewReader(s), 4096, bounded); err == nil {
				t.Errorf("%s, bounded %v: no error", name, bounded)
			}
		}
	}
}

// FuzzInflater checks the inflater against flate on the same stream: the
// same bytes out, and an error exactly when flate has one.
func FuzzInflater(f *testing.F) {
	f.Add([]byte("hello, hello, hello"), uint16(5), uint8(6), false)
	f.Add(bytes.Repeat([]byte{1, 2, 3}, 3000), uint16(1000), uint8(1), true)
	f.Add([]byte{}, uint16(0), uint8(0), false)
	f.Fuzz(func(t *testing.T, data []byte, split uint16, level uint8, corrupt bool) {
		cut := int(split) % (len(data) + 1)
		stream := mixedStream(t, data[:cut], data[cut:], 1+int(split)%5000, int(level)%10)
		if corrupt && len(stream) > 0 {
			stream[int(split)%len(stream)] ^= level | 1
		}
		want, werr := io.ReadAll(flate.NewReader(bytes.NewReader(stream)))
		for _, bounded := range []bool{false, true} {
			got, gerr := inflateAll(bufio.NewReader(bytes.NewReader(stream)), 1+int(level)*100, bounded)
			if (werr == nil) != (gerr == nil) {
				t.Fatalf("bounded %v: flate error %v, inflater error %v", bounded, werr, gerr)
			}
			if werr == nil && !bytes.Equal(got, want) {
				t.Fatalf("bounded %v: inflater gave %d bytes, flate %d", bounded, len(got), len(want))
			}
		}
	})
}
