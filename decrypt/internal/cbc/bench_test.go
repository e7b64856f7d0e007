package cbc

import (
	"crypto/cipher"
	"testing"
)

// BenchmarkDecrypt decrypts a 1 MiB buffer in place with AES-256:
// "stdlib" is crypto/cipher, "fast" is what NewDecrypter returns here, and
// the other sub-benchmarks force one kernel each.
func BenchmarkDecrypt(b *testing.B) {
	key := make([]byte, 32)
	iv := make([]byte, BlockSize)
	for i := range key {
		key[i] = byte(i)
	}
	buf := make([]byte, 1<<20)

	run := func(b *testing.B, d cipher.BlockMode) {
		b.SetBytes(int64(len(buf)))
		for b.Loop() {
			d.CryptBlocks(buf, buf)
		}
	}
	b.Run("stdlib", func(b *testing.B) { run(b, stdlibDecrypter(b, key, iv)) })
	b.Run("fast", func(b *testing.B) {
		d, err := NewDecrypter(key, iv)
		if err != nil {
			b.Fatal(err)
		}
		run(b, d)
	})
	for _, k := range availableKernels() {
		if k != kernelStdlib && k != bestKernel {
			b.Run(k.String(), func(b *testing.B) { run(b, mustDecrypter(b, key, iv, k)) })
		}
	}
}
