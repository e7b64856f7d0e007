package bench

import (
	"fmt"
	"io/fs"
	"path/filepath"
)

// Tree counts what a folder holds: regular files, folders (not counting
// the root) and the bytes of the files.
type Tree struct {
	Files int   `json:"files"`
	Dirs  int   `json:"dirs"`
	Bytes int64 `json:"bytes"`
}

// Stat walks dir and counts its tree. Anything but regular files and
// folders (a symlink, a device) is an error: no contender should make one.
func Stat(dir string) (Tree, error) {
	var t Tree
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			if p != dir {
				t.Dirs++
			}
		case d.Type().IsRegular():
			fi, err := d.Info()
			if err != nil {
				return err
			}
			t.Files++
			t.Bytes += fi.Size()
		default:
			return fmt.Errorf("%w: %s is not a regular file or folder", ErrOutput, p)
		}
		return nil
	})
	if err != nil {
		return t, fmt.Errorf("bench: %w", err)
	}
	return t, nil
}

// check compares an output tree with the dataset it should hold.
func (ds Dataset) check(name, dir string) error {
	t, err := Stat(dir)
	if err != nil {
		return fmt.Errorf("bench: %s: %w", name, err)
	}
	if t.Files != ds.Files || t.Bytes != ds.Bytes {
		return fmt.Errorf("bench: %s: %w: %d files, %d bytes; want %d files, %d bytes",
			name, ErrOutput, t.Files, t.Bytes, ds.Files, ds.Bytes)
	}
	return nil
}
