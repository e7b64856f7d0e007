package direct

import (
	"errors"
	"os"
	"syscall"
)

func openDirect(name string) (*os.File, error) {
	return os.OpenFile(name, os.O_WRONLY|syscall.O_DIRECT, 0)
}

// refused reports a write the file system does not take directly.
func refused(err error) bool { return errors.Is(err, syscall.EINVAL) }
