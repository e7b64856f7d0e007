//go:build !linux

package stage

import (
	"io/fs"
	"os"
	"time"
)

// outFile is a file being extracted. Writes are buffered by the system
// here; Linux writes big files with O_DIRECT (outfile_linux.go).
type outFile struct{ *os.File }

func createFile(path string, perm fs.FileMode, _ uint64) (*outFile, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return nil, err
	}
	return &outFile{f}, nil
}

// SetModTime sets the modification time, leaving the access time.
func (f *outFile) SetModTime(t time.Time) error {
	return os.Chtimes(f.Name(), time.Time{}, t)
}
