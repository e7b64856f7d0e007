//go:build linux || darwin

package peer

import "syscall"

// diskSize is the size in bytes of the file system holding dir.
func diskSize(dir string) (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return int64(st.Blocks) * int64(st.Bsize), nil
}
