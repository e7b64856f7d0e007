package decrypt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/imepipe/imepipe/stage"
)

// UnpackOptions tunes Unpack and UnpackRaw.
type UnpackOptions struct {
	Workers  int           // extraction workers; 0: stage's default, two per CPU
	Replace  bool          // replace an existing output folder (an empty one always is)
	Progress func(n int64) // encrypted bytes consumed; called from one goroutine
	// PiecesChecked is OpenOptions.PiecesChecked for the streaming
	// unpack: a caller whose reader hands over only checked pieces (a
	// download with piece hashes, UnpackReader) stands in for the HMAC.
	// The staged fallback (an inner ZIP that needs random access) always
	// computes the HMAC.
	PiecesChecked func() error
}

// UnpackResult describes an unpacked package.
type UnpackResult struct {
	Info    *Info // nil for a raw .bin
	Open    Result
	Extract stage.Result
}

// Unpack verifies, decrypts and extracts the package at path into dir.
// Nothing appears at dir unless the HMAC and FileDigest verify and the
// inner ZIP extracts completely.
func Unpack(ctx context.Context, path, dir string, opt UnpackOptions) (UnpackResult, error) {
	pkg, f, err := OpenFile(path)
	if err != nil {
		return UnpackResult{}, err
	}
	defer f.Close()
	keys, err := pkg.Info.Keys()
	if err != nil {
		return UnpackResult{}, fmt.Errorf("%s: decrypt: %w", path, err) // as OpenFile names it
	}
	src, err := pkg.OpenContent()
	if err != nil {
		return UnpackResult{}, err
	}
	defer src.Close()
	res, err := unpackStream(ctx, src, keys, dir, opt)
	if errors.Is(err, stage.ErrNotStreamable) {
		src.Close()
		if src, err = pkg.OpenContent(); err != nil {
			return UnpackResult{}, err
		}
		res, err = unpackStaged(ctx, src, keys, dir, opt)
	}
	res.Info = pkg.Info
	return res, err
}

// UnpackRaw does what Unpack does for a bare encrypted inner file (the
// .intunewin.bin the IME downloads), given its keys. Without MacKey the
// HMAC cannot be checked and Result.MacChecked stays false.
func UnpackRaw(ctx context.Context, path string, k Keys, dir string, opt UnpackOptions) (UnpackResult, error) {
	f, err := os.Open(path)
	if err != nil {
		return UnpackResult{}, fmt.Errorf("decrypt: %w", err)
	}
	defer f.Close()
	res, err := unpackStream(ctx, f, k, dir, opt)
	if errors.Is(err, stage.ErrNotStreamable) {
		if _, err = f.Seek(0, io.SeekStart); err != nil {
			return res, fmt.Errorf("decrypt: %w", err)
		}
		res, err = unpackStaged(ctx, f, k, dir, opt)
	}
	return res, err
}

// UnpackReader does what UnpackRaw does for an encrypted inner file read
// front to back from r as it arrives: a download in progress, whose
// verification, decryption and extraction then overlap it. An inner ZIP
// that needs random access fails with an error wrapping
// stage.ErrNotStreamable once r is consumed: unpack the completed file
// with UnpackRaw then.
func UnpackReader(ctx context.Context, r io.Reader, k Keys, dir string, opt UnpackOptions) (UnpackResult, error) {
	return unpackStream(ctx, r, k, dir, opt)
}

// unpackStream decrypts src and extracts the plaintext ZIP as it is
// produced: Open writes into a pipe that stage.ExtractStream reads, so
// verification, decryption and extraction overlap and the inner ZIP is
// never written to disk. The extraction commits only after Open has
// verified the HMAC, padding and FileDigest.
func unpackStream(ctx context.Context, src io.Reader, k Keys, dir string, opt UnpackOptions) (UnpackResult, error) {
	var res UnpackResult
	if !opt.Replace {
		// Checked again, under a lock, at the commit (stage.Occupied).
		busy, err := stage.Occupied(dir)
		if err != nil {
			return res, err // stage's, which names it
		}
		if busy {
			return res, fmt.Errorf("decrypt: %w: %s", ErrExists, dir)
		}
	}
	if opt.Progress != nil {
		src = &progressReader{r: src, fn: opt.Progress}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pr, pw := io.Pipe()
	opened := make(chan struct{})
	var openErr error
	go func() {
		defer close(opened)
		res.Open, openErr = OpenWith(ctx, pw, src, k, OpenOptions{PiecesChecked: opt.PiecesChecked})
		pw.CloseWithError(openErr) // nil: the reader sees io.EOF
	}()
	// envelope waits for Open's verdict, reading whatever the extractor
	// left unread so that Open can finish checking the whole envelope.
	envelope := func() error {
		_, _ = io.Copy(io.Discard, pr)
		<-opened
		return openErr
	}
	var err error
	res.Extract, err = stage.ExtractStream(ctx, pr, dir, stage.Options{
		Workers: opt.Workers,
		Replace: opt.Replace,
		Verify:  envelope,
	})
	if err == nil {
		return res, nil
	}
	// A tampered or wrongly keyed package usually shows up as a corrupt
	// ZIP before the HMAC is known: the envelope's verdict is the root
	// cause, so report it when there is one.
	if errors.Is(err, stage.ErrCorrupt) || errors.Is(err, stage.ErrUnsafePath) || errors.Is(err, stage.ErrUnsupported) {
		if eerr := envelope(); eerr != nil {
			return res, eerr
		}
	} else {
		cancel()
		pr.CloseWithError(err)
		<-opened
	}
	if openErr != nil && !errors.Is(openErr, context.Canceled) && !errors.Is(openErr, io.ErrClosedPipe) {
		return res, openErr
	}
	return res, err // stage's, which says "stage: " and the entry
}

// unpackStaged is the slow path for inner ZIPs that cannot be read front
// to back: decrypt into a staging file beside dir, then extract it with
// random access. The staging file is removed either way.
func unpackStaged(ctx context.Context, src io.Reader, k Keys, dir string, opt UnpackOptions) (UnpackResult, error) {
	var res UnpackResult
	abs, err := filepath.Abs(dir) // "." has no parent of its own
	if err != nil {
		return res, fmt.Errorf("decrypt: output folder: %w", err)
	}
	parent := filepath.Dir(abs)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return res, fmt.Errorf("decrypt: output folder: %w", err)
	}
	tmp, err := os.CreateTemp(parent, ".imepipe-staging-*.zip")
	if errors.Is(err, fs.ErrPermission) {
		// An existing empty folder is filled in place (stage) and needs
		// no write permission beside it; the staging ZIP goes to the
		// temp folder then, on another file system perhaps: it is only
		// read back, never renamed.
		tmp, err = os.CreateTemp("", "imepipe-staging-*.zip")
	}
	if err != nil {
		return res, fmt.Errorf("decrypt: staging: %w", err)
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}()
	if res.Open, err = Open(ctx, tmp, src, k); err != nil {
		return res, err
	}
	res.Extract, err = stage.Extract(ctx, tmp, res.Open.PlainSize, dir, stage.Options{Workers: opt.Workers, Replace: opt.Replace})
	return res, err // stage's, which names it
}

type progressReader struct {
	r  io.Reader
	fn func(int64)
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if n > 0 {
		p.fn(int64(n))
	}
	return n, err
}
