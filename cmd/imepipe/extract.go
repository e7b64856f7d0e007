package main

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/imepipe/imepipe/stage"
)

func init() {
	register("extract", "extract a ZIP safely and in parallel into a new folder", runExtract)
}

// extractReport is the --json document of imepipe extract.
type extractReport struct {
	stage.Result
	File    string  `json:"file"`
	Dir     string  `json:"dir"`
	Seconds float64 `json:"seconds"`
}

func runExtract(ctx context.Context, e *env, args []string) error {
	limitMemory()
	fs := newFlags(e, "extract")
	out := fs.String("o", "", "output `DIR` (default: the file's name without .zip, in the current folder)")
	force := fs.Bool("force", false, "replace an existing, non-empty output folder")
	workers := fs.Int("j", 0, fmt.Sprintf("entries extracted at once (0: two per CPU; at most %d)", maxWorkers))
	asJSON := fs.Bool("json", false, "print the result as JSON")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("want one FILE.zip, got %d arguments (see imepipe extract --help)", len(pos))
	}
	nWorkers, err := checkWorkers(*workers)
	if err != nil {
		return err
	}
	src := pos[0]
	dir := *out
	if dir == "" {
		base := filepath.Base(src)
		dir = strings.TrimSuffix(base, filepath.Ext(base))
		if dir == base || dir == "" {
			return usagef("cannot name the output folder after %q; give -o DIR", src)
		}
	}
	if _, err := inputFile(src); err != nil {
		return err
	}
	f, err := os.Open(src)
	if err != nil {
		return fileError(src, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fileError(src, err)
	}
	// The file first: whether it is a ZIP matters more than where it
	// would go (stage looks at the output folder before the ZIP).
	total, err := zipTotal(src, f, fi.Size())
	if err != nil {
		return err
	}
	start := time.Now()
	bar := newProgress(e, *asJSON, "extract", total)
	res, err := stage.Extract(ctx, f, fi.Size(), dir, stage.Options{Workers: nWorkers, Replace: *force, Progress: bar.Add})
	bar.Done()
	if err != nil {
		return extractError(ctx, src, dir, err)
	}
	secs := time.Since(start).Seconds()
	if *asJSON {
		return writeJSON(e, extractReport{Result: res, File: src, Dir: dir, Seconds: secs})
	}
	sayf(e.stdout, "extracted %s: %s, %s, %s into %s in %.2fs", src, plural(res.Files, "file"), plural(res.Dirs, "folder"),
		humanize.IBytes(uint64(res.Bytes)), dir, secs)
	return nil
}

// maxWorkers caps -j of extract and unpack: past a few per CPU more
// workers only wait, and each costs a goroutine (unpack streams its ZIP,
// so it cannot stop at the number of entries as extract does).
const maxWorkers = 256

// checkWorkers is the number of workers -j n asks for: n < 0 is a usage
// error, as for pack; more than maxWorkers gets maxWorkers; 0 leaves the
// choice (two per CPU) to stage.
func checkWorkers(n int) (int, error) {
	if n < 0 {
		return 0, badValue("j", fmt.Sprint(n), "want 0 or more")
	}
	return min(n, maxWorkers), nil
}

// extractError is the one line for a failed extract of src into dir.
func extractError(ctx context.Context, src, dir string, err error) error {
	if ierr := interrupted(ctx, err); ierr != nil {
		return ierr
	}
	if errors.Is(err, stage.ErrExists) {
		return existsHint(err, dir)
	}
	return notExtracted(src, err)
}

// zipTotal is the declared uncompressed size of the entries of the ZIP
// src (open as r), for the progress bar, or the line saying why src is
// no ZIP: empty, cut short or corrupt (zipDamage), or not a ZIP at all.
// Entry names are stage's to judge (zip.ErrInsecurePath passes).
func zipTotal(src string, r io.ReaderAt, size int64) (int64, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		if zerr := zipDamage(src, "ZIP", err); zerr != nil {
			return 0, zerr
		}
		if errors.Is(err, zip.ErrFormat) && !bytes.HasPrefix(sniff(src), []byte("PK")) {
			return 0, &fileErr{path: src, reason: "not a ZIP", err: err}
		}
		return 0, fileError(src, err)
	}
	var n uint64
	for _, f := range zr.File {
		n += f.UncompressedSize64
	}
	return int64(min(n, 1<<62)), nil
}
