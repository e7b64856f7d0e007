package decrypt

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
)

// sealed is plain encrypted with fresh keys, its MAC in place: in one
// write, or with rng in odd-sized writes of up to 70000 bytes.
func sealed(t *testing.T, plain []byte, rng *rand.Rand) ([]byte, Keys) {
	t.Helper()
	k, err := NewKeys()
	if err != nil {
		t.Fatal(err)
	}
	var env bytes.Buffer
	s, err := NewSealer(&env, k)
	if err != nil {
		t.Fatal(err)
	}
	for rest := plain; len(rest) > 0; {
		m := len(rest)
		if rng != nil {
			m = min(m, 1+rng.IntN(70000))
		}
		if _, err := s.Write(rest[:m]); err != nil {
			t.Fatal(err)
		}
		rest = rest[m:]
	}
	sk, size, err := s.Close()
	if err != nil {
		t.Fatal(err)
	}
	data := env.Bytes()
	if int64(len(data)) != size {
		t.Fatalf("%d plaintext bytes: Close says %d bytes, wrote %d", len(plain), size, len(data))
	}
	copy(data, sk.Mac)
	return data, sk
}

// TestOpenPiecesChecked: a caller's piece check stands in for the HMAC
// pass (a wrong MAC key no longer matters, so the HMAC was not computed),
// its verdict decides, and the stored MAC and the FileDigest are still
// checked.
func TestOpenPiecesChecked(t *testing.T) {
	plain := bytes.Repeat([]byte("imepipe pieces "), 3*chunkSize/15)
	data, k := sealed(t, plain, nil)
	ctx := context.Background()
	vouch := func() error { return nil }

	wrongMacKey := k
	wrongMacKey.MacKey = bytes.Repeat([]byte{7}, len(k.MacKey))
	if _, err := Open(ctx, &bytes.Buffer{}, bytes.NewReader(data), wrongMacKey); !errors.Is(err, ErrMAC) {
		t.Fatalf("Open with a wrong MAC key: %v, want ErrMAC", err)
	}
	var out bytes.Buffer
	calls := 0
	res, err := OpenWith(ctx, &out, bytes.NewReader(data), wrongMacKey, OpenOptions{PiecesChecked: func() error { calls++; return nil }})
	if err != nil {
		t.Fatalf("OpenWith, pieces vouched for: %v", err)
	}
	if calls != 1 || res.MacChecked || !res.PiecesChecked || !res.DigestChecked || !res.Verified() || !bytes.Equal(out.Bytes(), plain) {
		t.Fatalf("calls %d, result %+v, plaintext equal %v", calls, res, bytes.Equal(out.Bytes(), plain))
	}

	refused := errors.New("piece 3 not verified")
	res, err = OpenWith(ctx, &bytes.Buffer{}, bytes.NewReader(data), k, OpenOptions{PiecesChecked: func() error { return refused }})
	if !errors.Is(err, ErrPieces) || !errors.Is(err, refused) || res.Verified() {
		t.Fatalf("OpenWith, check refused: %v (verified %v), want ErrPieces wrapping the check's error", err, res.Verified())
	}

	badDigest := k
	badDigest.FileDigest = bytes.Repeat([]byte{1}, len(k.FileDigest))
	if _, err := OpenWith(ctx, &bytes.Buffer{}, bytes.NewReader(data), badDigest, OpenOptions{PiecesChecked: vouch}); !errors.Is(err, ErrDigest) {
		t.Fatalf("OpenWith, wrong FileDigest: %v, want ErrDigest", err)
	}
	badMac := k
	badMac.Mac = bytes.Repeat([]byte{2}, len(k.Mac))
	if _, err := OpenWith(ctx, &bytes.Buffer{}, bytes.NewReader(data), badMac, OpenOptions{PiecesChecked: vouch}); !errors.Is(err, ErrMAC) {
		t.Fatalf("OpenWith, stored MAC differs from the given one: %v, want ErrMAC", err)
	}
}

// TestUnpackReaderPiecesRefused: when the piece check refuses, nothing
// is extracted where the good result would go.
func TestUnpackReaderPiecesRefused(t *testing.T) {
	for _, path := range fixtureFiles(t)[:1] {
		raw, k := rawContent(t, path)
		dir := t.TempDir() + "/out"
		_, err := UnpackReader(context.Background(), bytes.NewReader(raw), k, dir,
			UnpackOptions{PiecesChecked: func() error { return errors.New("piece 0 not verified") }})
		if !errors.Is(err, ErrPieces) {
			t.Fatalf("UnpackReader: %v, want ErrPieces", err)
		}
		if _, err := UnpackReader(context.Background(), bytes.NewReader(raw), k, dir,
			UnpackOptions{PiecesChecked: func() error { return nil }}); err != nil {
			t.Fatalf("UnpackReader into the same folder, pieces vouched for: %v", err)
		}
	}
}

// lender lends data in the sizes given (cycled), counting what it lent
// and what was released.
type lender struct {
	data           []byte
	sizes          []int
	k              int
	lent, released int
	doubleRelease  bool
}

func (l *lender) Read(p []byte) (int, error) {
	if len(l.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p, l.data)
	l.data = l.data[n:]
	return n, nil
}

func (l *lender) Lend(max int) ([]byte, func(), error) {
	if len(l.data) == 0 {
		return nil, nil, io.EOF
	}
	n := min(l.sizes[l.k%len(l.sizes)], max, len(l.data))
	l.k++
	b := bytes.Clone(l.data[:n])
	l.data = l.data[n:]
	l.lent++
	done := false
	return b, func() {
		if done {
			l.doubleRelease = true
		}
		done = true
		l.released++
		clear(b) // a released buffer is reused: the pipeline must not read it again
	}, nil
}

// TestOpenLender: a source that lends its buffers (whole AES blocks, and
// sizes that are not) decrypts to the same plaintext as one that is
// read, and every buffer lent is released once.
func TestOpenLender(t *testing.T) {
	plain := make([]byte, 5*chunkSize+1234)
	for i := range plain {
		plain[i] = byte(i * 7)
	}
	data, k := sealed(t, plain, nil)
	for _, sizes := range [][]int{{chunkSize}, {chunkSize - 48, chunkSize}, {4096, 100, 16, chunkSize}, {33}} {
		l := &lender{data: bytes.Clone(data), sizes: sizes}
		var out bytes.Buffer
		res, err := Open(context.Background(), &out, l, k)
		if err != nil {
			t.Fatalf("sizes %v: %v", sizes, err)
		}
		if !res.Verified() || !bytes.Equal(out.Bytes(), plain) {
			t.Fatalf("sizes %v: verified %v, plaintext equal %v", sizes, res.Verified(), bytes.Equal(out.Bytes(), plain))
		}
		if l.lent == 0 || l.released != l.lent || l.doubleRelease {
			t.Fatalf("sizes %v: lent %d, released %d (twice: %v)", sizes, l.lent, l.released, l.doubleRelease)
		}
	}
	// Cut short of whole blocks: refused as truncated.
	l := &lender{data: bytes.Clone(data[:len(data)-5]), sizes: []int{chunkSize}}
	if _, err := Open(context.Background(), io.Discard, l, k); !errors.Is(err, ErrTruncated) {
		t.Fatalf("truncated lender: %v, want ErrTruncated", err)
	}
}
