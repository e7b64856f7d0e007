package stage

import (
	"io/fs"
	"os"
	"syscall"
	"time"
	"unsafe"

	"github.com/imepipe/imepipe/internal/align"
)

// outFile is a file being extracted. On Linux it is a bare descriptor:
// os.OpenFile would try to register every regular file with the network
// poller (four fcntl and one failing epoll_ctl per file), a fifth of the
// system calls of a tree of small files.
//
// A file of directMin bytes or more is opened with O_DIRECT: its aligned
// writes go from our buffer to the device without passing through the
// page cache, which on a multi-GB package costs more CPU than inflating
// it (the kernel copies every byte and allocates every page). The first
// write that is not aligned (the tail) turns O_DIRECT off for the rest of
// the file; a file system that refuses O_DIRECT gets buffered writes.
type outFile struct {
	fd     int
	path   string
	direct bool
}

func createFile(path string, perm fs.FileMode, size uint64) (*outFile, error) {
	flags := syscall.O_WRONLY | syscall.O_CREAT | syscall.O_EXCL | syscall.O_CLOEXEC
	direct := size >= directMin
	if direct {
		flags |= syscall.O_DIRECT
	}
	for {
		fd, err := syscall.Open(path, flags, uint32(perm.Perm()))
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EINVAL && direct: // no O_DIRECT here (tmpfs on older kernels)
			flags &^= syscall.O_DIRECT
			direct = false
			continue
		case err != nil:
			return nil, &os.PathError{Op: "open", Path: path, Err: err}
		}
		return &outFile{fd: fd, path: path, direct: direct}, nil
	}
}

func (f *outFile) Write(p []byte) (int, error) {
	if f.direct && !align.OK(p) {
		if err := f.buffered(); err != nil {
			return 0, err
		}
	}
	n := 0
	for n < len(p) {
		m, err := syscall.Write(f.fd, p[n:])
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EINVAL && f.direct: // alignment the device wants is larger
			if err := f.buffered(); err != nil {
				return n, err
			}
			continue
		case err != nil:
			return n, &os.PathError{Op: "write", Path: f.path, Err: err}
		}
		n += m
	}
	return n, nil
}

// buffered turns O_DIRECT off for the rest of the file.
func (f *outFile) buffered() error {
	fl, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(f.fd), syscall.F_GETFL, 0)
	if errno == 0 {
		_, _, errno = syscall.Syscall(syscall.SYS_FCNTL, uintptr(f.fd), syscall.F_SETFL, fl&^syscall.O_DIRECT)
	}
	if errno != 0 {
		return &os.PathError{Op: "fcntl", Path: f.path, Err: errno}
	}
	f.direct = false
	return nil
}

func (f *outFile) Sync() error {
	if err := syscall.Fsync(f.fd); err != nil {
		return &os.PathError{Op: "fsync", Path: f.path, Err: err}
	}
	return nil
}

// SetModTime sets the modification time through the descriptor
// (utimensat with a NULL path, that is futimens), leaving the access time.
func (f *outFile) SetModTime(t time.Time) error {
	ts := [2]syscall.Timespec{
		{Nsec: 1<<30 - 2}, // UTIME_OMIT
		syscall.NsecToTimespec(t.UnixNano()),
	}
	_, _, errno := syscall.Syscall6(syscall.SYS_UTIMENSAT, uintptr(f.fd), 0, uintptr(unsafe.Pointer(&ts[0])), 0, 0, 0)
	if errno != 0 {
		return &os.PathError{Op: "utimensat", Path: f.path, Err: errno}
	}
	return nil
}

func (f *outFile) Close() error {
	err := syscall.Close(f.fd)
	f.fd = -1
	if err != nil && err != syscall.EINTR {
		return &os.PathError{Op: "close", Path: f.path, Err: err}
	}
	return nil
}
