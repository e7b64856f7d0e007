//go:build unix

package stage

import (
	"errors"
	"fmt"
	"os"

	sys "golang.org/x/sys/unix"
)

// targetLock is an exclusive lock on one destination, held only around
// the short steps that must not interleave with another extraction into
// it (see commit.go): a hidden file beside the destination, flock'ed, or
// the destination folder itself (lockDir).
type targetLock struct {
	f   *os.File
	dir bool // f is the destination folder: nothing to remove
}

// dirLocks: lockDir locks the folder itself, apart from the lock file.
const dirLocks = true

// lockTarget takes the lock file path, creating it, and waits for it.
// The holder removes the file before it lets go, so a waiter that wakes on
// a file no longer at path (or replaced) retries on the new one: two
// processes never both hold the lock of one path.
func lockTarget(path string) (*targetLock, error) {
	for range 1000 {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return nil, fmt.Errorf("lock: %w", err)
		}
		if err := flock(f, sys.LOCK_EX); err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		var held, now sys.Stat_t
		if sys.Fstat(int(f.Fd()), &held) == nil && sys.Stat(path, &now) == nil &&
			held.Dev == now.Dev && held.Ino == now.Ino {
			return &targetLock{f: f}, nil
		}
		f.Close() // the previous holder removed it: take the new one
	}
	return nil, fmt.Errorf("lock %s: the lock file keeps changing", path)
}

// lockDir takes an exclusive flock on the folder at path itself and waits
// for it: the lock of a destination filled in place, which leaves no file
// behind, and needs only read permission on the folder. Like lockTarget
// it retries when the folder at path was replaced while it waited (by a
// swap). It fails wrapping fs.ErrNotExist or errNotDir when there is no
// folder at path (anymore); a symlink to one counts as none.
func lockDir(path string) (*targetLock, error) {
	for range 1000 {
		f, err := os.OpenFile(path, os.O_RDONLY|sys.O_DIRECTORY, 0)
		if errors.Is(err, sys.ENOTDIR) {
			return nil, fmt.Errorf("lock %s: %w", path, errNotDir)
		}
		if err != nil {
			return nil, fmt.Errorf("lock: %w", err)
		}
		if err := flock(f, sys.LOCK_EX); err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		held, herr := f.Stat()
		now, err := os.Lstat(path)
		switch {
		case err != nil:
			f.Close()
			return nil, fmt.Errorf("lock: %w", err)
		case !now.IsDir():
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, errNotDir)
		case herr == nil && os.SameFile(held, now):
			return &targetLock{f: f, dir: true}, nil
		}
		f.Close() // swapped out while we waited: take the new one
	}
	return nil, fmt.Errorf("lock %s: the folder keeps changing", path)
}

// unlock removes the lock file (not a locked folder), then releases it.
func (l *targetLock) unlock() {
	if !l.dir {
		_ = os.Remove(l.f.Name())
	}
	_ = l.f.Close()
}

func flock(f *os.File, how int) error {
	for {
		err := sys.Flock(int(f.Fd()), how)
		if !errors.Is(err, sys.EINTR) {
			return err
		}
	}
}

// holdDir marks the temp folder dir as in use for as long as the
// returned file is open (an flock on the folder itself), so that
// another extraction's stale-folder sweep leaves it alone.
func holdDir(dir string) (*os.File, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("stage: %w", err)
	}
	if err := flock(f, sys.LOCK_EX|sys.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("stage: lock %s: %w", dir, err)
	}
	return f, nil
}

// unused reports whether no live extraction holds the temp folder dir
// (see holdDir); the caller holds the target's lock, so none can start
// holding it meanwhile. The returned file keeps it so until closed.
func unused(dir string) (*os.File, bool) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, false
	}
	if flock(f, sys.LOCK_EX|sys.LOCK_NB) != nil {
		f.Close()
		return nil, false
	}
	return f, true
}

// tellsLive: unused tells a live temp folder from a stale one, which
// holds no flock (see holdDir).
const tellsLive = true
