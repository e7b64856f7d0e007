package fetch

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
)

// preallocate reserves size bytes without changing existing data; file
// systems that cannot fallocate just get the length set.
func preallocate(f *os.File, size int64) error {
	if size == 0 {
		return f.Truncate(0)
	}
	err := syscall.Fallocate(int(f.Fd()), 0, 0, size)
	if errors.Is(err, syscall.EOPNOTSUPP) || errors.Is(err, syscall.ENOSYS) {
		return f.Truncate(size)
	}
	if err != nil {
		return err
	}
	fi, err := f.Stat()
	if err == nil && fi.Size() > size {
		return f.Truncate(size)
	}
	return err
}

func diskFree(path string) (avail, have int64, err error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(filepath.Dir(path), &st); err != nil {
		return 0, 0, err
	}
	avail = int64(st.Bavail) * int64(st.Bsize)
	if fi, err := os.Stat(path); err == nil {
		if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
			have = sys.Blocks * 512
		}
	}
	return avail, have, nil
}
