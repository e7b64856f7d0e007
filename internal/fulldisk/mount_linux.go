package fulldisk

import (
	"fmt"
	"syscall"
)

func mount(dir string, size int64) error {
	return syscall.Mount("imepipe-fulldisk", dir, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, fmt.Sprintf("size=%d,mode=0755", size))
}

func unmount(dir string) error { return syscall.Unmount(dir, 0) }
