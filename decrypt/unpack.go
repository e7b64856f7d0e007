package decrypt

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/imepipe/imepipe/stage"
)

// UnpackOptions tunes Unpack and UnpackRaw.
type UnpackOptions struct {
	Workers  int           // extraction workers; 0: one per CPU
	Replace  bool          // replace an existing output folder
	Progress func(n int64) // encrypted bytes read, then extracted bytes; called concurrently
	// StagingDir holds the decrypted inner ZIP while it is extracted;
	// empty: beside the output folder. The file is removed either way.
	StagingDir string
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
		return UnpackResult{}, fmt.Errorf("decrypt: %s: %w", path, err)
	}
	src, err := pkg.OpenContent()
	if err != nil {
		return UnpackResult{}, err
	}
	defer src.Close()
	res, err := unpackStream(ctx, src, keys, dir, opt)
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
	return unpackStream(ctx, f, k, dir, opt)
}

func unpackStream(ctx context.Context, src io.Reader, k Keys, dir string, opt UnpackOptions) (UnpackResult, error) {
	var res UnpackResult
	if _, err := os.Lstat(dir); err == nil && !opt.Replace {
		return res, fmt.Errorf("decrypt: %w: %s", ErrExists, dir)
	}
	stagingDir := opt.StagingDir
	if stagingDir == "" {
		stagingDir = filepath.Dir(filepath.Clean(dir))
		if err := os.MkdirAll(stagingDir, 0o755); err != nil {
			return res, fmt.Errorf("decrypt: output folder: %w", err)
		}
	}
	tmp, err := os.CreateTemp(stagingDir, ".imepipe-staging-*.zip")
	if err != nil {
		return res, fmt.Errorf("decrypt: staging: %w", err)
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}()
	if opt.Progress != nil {
		src = &progressReader{r: src, fn: opt.Progress}
	}
	res.Open, err = Open(ctx, tmp, src, k)
	if err != nil {
		return res, err
	}
	res.Extract, err = stage.Extract(ctx, tmp, res.Open.PlainSize, dir, stage.Options{
		Workers:  opt.Workers,
		Replace:  opt.Replace,
		Progress: opt.Progress,
	})
	if err != nil {
		return res, fmt.Errorf("decrypt: extract: %w", err)
	}
	return res, nil
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
