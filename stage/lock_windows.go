//go:build windows

package stage

import (
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/windows"
)

// targetLock is an exclusive lock on one destination, held only around
// the short steps that must not interleave with another extraction into
// it (see commit.go): a hidden file beside the destination, locked with
// LockFileEx. (Run under Wine by make test-windows.)
type targetLock struct {
	f  *os.File
	ol windows.Overlapped
}

// lockTries bounds lockTarget's retries of a lock file being deleted.
const lockTries = 1000

// lockTarget opens (creating) the lock file path and waits for its lock.
// The file is opened without FILE_SHARE_DELETE, so the holder's removal
// of it at unlock fails harmlessly while another process has it open: two
// processes never both hold the lock of one path.
func lockTarget(path string) (*targetLock, error) {
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	var h windows.Handle
	// A file being deleted cannot be opened for a moment: access denied
	// once it is marked for deletion, a sharing violation while the
	// remover's handle (which has DELETE access, which this open does not
	// share) is open. Retry, yielding after the first few tries; bounded
	// to about a second.
	for try := range lockTries {
		h, err = windows.CreateFile(p, windows.GENERIC_READ|windows.GENERIC_WRITE,
			windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE, nil, windows.OPEN_ALWAYS,
			windows.FILE_ATTRIBUTE_HIDDEN, 0)
		if err != windows.ERROR_ACCESS_DENIED && err != windows.ERROR_SHARING_VIOLATION {
			break
		}
		if try >= 10 {
			time.Sleep(time.Millisecond)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	l := &targetLock{f: os.NewFile(uintptr(h), path)}
	if err := windows.LockFileEx(h, windows.LOCKFILE_EXCLUSIVE_LOCK, 0, 1, 0, &l.ol); err != nil {
		l.f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return l, nil
}

// dirLocks is false: lockDir is the lock file beside the folder.
const dirLocks = false

// lockDir locks the destination folder path. Windows cannot lock a
// folder: the lock file beside it (lockTarget) stands in, so filling a
// folder in place needs write permission in its parent here.
func lockDir(path string) (*targetLock, error) { return lockTarget(lockName(path)) }

// unlock releases the lock and removes the file unless another process
// has it open (it then removes it when its turn ends).
func (l *targetLock) unlock() {
	_ = windows.UnlockFileEx(windows.Handle(l.f.Fd()), 0, 1, 0, &l.ol)
	name := l.f.Name()
	_ = l.f.Close()
	_ = os.Remove(name)
}

// holdDir would mark a temp folder as in use; Windows cannot lock a
// folder, so stale temp folders are never swept there (see unused).
func holdDir(string) (*os.File, error) { return nil, nil }

// unused reports false: on Windows a crashed extraction's temp folder is
// left in place (hidden, named .DIR.partial-N) rather than guessed at.
func unused(string) (*os.File, bool) { return nil, false }

// tellsLive is false: unused cannot tell a live temp folder from a stale
// one, since no folder can be locked here.
const tellsLive = false
