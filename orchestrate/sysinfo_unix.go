//go:build unix

package orchestrate

import "syscall"

// freeDiskMB is the space available to this user where path lives.
func freeDiskMB(path string) int64 {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return 0
	}
	return int64(st.Bavail) * int64(st.Bsize) >> 20
}
