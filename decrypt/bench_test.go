package decrypt

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"io"
	"os"
	"testing"

	"github.com/dustin/go-humanize"
)

// benchSize is the payload of the envelope benchmarks: 64 MiB, or
// IMEPIPE_BENCH_SIZE (e.g. 1GiB) for the 1 GiB figure.
var benchSize = func() int {
	if v := os.Getenv("IMEPIPE_BENCH_SIZE"); v != "" {
		if n, err := humanize.ParseBytes(v); err == nil {
			return int(n)
		}
	}
	return 64 << 20
}()

// sealedForBench returns a sealed envelope of n pseudo-random bytes and its keys.
func sealedForBench(b *testing.B, n int) ([]byte, Keys) {
	b.Helper()
	plain := make([]byte, n)
	for i := range plain {
		plain[i] = byte(i*7 + i>>9)
	}
	k := fuzzKeys()
	var env bytes.Buffer
	s, err := NewSealer(&env, k)
	if err != nil {
		b.Fatal(err)
	}
	s.Write(plain)
	sealed, _, err := s.Close()
	if err != nil {
		b.Fatal(err)
	}
	data := env.Bytes()
	copy(data, sealed.Mac)
	return data, sealed
}

// BenchmarkOpen is the pipelined verify-and-decrypt: HMAC + AES-CBC + FileDigest.
func BenchmarkOpen(b *testing.B) {
	data, k := sealedForBench(b, benchSize)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Open(context.Background(), io.Discard, bytes.NewReader(data), k); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpenSequential is the baseline: HMAC pass, stdlib CBC pass, digest pass.
func BenchmarkOpenSequential(b *testing.B) {
	data, k := sealedForBench(b, benchSize)
	b.SetBytes(int64(len(data)))
	buf := make([]byte, len(data)-headerSize)
	for b.Loop() {
		mac := hmac.New(sha256.New, k.MacKey)
		mac.Write(data[MacSize:])
		if !hmac.Equal(mac.Sum(nil), data[:MacSize]) {
			b.Fatal("mac")
		}
		blk, _ := aes.NewCipher(k.EncryptionKey)
		cipher.NewCBCDecrypter(blk, data[MacSize:headerSize]).CryptBlocks(buf, data[headerSize:])
		sha256.Sum256(buf)
	}
}

// BenchmarkSeal is pack's encrypt + HMAC + digest.
func BenchmarkSeal(b *testing.B) {
	plain := make([]byte, benchSize)
	k := fuzzKeys()
	b.SetBytes(int64(benchSize))
	for b.Loop() {
		s, err := NewSealer(io.Discard, k)
		if err != nil {
			b.Fatal(err)
		}
		s.Write(plain)
		if _, _, err := s.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSHA256(b *testing.B) {
	buf := make([]byte, 1<<20)
	b.SetBytes(int64(len(buf)))
	h := sha256.New()
	for b.Loop() {
		h.Write(buf)
	}
}
