// Package atomicfile replaces a small file whole: readers see the old
// contents or the new, never a part. It writes a temp file beside the
// target, syncs it and renames it over the target. It is for records and
// reports (kilobytes), not content: it holds the data in memory and does
// not sync the folder.
package atomicfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Write replaces path with data, mode perm. On failure the temp file is
// removed and path is left as it was.
func Write(path string, data []byte, perm os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("atomicfile: %w", err)
	}
	_, err = f.Write(data)
	err = errors.Join(err, f.Chmod(perm), f.Sync(), f.Close())
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("atomicfile: write %s: %w", path, err)
	}
	return nil
}
