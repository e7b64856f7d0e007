package cbc

import "unsafe"

// decrypter is the assembly-backed CBC decrypter. It holds the decryption
// key schedule and the chaining value, which is the last ciphertext block
// seen (the IV before the first call).
type decrypter struct {
	keys   [(maxRounds + 1) * 16]byte // AESDEC round keys, see decryptionKeys
	iv     [BlockSize]byte
	rounds int
	kernel kernel
}

func (d *decrypter) BlockSize() int { return BlockSize }

// CryptBlocks decrypts src into dst. The panics and their messages are
// those of crypto/cipher's CBC decrypter.
func (d *decrypter) CryptBlocks(dst, src []byte) {
	if len(src)%BlockSize != 0 {
		panic("crypto/cipher: input not full blocks")
	}
	if len(dst) < len(src) {
		panic("crypto/cipher: output smaller than input")
	}
	if inexactOverlap(dst[:len(src)], src) {
		panic("crypto/cipher: invalid buffer overlap")
	}
	if len(src) == 0 {
		return
	}
	d.decrypt(dst[:len(src)], src)
}

// SetIV resets the chaining value, as the standard library's SetIV does.
func (d *decrypter) SetIV(iv []byte) {
	if len(iv) != BlockSize {
		panic("cipher: incorrect length IV")
	}
	copy(d.iv[:], iv)
}

// inexactOverlap reports whether x and y share memory without starting at
// the same address. Exact overlap (in-place decryption) is allowed: the
// kernels read every ciphertext block they still need before writing.
func inexactOverlap(x, y []byte) bool {
	if len(x) == 0 || len(y) == 0 || &x[0] == &y[0] {
		return false
	}
	x0 := uintptr(unsafe.Pointer(&x[0]))
	y0 := uintptr(unsafe.Pointer(&y[0]))
	return x0 <= y0+uintptr(len(y)-1) && y0 <= x0+uintptr(len(x)-1)
}
