package fetch

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
)

// file is what the Job needs of the target; tests substitute a file that
// runs out of space.
type file interface {
	io.ReaderAt
	io.WriterAt
	Truncate(size int64) error
	Sync() error
	Close() error
}

// openFile opens the target; a variable so tests can inject faults.
var openFile = func(path string) (file, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
}

// freeSpace reports bytes available to us in dir and how many bytes path
// already has allocated; a variable so tests can pretend a disk is full.
var freeSpace = diskFree

// diskErr wraps a file error once, with context (the step and the file;
// empty when err names them): "no space left" as ErrDiskFull, so callers
// can test for it and the chain starts with that sentinel's prefix only.
func diskErr(err error, context string) error {
	full := errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
	switch {
	case full && context == "":
		return fmt.Errorf("%w: %w", ErrDiskFull, err)
	case full:
		return fmt.Errorf("%w: %s: %w", ErrDiskFull, context, err)
	case context == "":
		return fmt.Errorf("fetch: %w", err)
	}
	return fmt.Errorf("fetch: %s: %w", context, err)
}

// prepareFile checks there is room for the rest of the file and reserves
// it where that is cheap (preallocate), so that running out of space
// shows up before any byte is fetched.
func prepareFile(path string, f file, size int64) error {
	avail, have, err := freeSpace(path)
	if err == nil && size-have > avail {
		return fmt.Errorf("%w: %s needs %d more bytes, %d free", ErrDiskFull, path, size-have, avail)
	}
	if of, ok := f.(*os.File); ok {
		if err := preallocate(of, size); err != nil {
			return diskErr(err, "preallocate "+path)
		}
	}
	return nil
}
