package main

import (
	"context"
	"errors"
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
	quiet := fs.Bool("q", false, "quiet: replace an existing package (without -q pack refuses to; it never asks), and no warning about the setup folder")
	jsonOut := fs.Bool("json", false, "print one JSON document")
	workers := fs.Int("j", 0, "compression `N` workers (0: one per CPU; at most 256)")
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
	nWorkers, err := checkWorkers(*workers)
	if err != nil {
		return err
	}
	// Check what can be checked before the output folder is made, so a
	// mistyped argument leaves nothing behind.
	rel, err := decrypt.SetupFileIn(*folder, *setup)
	if err != nil {
		return err
	}
	if *catalogs != "" {
		if err := catalogFolderOK(*catalogs); err != nil {
			return err
		}
	}
	var total int64 // the folder's size: for the warning and the progress bar
	if !*quiet || (e.tty && !*jsonOut) {
		total = folderSize(*folder)
	}
	if !*quiet {
		if w := packWarning(*folder, rel, total); w != "" {
			sayf(e.stderr, "imepipe pack: %s", w)
		}
	}
	created, err := makeOutDir(*outDir)
	if err != nil {
		return err
	}
	name := filepath.Base(strings.ReplaceAll(*setup, `\`, "/"))
	out := filepath.Join(*outDir, strings.TrimSuffix(name, filepath.Ext(name))+".intunewin")

	bar := newProgress(e, *jsonOut, "pack", total)
	start := time.Now()
	res, err := decrypt.Pack(ctx, *folder, *setup, out, decrypt.PackOptions{
		Replace: *quiet, Workers: nWorkers, Progress: bar.Add, CatalogFolder: *catalogs,
	})
	bar.Done()
	if err != nil {
		removeDirs(created)
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

// catalogFolderOK checks that -a names a folder (pack reads its files).
func catalogFolderOK(dir string) error {
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("catalog folder %s does not exist", dir)
	case err != nil:
		return fmt.Errorf("cannot read catalog folder %s: %w", dir, packReason(err))
	case !st.IsDir():
		return fmt.Errorf("catalog folder %s is not a folder", dir)
	}
	return nil
}

// makeOutDir makes the output folder dir and any missing parents, as
// os.MkdirAll does, and returns the folders it made, innermost first, for
// removeDirs to take away again if the pack fails.
func makeOutDir(dir string) ([]string, error) {
	var missing []string // innermost first
	for d := filepath.Clean(dir); ; {
		if _, err := os.Lstat(d); !errors.Is(err, fs.ErrNotExist) {
			break // there, or not knowable: Mkdir or Stat below reports it
		}
		missing = append(missing, d)
		parent := filepath.Dir(d)
		if parent == d {
			break
		}
		d = parent
	}
	var created []string
	for i := len(missing) - 1; i >= 0; i-- {
		switch err := os.Mkdir(missing[i], 0o755); {
		case err == nil:
			created = append([]string{missing[i]}, created...)
		case errors.Is(err, fs.ErrExist):
			// Made meanwhile, by someone else: not ours to remove.
		default:
			removeDirs(created)
			return nil, fmt.Errorf("cannot create output folder %s: %w", dir, packReason(err))
		}
	}
	st, err := os.Stat(dir)
	if err == nil && !st.IsDir() {
		err = errors.New("not a folder")
	}
	if err != nil {
		removeDirs(created)
		return nil, fmt.Errorf("cannot create output folder %s: %w", dir, packReason(err))
	}
	return created, nil
}

// removeDirs removes the folders makeOutDir made, innermost first, each
// only if it is empty; the first that is not stops it, as its parents
// hold it.
func removeDirs(dirs []string) {
	for _, d := range dirs {
		if os.Remove(d) != nil {
			return
		}
	}
}

// packReason is the system's reason in err, without the operation and
// path that an *fs.PathError adds: the line names the path itself.
func packReason(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
