package main

import (
	"archive/zip"
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
	Dir     string  `json:"dir"`
	Seconds float64 `json:"seconds"`
}

func runExtract(ctx context.Context, e *env, args []string) error {
	limitMemory()
	fs := newFlags(e, "extract")
	out := fs.String("o", "", "output folder (default: the file name without .zip, in the current folder)")
	force := fs.Bool("force", false, "replace an existing, non-empty output folder")
	workers := fs.Int("j", 0, "entries extracted at once (default: two per CPU)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("want one FILE.zip, got %d arguments (see imepipe extract --help)", len(pos))
	}
	if *workers < 0 {
		return badValue("j", fmt.Sprint(*workers), "want 0 or more")
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
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	start := time.Now()
	bar := newProgress(e, *asJSON, "extract", zipTotal(f, fi.Size()))
	res, err := stage.Extract(ctx, f, fi.Size(), dir, stage.Options{Workers: *workers, Replace: *force, Progress: bar.Add})
	bar.Done()
	if err != nil {
		return existsHint(err, dir)
	}
	secs := time.Since(start).Seconds()
	if *asJSON {
		return writeJSON(e, extractReport{Result: res, Dir: dir, Seconds: secs})
	}
	sayf(e.stdout, "extracted %s, %s, %s into %s in %.2fs", plural(res.Files, "file"), plural(res.Dirs, "folder"),
		humanize.IBytes(uint64(res.Bytes)), dir, secs)
	return nil
}

// zipTotal is the declared uncompressed size of the ZIP's entries, for the
// progress bar only (0 when it cannot be read; Extract reports the error).
func zipTotal(r io.ReaderAt, size int64) int64 {
	zr, err := zip.NewReader(r, size)
	if zr == nil || (err != nil && !errors.Is(err, zip.ErrInsecurePath)) {
		return 0
	}
	var n uint64
	for _, f := range zr.File {
		n += f.UncompressedSize64
	}
	return int64(min(n, 1<<62))
}
