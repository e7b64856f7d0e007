package decrypt

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/imepipe/imepipe/internal/fixtures"
)

// fixtureFiles are the real packages; tests read them in place.
func fixtureFiles(t testing.TB) []string {
	t.Helper()
	return fixtures.Packages(t, 5)
}

// rawContent returns a fixture's encrypted inner file and its keys.
func rawContent(t testing.TB, path string) ([]byte, Keys) {
	t.Helper()
	pkg, f, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	raw, err := io.ReadAll(io.NewSectionReader(pkg.Content, 0, pkg.ContentSize))
	if err != nil {
		t.Fatal(err)
	}
	k, err := pkg.Info.Keys()
	if err != nil {
		t.Fatal(err)
	}
	return raw, k
}

func TestOpenFixtures(t *testing.T) {
	for _, path := range fixtureFiles(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			raw, k := rawContent(t, path)
			var out bytes.Buffer
			res, err := Open(context.Background(), &out, bytes.NewReader(raw), k)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if !res.Verified() || res.PlainSize != k.Size || int64(out.Len()) != k.Size {
				t.Fatalf("result %+v, wrote %d, want %d verified", res, out.Len(), k.Size)
			}
			if sum := sha256.Sum256(out.Bytes()); !bytes.Equal(sum[:], k.FileDigest) {
				t.Fatal("plaintext digest differs from FileDigest")
			}
			if !bytes.HasPrefix(out.Bytes(), []byte("PK\x03\x04")) {
				t.Fatal("plaintext is not a ZIP")
			}
		})
	}
}

// TestOpenFlippedBits flips one bit at many places of MAC, IV and
// ciphertext: every one must fail, and never with a nil error.
func TestOpenFlippedBits(t *testing.T) {
	raw, k := rawContent(t, fixtures.Path(t, "7zip.intunewin"))
	places := []int{0, 17, 31, 32, 40, 47, 48, 49, 100, len(raw) / 2, len(raw) - 17, len(raw) - 16, len(raw) - 1}
	for _, pos := range places {
		for _, bit := range []byte{0x01, 0x80} {
			bad := bytes.Clone(raw)
			bad[pos] ^= bit
			_, err := Open(context.Background(), io.Discard, bytes.NewReader(bad), k)
			if err == nil {
				t.Fatalf("flip at %d (bit %#x) was accepted", pos, bit)
			}
			if !errors.Is(err, ErrMAC) && !errors.Is(err, ErrIV) {
				t.Errorf("flip at %d: want ErrMAC or ErrIV, got %v", pos, err)
			}
		}
	}
}

func TestOpenRejects(t *testing.T) {
	raw, k := rawContent(t, fixtures.Path(t, "7zip.intunewin"))
	wrongKey := k
	wrongKey.EncryptionKey = bytes.Repeat([]byte{7}, KeySize)
	wrongMacKey := k
	wrongMacKey.MacKey = bytes.Repeat([]byte{7}, KeySize)
	wrongIV := k
	wrongIV.IV = bytes.Repeat([]byte{7}, IVSize)
	wrongDigest := k
	wrongDigest.FileDigest = bytes.Repeat([]byte{7}, DigestSize)
	rawOnly := Keys{EncryptionKey: bytes.Repeat([]byte{7}, KeySize), IV: k.IV, Size: -1}
	cases := []struct {
		name string
		data []byte
		k    Keys
		want error
	}{
		{"wrong key (MAC known)", raw, wrongKey, ErrPadding},
		{"wrong MAC key", raw, wrongMacKey, ErrMAC},
		{"wrong IV", raw, wrongIV, ErrIV},
		{"wrong digest", raw, wrongDigest, ErrDigest},
		{"empty", nil, k, ErrTruncated},
		{"header only", raw[:48], k, ErrTruncated},
		{"half header", raw[:20], k, ErrTruncated},
		{"not whole blocks", raw[:len(raw)-5], k, ErrTruncated},
		{"block short", raw[:len(raw)-16], k, ErrMAC},
		{"appended block", append(bytes.Clone(raw), make([]byte, 16)...), k, ErrMAC},
		{"short key", raw, Keys{EncryptionKey: []byte{1}, Size: -1}, ErrKey},
	}
	// A wrong key with no MAC to check fails on padding unless, once in
	// 256 keys, the garbage ends in a valid pad; the key here does not.
	if _, err := Open(context.Background(), io.Discard, bytes.NewReader(raw), rawOnly); !errors.Is(err, ErrPadding) {
		t.Errorf("raw mode wrong key: want ErrPadding, got %v", err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Open(context.Background(), io.Discard, bytes.NewReader(c.data), c.k)
			if !errors.Is(err, c.want) {
				t.Fatalf("want %v, got %v", c.want, err)
			}
		})
	}
}

func TestSealOpenRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 15, 16, 17, chunkSize - 1, chunkSize, chunkSize + 1, sealBuf + 16, 3*chunkSize + 5} {
		plain := make([]byte, n)
		for i := range plain {
			plain[i] = byte(rng.Uint32())
		}
		data, k := sealed(t, plain, rng) // odd-sized writes exercise buffering
		var out bytes.Buffer
		res, err := Open(context.Background(), &out, bytes.NewReader(data), k)
		if err != nil {
			t.Fatalf("n=%d: Open: %v", n, err)
		}
		if !res.Verified() || !bytes.Equal(out.Bytes(), plain) {
			t.Fatalf("n=%d: round trip differs (verified=%v)", n, res.Verified())
		}
	}
}

func TestOpenCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	k, _ := NewKeys()
	k.IV = nil
	src := io.MultiReader(bytes.NewReader(make([]byte, 48)), zeroReader{})
	if _, err := Open(ctx, io.Discard, src, k); !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func FuzzOpen(f *testing.F) {
	k := fuzzKeys()
	seeds, _ := filepath.Glob("testdata/envelope/*.bin")
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	plain := fuzzPlain()
	f.Fuzz(func(t *testing.T, data []byte) {
		var out bytes.Buffer
		res, err := Open(context.Background(), &out, bytes.NewReader(data), k)
		if err != nil {
			return
		}
		// Anything accepted must be the sealed plaintext: the MAC forbids anything else.
		if !res.MacChecked || !bytes.Equal(out.Bytes(), plain) {
			t.Fatalf("accepted an envelope that is not the sealed one")
		}
	})
}

// fuzzKeys are the fixed keys the envelope seeds in testdata were sealed with.
func fuzzKeys() Keys {
	k := Keys{
		EncryptionKey: bytes.Repeat([]byte{1}, KeySize),
		MacKey:        bytes.Repeat([]byte{2}, KeySize),
		IV:            bytes.Repeat([]byte{3}, IVSize),
		Size:          -1,
	}
	return k
}

func fuzzPlain() []byte {
	return []byte("imepipe fuzz seed plaintext: PK\x03\x04 and more than one block")
}

// TestFuzzSeeds keeps testdata/envelope in step with fuzzKeys: it
// (re)creates the seed when IMEPIPE_WRITE_SEEDS=1 and checks it otherwise.
func TestFuzzSeeds(t *testing.T) {
	var env bytes.Buffer
	s, err := NewSealer(&env, fuzzKeys())
	if err != nil {
		t.Fatal(err)
	}
	s.Write(fuzzPlain())
	sealed, _, err := s.Close()
	if err != nil {
		t.Fatal(err)
	}
	data := env.Bytes()
	copy(data, sealed.Mac)
	path := "testdata/envelope/sealed.bin"
	if os.Getenv("IMEPIPE_WRITE_SEEDS") == "1" {
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatal("testdata/envelope/sealed.bin is stale: rerun with IMEPIPE_WRITE_SEEDS=1")
	}
	if _, err := Open(context.Background(), io.Discard, bytes.NewReader(got), fuzzKeys()); err != nil {
		t.Fatalf("seed does not open: %v", err)
	}
}
