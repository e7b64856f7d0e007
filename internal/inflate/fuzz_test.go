package inflate

import "testing"

// FuzzDecompress compares Decompress and Reader with compress/flate on any
// input.
// Seeds: streams of each block type (testdata/fuzz holds the corpus).
func FuzzDecompress(f *testing.F) {
	data := corpus()["mixed"][:3000]
	for _, level := range []int{-2, 0, 1, 6, 9} {
		f.Add(compress(f, data, level))
	}
	f.Add([]byte{0x07})
	f.Add([]byte{0x01, 0x05, 0x00, 0xfa, 0xff, 'h', 'e', 'l', 'l', 'o'})
	var d Decompressor
	z := NewReader(nil, nil)
	f.Fuzz(func(t *testing.T, src []byte) {
		differential(t, &d, z, src)
	})
}
