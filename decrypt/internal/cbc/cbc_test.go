package cbc

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
)

// kernels runs f once per implementation available on this machine, the
// standard-library fallback included.
func kernels(t *testing.T, f func(t *testing.T, k kernel)) {
	t.Helper()
	for _, k := range availableKernels() {
		t.Run(k.String(), func(t *testing.T) { f(t, k) })
	}
}

func mustDecrypter(t testing.TB, key, iv []byte, k kernel) cipher.BlockMode {
	t.Helper()
	d, err := newDecrypter(key, iv, k)
	if err != nil {
		t.Fatalf("newDecrypter(%d-byte key, %v): %v", len(key), k, err)
	}
	return d
}

func stdlibDecrypter(t testing.TB, key, iv []byte) cipher.BlockMode {
	t.Helper()
	b, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	return cipher.NewCBCDecrypter(b, iv)
}

func unhex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// NIST SP 800-38A, appendix F.2: the same four plaintext blocks under
// AES-128 (F.2.1/F.2.2), AES-192 (F.2.3/F.2.4) and AES-256 (F.2.5/F.2.6).
var nistVectors = []struct {
	name, key, ciphertext string
}{
	{"F.2.2 CBC-AES128", "2b7e151628aed2a6abf7158809cf4f3c",
		"7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2" +
			"73bed6b8e3c1743b7116e69e222295163ff1caa1681fac09120eca307586e1a7"},
	{"F.2.4 CBC-AES192", "8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b",
		"4f021db243bc633d7178183a9fa071e8b4d9ada9ad7dedf4e5e738763f69145a" +
			"571b242012fb7ae07fa9baac3df102e008b0e27988598881d920a9e64f5615cd"},
	{"F.2.6 CBC-AES256", "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
		"f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d" +
			"39f23369a9d9bacfa530e26304231461b2eb05e2c39be9fcda6c19078c6a9d1b"},
}

const (
	nistIV        = "000102030405060708090a0b0c0d0e0f"
	nistPlaintext = "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51" +
		"30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710"
)

func TestNISTVectors(t *testing.T) {
	kernels(t, func(t *testing.T, k kernel) {
		for _, v := range nistVectors {
			t.Run(v.name, func(t *testing.T) {
				key, iv := unhex(v.key), unhex(nistIV)
				ct, want := unhex(v.ciphertext), unhex(nistPlaintext)

				got := make([]byte, len(ct))
				mustDecrypter(t, key, iv, k).CryptBlocks(got, ct)
				if !bytes.Equal(got, want) {
					t.Errorf("decrypt = %x, want %x", got, want)
				}

				enc, err := NewEncrypter(key, iv)
				if err != nil {
					t.Fatal(err)
				}
				gotCT := make([]byte, len(want))
				enc.CryptBlocks(gotCT, want)
				if !bytes.Equal(gotCT, ct) {
					t.Errorf("encrypt = %x, want %x", gotCT, ct)
				}
			})
		}
	})
}

// checkAgainstStdlib decrypts ct in pieces cut at the given block counts,
// in place or into a separate buffer at offset off, and compares with one
// call of the standard library's decrypter.
func checkAgainstStdlib(t *testing.T, k kernel, key, iv, ct []byte, cuts []int, inPlace bool, off int) {
	t.Helper()
	want := make([]byte, len(ct))
	stdlibDecrypter(t, key, iv).CryptBlocks(want, ct)

	src := make([]byte, off+len(ct))[off:]
	copy(src, ct)
	dst := src
	if !inPlace {
		// One guard block past the end must stay untouched.
		dst = make([]byte, off+len(ct)+BlockSize)[off:]
		for i := range dst {
			dst[i] = 0xa5
		}
	}
	d := mustDecrypter(t, key, iv, k)
	start := 0
	for _, n := range append(cuts, len(ct)/BlockSize) {
		end := n * BlockSize
		d.CryptBlocks(dst[start:], src[start:end])
		start = end
	}
	if !bytes.Equal(dst[:len(ct)], want) {
		t.Fatalf("%d-byte key, %d blocks, cuts %v, in place %v, offset %d: first difference at byte %d",
			len(key), len(ct)/BlockSize, cuts, inPlace, off, firstDiff(dst, want))
	}
	if !inPlace && !bytes.Equal(dst[len(ct):], bytes.Repeat([]byte{0xa5}, BlockSize)) {
		t.Fatalf("wrote past len(src): %x", dst[len(ct):])
	}
	if !inPlace && !bytes.Equal(src, ct) {
		t.Fatal("src modified when decrypting into a separate dst")
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// randomCuts returns sorted block counts in [0, blocks] at which to split.
func randomCuts(r *rand.Rand, blocks int) []int {
	var cuts []int
	at := 0
	for at < blocks && r.IntN(3) != 0 {
		at += r.IntN(blocks-at) + 1
		if at < blocks {
			cuts = append(cuts, at)
		}
	}
	return cuts
}

func TestMatchesStdlib(t *testing.T) {
	kernels(t, func(t *testing.T, k kernel) {
		r := rand.New(rand.NewPCG(1, uint64(k)))
		for _, keyLen := range []int{16, 24, 32} {
			for blocks := 0; blocks <= 70; blocks++ {
				key, iv := randBytes(r, keyLen), randBytes(r, BlockSize)
				ct := randBytes(r, blocks*BlockSize)
				for _, inPlace := range []bool{true, false} {
					checkAgainstStdlib(t, k, key, iv, ct, nil, inPlace, r.IntN(BlockSize))
					checkAgainstStdlib(t, k, key, iv, ct, randomCuts(r, blocks), inPlace, r.IntN(BlockSize))
				}
			}
		}
	})
}

func TestLargeBuffers(t *testing.T) {
	kernels(t, func(t *testing.T, k kernel) {
		r := rand.New(rand.NewPCG(2, uint64(k)))
		for _, blocks := range []int{1 << 16, 1<<16 + 7, 4099, 12345} {
			key, iv := randBytes(r, 32), randBytes(r, BlockSize)
			ct := randBytes(r, blocks*BlockSize)
			checkAgainstStdlib(t, k, key, iv, ct, nil, true, 0)
			checkAgainstStdlib(t, k, key, iv, ct, randomCuts(r, blocks), false, 3)
		}
	})
}

func randBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestSetIV(t *testing.T) {
	kernels(t, func(t *testing.T, k kernel) {
		r := rand.New(rand.NewPCG(3, 0))
		key, iv1, iv2 := randBytes(r, 32), randBytes(r, 16), randBytes(r, 16)
		ct := randBytes(r, 40*BlockSize)

		d := mustDecrypter(t, key, iv1, k)
		got := make([]byte, len(ct))
		d.CryptBlocks(got, ct) // advance the chaining value
		d.(interface{ SetIV([]byte) }).SetIV(iv2)
		d.CryptBlocks(got, ct)

		want := make([]byte, len(ct))
		stdlibDecrypter(t, key, iv2).CryptBlocks(want, ct)
		if !bytes.Equal(got, want) {
			t.Fatal("after SetIV the output differs from a fresh decrypter with that IV")
		}
	})
}

// recovered returns the value f panics with, or nil.
func recovered(f func()) (v any) {
	defer func() { v = recover() }()
	f()
	return nil
}

func TestPanicsLikeStdlib(t *testing.T) {
	key, iv := make([]byte, 32), make([]byte, 16)
	buf := make([]byte, 64)
	cases := []struct {
		name string
		call func(m cipher.BlockMode)
	}{
		{"partial block", func(m cipher.BlockMode) { m.CryptBlocks(buf, buf[:17]) }},
		{"short dst", func(m cipher.BlockMode) { m.CryptBlocks(buf[:16], buf[16:48]) }},
		{"inexact overlap", func(m cipher.BlockMode) { m.CryptBlocks(buf[16:48], buf[:32]) }},
		{"overlap by one byte", func(m cipher.BlockMode) { m.CryptBlocks(buf[31:63], buf[:32]) }},
		{"SetIV length", func(m cipher.BlockMode) { m.(interface{ SetIV([]byte) }).SetIV(iv[:8]) }},
		{"adjacent is fine", func(m cipher.BlockMode) { m.CryptBlocks(buf[32:64], buf[:32]) }},
		{"empty is fine", func(m cipher.BlockMode) { m.CryptBlocks(nil, nil) }},
	}
	kernels(t, func(t *testing.T, k kernel) {
		for _, c := range cases {
			want := recovered(func() { c.call(stdlibDecrypter(t, key, iv)) })
			got := recovered(func() { c.call(mustDecrypter(t, key, iv, k)) })
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s: panic %v, stdlib panics %v", c.name, got, want)
			}
		}
	})
}

func TestConstructorErrors(t *testing.T) {
	cases := []struct {
		name       string
		key, iv    []byte
		keySizeErr bool
		wantErr    error
	}{
		{"key 15", make([]byte, 15), make([]byte, 16), true, nil},
		{"key 33", make([]byte, 33), make([]byte, 16), true, nil},
		{"iv 15", make([]byte, 32), make([]byte, 15), false, ErrIVLength},
		{"iv nil", make([]byte, 32), nil, false, ErrIVLength},
	}
	for _, c := range cases {
		for name, ctor := range map[string]func(k, iv []byte) (cipher.BlockMode, error){
			"NewDecrypter": NewDecrypter, "NewEncrypter": NewEncrypter,
		} {
			m, err := ctor(c.key, c.iv)
			if m != nil || err == nil {
				t.Errorf("%s %s: got (%v, %v), want an error", name, c.name, m, err)
				continue
			}
			var kse aes.KeySizeError
			if c.keySizeErr && !errors.As(err, &kse) {
				t.Errorf("%s %s: %v does not wrap aes.KeySizeError", name, c.name, err)
			}
			if c.wantErr != nil && !errors.Is(err, c.wantErr) {
				t.Errorf("%s %s: %v is not %v", name, c.name, err, c.wantErr)
			}
		}
	}
}

func TestBlockSize(t *testing.T) {
	kernels(t, func(t *testing.T, k kernel) {
		if got := mustDecrypter(t, make([]byte, 32), make([]byte, 16), k).BlockSize(); got != 16 {
			t.Fatalf("BlockSize = %d", got)
		}
	})
}

// TestDefaultKernel checks that NewDecrypter uses the best kernel found.
func TestDefaultKernel(t *testing.T) {
	m, err := NewDecrypter(make([]byte, 32), make([]byte, 16))
	if err != nil {
		t.Fatal(err)
	}
	d, fast := m.(*decrypter)
	if fast != (bestKernel != kernelStdlib) || (fast && d.kernel != bestKernel) {
		t.Fatalf("NewDecrypter gave %T, best kernel is %v", m, bestKernel)
	}
	t.Logf("kernel in use: %v", bestKernel)
}
