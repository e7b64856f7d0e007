//go:build !linux

package fetch

import (
	"errors"
	"os"
)

func preallocate(f *os.File, size int64) error { return f.Truncate(size) }

func diskFree(string) (int64, int64, error) { return 0, 0, errors.ErrUnsupported }
