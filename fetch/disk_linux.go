package fetch

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
)

// tmpfsMagic is tmpfs's statfs f_type.
const tmpfsMagic = 0x01021994

// preallocate reserves size bytes without changing existing data; file
// systems that cannot fallocate just get the length set, and so does
// tmpfs: there a reservation is RAM, allocated and zeroed at once (0.17 s
// for 767 MB, which the download's first writes waited for) only for the
// writes to overwrite it, where ext4 or XFS just mark extents.
func preallocate(f *os.File, size int64) error {
	if size == 0 {
		return f.Truncate(0)
	}
	var st syscall.Statfs_t
	if syscall.Fstatfs(int(f.Fd()), &st) == nil && st.Type == tmpfsMagic {
		return f.Truncate(size)
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
