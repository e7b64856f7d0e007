package stage

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// source is one file or empty directory of the folder Write packs.
type source struct {
	path  string // on disk
	name  string // in the ZIP: "\"-separated, a directory ends in "\"
	dir   bool
	size  int64 // from Lstat; the bytes actually read are what counts
	mtime time.Time
}

// walk lists root the way IntuneWinAppUtil (.NET's directory enumeration on
// NTFS) does, which the fixtures show: a directory's entries in NTFS order
// (case-insensitive, see winCompare) as one block, then each subdirectory
// the same way, depth first, in that order. So a folder's files come before
// the contents of its subfolders. Files are listed; a directory is listed
// only when it is empty. Symlinks and special files are refused with
// ErrUnsafePath: following them could pack files from outside root.
// Entries skip returns true for are not looked at (see WriteOptions.Skip).
func walk(root string, skip func(path string) bool) ([]source, error) {
	fi, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("stage: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("stage: %s: not a directory", root)
	}
	var out []source
	var visit func(dir, prefix string) error
	visit = func(dir, prefix string) error {
		ents, err := readDirSorted(dir)
		if err != nil {
			return err
		}
		var subdirs []source
		for _, de := range ents {
			p := filepath.Join(dir, de.Name())
			if skip != nil && skip(p) {
				continue
			}
			name := prefix + de.Name()
			if strings.ContainsRune(de.Name(), '\\') {
				return &UnsafeSourceError{Path: p, What: "a backslash in its name"}
			}
			switch t := de.Type(); {
			case t.IsDir():
				info, err := de.Info()
				if err != nil {
					return fmt.Errorf("stage: %w", err)
				}
				s := source{path: p, name: name + `\`, dir: true, mtime: info.ModTime()}
				empty, err := isEmptyDir(p)
				if err != nil {
					return err
				}
				if empty {
					out = append(out, s)
				} else {
					subdirs = append(subdirs, s)
				}
			case t.IsRegular():
				info, err := de.Info()
				if err != nil {
					return fmt.Errorf("stage: %w", err)
				}
				out = append(out, source{path: p, name: name, size: info.Size(), mtime: info.ModTime()})
			case t&fs.ModeSymlink != 0:
				return &UnsafeSourceError{Path: p, What: "a symbolic link"}
			default:
				return &UnsafeSourceError{Path: p, What: specialKind(t)}
			}
		}
		for _, s := range subdirs {
			if err := visit(s.path, s.name); err != nil {
				return err
			}
		}
		return nil
	}
	if err := visit(root, ""); err != nil {
		return nil, err
	}
	return out, nil
}

func readDirSorted(dir string) ([]os.DirEntry, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("stage: %w", err)
	}
	slices.SortFunc(ents, func(a, b os.DirEntry) int { return winCompare(a.Name(), b.Name()) })
	return ents, nil
}

func isEmptyDir(p string) (bool, error) {
	f, err := os.Open(p)
	if err != nil {
		return false, fmt.Errorf("stage: %w", err)
	}
	defer f.Close()
	names, err := f.Readdirnames(1)
	switch {
	case len(names) > 0:
		return false, nil
	case err == nil || errors.Is(err, io.EOF):
		return true, nil
	default:
		return false, fmt.Errorf("stage: %w", err)
	}
}

// winCompare orders names as NTFS lists them: by upper-cased characters,
// ordinal; names equal but for case fall back to byte order so the result
// is deterministic on case-sensitive file systems.
func winCompare(a, b string) int {
	x, y := a, b
	for x != "" && y != "" {
		r1, n1 := utf8.DecodeRuneInString(x)
		r2, n2 := utf8.DecodeRuneInString(y)
		r1, r2 = unicode.ToUpper(r1), unicode.ToUpper(r2)
		if r1 != r2 {
			if r1 < r2 {
				return -1
			}
			return 1
		}
		x, y = x[n1:], y[n2:]
	}
	switch {
	case len(x) != len(y):
		if x == "" {
			return -1
		}
		return 1
	default:
		return strings.Compare(a, b)
	}
}

// UnsafeSourceError is an entry of the folder Write packs that it
// refuses (errors.Is ErrUnsafePath): Path as the walk named it (root
// joined with the names below it) and What it is, with its article ("a
// symbolic link", "a named pipe", "a backslash in its name").
type UnsafeSourceError struct {
	Path, What string
}

func (e *UnsafeSourceError) Error() string {
	return fmt.Sprintf("stage: %s: %s in the source folder: %v", e.Path, e.What, ErrUnsafePath)
}

func (e *UnsafeSourceError) Unwrap() error { return ErrUnsafePath }

// specialKind names a file type that is neither regular, a folder nor a
// symbolic link.
func specialKind(t fs.FileMode) string {
	switch {
	case t&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case t&fs.ModeSocket != 0:
		return "a socket"
	case t&fs.ModeDevice != 0:
		return "a device file"
	}
	return fmt.Sprintf("a special file (%v)", t.Type())
}
