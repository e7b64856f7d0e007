package stage

import (
	"io/fs"
	"os"
	"syscall"
	"time"
	"unsafe"
)

// outFile is a file being extracted. On Linux it is a bare descriptor:
// os.OpenFile would try to register every regular file with the network
// poller (four fcntl and one failing epoll_ctl per file), a fifth of the
// system calls of a tree of small files.
type outFile struct {
	fd   int
	path string
}

func createFile(path string, perm fs.FileMode) (*outFile, error) {
	for {
		fd, err := syscall.Open(path, syscall.O_WRONLY|syscall.O_CREAT|syscall.O_EXCL|syscall.O_CLOEXEC, uint32(perm.Perm()))
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "open", Path: path, Err: err}
		}
		return &outFile{fd: fd, path: path}, nil
	}
}

func (f *outFile) Write(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		m, err := syscall.Write(f.fd, p[n:])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return n, &os.PathError{Op: "write", Path: f.path, Err: err}
		}
		n += m
	}
	return n, nil
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
