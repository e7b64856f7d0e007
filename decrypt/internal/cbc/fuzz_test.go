package cbc

import (
	"bytes"
	"testing"
)

// FuzzDecrypt compares every available kernel with the standard library on
// arbitrary keys, IVs and ciphertexts, split into two CryptBlocks calls at
// block cut, in place or into a separate buffer. Seeds are in
// testdata/fuzz/FuzzDecrypt.
func FuzzDecrypt(f *testing.F) {
	f.Fuzz(func(t *testing.T, key, iv, ct []byte, cut uint16, inPlace bool) {
		// Shape the inputs into valid ones: a key of 16, 24 or 32 bytes,
		// a 16-byte IV, whole blocks.
		switch len(key) {
		case 16, 24, 32:
		default:
			key = resize(key, []int{16, 24, 32}[len(key)%3])
		}
		iv = resize(iv, BlockSize)
		ct = ct[:len(ct)&^(BlockSize-1)]
		blocks := len(ct) / BlockSize
		at := 0
		if blocks > 0 {
			at = int(cut) % (blocks + 1)
		}

		want := make([]byte, len(ct))
		stdlibDecrypter(t, key, iv).CryptBlocks(want, ct)
		for _, k := range availableKernels() {
			src := bytes.Clone(ct)
			dst := src
			if !inPlace {
				dst = make([]byte, len(ct))
			}
			d := mustDecrypter(t, key, iv, k)
			d.CryptBlocks(dst, src[:at*BlockSize])
			d.CryptBlocks(dst[at*BlockSize:], src[at*BlockSize:])
			if !bytes.Equal(dst, want) {
				t.Fatalf("kernel %v, %d-byte key, %d blocks cut at %d, in place %v: differs at byte %d",
					k, len(key), blocks, at, inPlace, firstDiff(dst, want))
			}
		}
	})
}

// resize returns b cut or zero-padded to n bytes.
func resize(b []byte, n int) []byte {
	out := make([]byte, n)
	copy(out, b)
	return out
}
