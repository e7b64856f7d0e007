package main

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/imepipe/imepipe/decrypt"
)

func init() {
	register("pack", "make an .intunewin from a setup folder (IntuneWinAppUtil's -c -s -o -q)", runPack)
}

func runPack(ctx context.Context, e *env, args []string) error {
	limitMemory()
	fs := newFlags(e, "pack")
	folder := fs.String("c", "", "setup folder (all of it is packed)")
	setup := fs.String("s", "", "setup file, inside the setup folder")
	outDir := fs.String("o", "", "output folder; the package is named after the setup file")
	catalogs := fs.String("a", "", "catalog `FOLDER`: every file in it is a catalog file for Windows 10 S mode (IntuneWinAppUtil's -a)")
	quiet := fs.Bool("q", false, "quiet: replace an existing output without asking, and no warning about the setup folder")
	jsonOut := fs.Bool("json", false, "print one JSON document")
	workers := fs.Int("j", 0, "compression `N` workers (0: one per CPU)")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("unexpected argument %q (see imepipe pack --help)", rest[0])
	}
	if *folder == "" || *setup == "" || *outDir == "" {
		return usagef("-c SETUP_FOLDER, -s SETUP_FILE and -o OUTPUT_FOLDER are required (see imepipe pack --help)")
	}
	if *workers < 0 {
		return badValue("j", fmt.Sprint(*workers), "want 0 or more")
	}
	var total int64 // the folder's size: for the warning and the progress bar
	if !*quiet || (e.tty && !*jsonOut) {
		total = folderSize(*folder)
	}
	if rel, err := decrypt.SetupFileIn(*folder, *setup); err == nil && !*quiet {
		if w := packWarning(*folder, rel, total); w != "" {
			sayf(e.stderr, "imepipe pack: %s", w)
		}
	}
	if err := os.MkdirAll(*outDir, 0o755); err != nil {
		return fmt.Errorf("output folder: %w", err)
	}
	name := filepath.Base(strings.ReplaceAll(*setup, `\`, "/"))
	out := filepath.Join(*outDir, strings.TrimSuffix(name, filepath.Ext(name))+".intunewin")

	bar := newProgress(e, *jsonOut, "pack", total)
	start := time.Now()
	res, err := decrypt.Pack(ctx, *folder, *setup, out, decrypt.PackOptions{
		Replace: *quiet, Workers: *workers, Progress: bar.Add, CatalogFolder: *catalogs,
	})
	bar.Done()
	if err != nil {
		return err
	}
	secs := time.Since(start).Seconds()
	if *jsonOut {
		return writeJSON(e, map[string]any{
			"path": res.Path, "name": res.Info.Name, "setupFile": res.Info.SetupFile,
			"toolVersion": res.Info.ToolVersion, "files": res.Files, "dirs": res.Dirs,
			"bytes": res.Bytes, "size": res.Size, "unencryptedContentSize": res.Info.UnencryptedContentSize,
			"seconds": secs,
		})
	}
	sayf(e.stdout, "packed %s: %s, %s → %s in %.2fs", res.Path, plural(res.Files, "file"),
		humanize.IBytes(uint64(res.Bytes)), humanize.IBytes(uint64(res.Size)), secs)
	return nil
}

// folderSize adds up regular file sizes for a progress total; errors are
// left for the packer to report.
func folderSize(root string) int64 {
	var n int64
	filepath.WalkDir(root, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}
