package fetch

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

// TestNoSourceSaysWhy: a worker that finds its only source banned by
// another worker (a 403 mid-download) reports that cause with
// ErrNoSource. It once reported only "no usable source", and when that
// worker's error was the first the run saw (a loaded machine's
// scheduling), the 403 was lost: TestFaults/403_mid-download failed.
func TestNoSourceSaysWhy(t *testing.T) {
	src, err := NewHTTP("http://127.0.0.1:1/blob", nil) // never asked: it is banned
	if err != nil {
		t.Fatal(err)
	}
	var sl sleeps
	opt := testOptions(&sl)
	j, err := New(filepath.Join(t.TempDir(), "out.bin"), []Source{src}, opt)
	if err != nil {
		t.Fatal(err)
	}
	j.pc = newPieces(4*opt.PieceSize, opt.PieceSize)
	s := j.sources[0]
	s.usable = true
	j.ban(s, time.Hour, &StatusError{Code: 403, URL: "http://127.0.0.1:1/blob"})
	err = j.fill(context.Background(), span{first: 2, end: 4}, &sizer{chunk: opt.PieceSize, max: opt.PieceSize, piece: opt.PieceSize})
	var se *StatusError
	if !errors.Is(err, ErrNoSource) || !errors.As(err, &se) || se.Code != 403 {
		t.Fatalf("fill with the only source banned for a 403: %v, want ErrNoSource and the 403", err)
	}
}
