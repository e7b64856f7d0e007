package orchestrate

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/imepipe/imepipe/orchestrate/state"
)

// ErrKept: kept content that no longer matches its manifest.
var ErrKept = errors.New("kept content changed")

// manifestOf lists the folder dir for keeping: every folder, and every
// regular file with its size and SHA-256, in walk order, and their total
// size. Anything else (a symlink, a device, a socket) is an error: such
// content is not kept.
func manifestOf(dir string) ([]state.KeptFile, int64, error) {
	var files []state.KeptFile
	var total int64
	err := walkKept(dir, func(rel string, d fs.DirEntry) error {
		if d.IsDir() {
			files = append(files, state.KeptFile{Path: rel, Dir: true})
			return nil
		}
		size, sum, err := hashFile(filepath.Join(dir, filepath.FromSlash(rel)))
		if err != nil {
			return err
		}
		files = append(files, state.KeptFile{Path: rel, Size: size, SHA256: sum})
		total += size
		return nil
	})
	return files, total, err
}

// verifyKept checks dir against its manifest: the same folders and
// regular files, nothing added (no extra file, no symlink planted),
// nothing missing, every file of its size and SHA-256. The first
// difference is returned, wrapping ErrKept.
func verifyKept(dir string, files []state.KeptFile) error {
	if len(files) == 0 {
		return fmt.Errorf("no manifest: %w", ErrKept)
	}
	want := make(map[string]state.KeptFile, len(files))
	for _, f := range files {
		want[f.Path] = f
	}
	seen := 0
	err := walkKept(dir, func(rel string, d fs.DirEntry) error {
		w, ok := want[rel]
		switch {
		case !ok:
			return fmt.Errorf("%s was added: %w", rel, ErrKept)
		case w.Dir != d.IsDir():
			return fmt.Errorf("%s changed type: %w", rel, ErrKept)
		}
		seen++
		if d.IsDir() {
			return nil
		}
		size, sum, err := hashFile(filepath.Join(dir, filepath.FromSlash(rel)))
		if err != nil {
			return err
		}
		if size != w.Size || sum != w.SHA256 {
			return fmt.Errorf("%s was modified (%d bytes, want %d): %w", rel, size, w.Size, ErrKept)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if seen != len(want) {
		return fmt.Errorf("%d of %d entries missing: %w", len(want)-seen, len(want), ErrKept)
	}
	return nil
}

// walkKept calls fn for every entry under dir (not dir itself) with its
// slash-separated relative path. dir must be a real folder and every
// entry a folder or a regular file; a symlink anywhere is an error
// wrapping ErrKept (WalkDir does not follow it).
func walkKept(dir string, fn func(rel string, d fs.DirEntry) error) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a folder: %w", dir, ErrKept)
	}
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == dir {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if !d.IsDir() && !d.Type().IsRegular() {
			return fmt.Errorf("%s is a %v, not a file: %w", rel, d.Type(), ErrKept)
		}
		return fn(rel, d)
	})
}

// hashFile returns a regular file's size and hex SHA-256. It opens with
// Lstat semantics checked by the caller's walk; a file swapped for a
// symlink in between is caught by the size/hash or the next walk.
func hashFile(path string) (int64, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, "", err
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}
