package stage

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// The commit core, shared by Extract and ExtractStream.
//
// DIR is first made absolute (filepath.Abs), so that "." or "sub/.." name
// the folder itself and its parent is a real parent; messages quote DIR as
// the caller gave it. An extraction writes into a temp folder of its own,
// made by os.MkdirTemp and named .DIR.partial-N (hidden, recognisably
// ours); the tree goes into its subfolder new. Where that folder lives
// depends on what DIR is when the extraction begins:
//
//   - Beside DIR, when DIR does not exist, is not a folder, or is a
//     non-empty folder to be replaced (Options.Replace). The commit renames
//     the tree to DIR; an existing DIR is swapped with it in one step where
//     the system can (Linux renameat2 RENAME_EXCHANGE), else first moved
//     into .DIR.partial-N/old; the temp folder is then removed with the old
//     tree. A replaced folder's mode bits (setgid and sticky included) and,
//     when run as root, its owner and group are given to the new one first
//     (keepDirAttrs). This needs write permission in DIR's parent. But
//     when live extractions are filling DIR in place (it was empty when
//     they began), the tree is moved into DIR like theirs instead
//     (fillLive): a swap would take their temp folders away mid-write.
//   - Inside DIR, when DIR is an existing empty folder (not on Windows,
//     where a folder cannot be locked: there an empty DIR is swapped like
//     a missing one), or the process's current folder (which is never
//     renamed away: a shell in it would be left in a removed folder). The commit moves the tree's top-level
//     entries into DIR, so DIR keeps its inode and with it everything the
//     user set on it: mode, owner, group, ACL. It needs no write permission
//     in the parent. See inplace.go for the steps and what a crash leaves.
//
// So a user's own DIR.old or DIR.partial is never touched, and two
// extractions into one DIR never share a folder.
//
// The steps that look at DIR and the temp folders of others — the start
// (sweeping stale temp folders, making our own) and the commit (checking
// DIR, renaming) — run under an exclusive lock on DIR. Beside DIR that is
// a lock on .DIR.lock beside it, removed again when released; inside DIR,
// on Unix, an flock on the folder DIR itself, which leaves no file behind
// (Windows cannot lock a folder and takes the lock file beside DIR there
// too). A commit beside an existing folder takes both, the file first. The
// locks are held for milliseconds, not for the extraction, so concurrent
// extractions into one DIR run in parallel and commit one after the other:
// with Replace each replaces the one before (every commit puts a complete
// tree in place); without, the first commits and the others fail with
// ErrExists. Every tree ever visible at DIR without a temp folder of ours
// inside it is one extraction's complete, verified tree.
//
// Stale temp folders: a crashed run leaves its .DIR.partial-N. On Unix each
// live run holds an flock on its folder, and the next extraction into DIR
// removes folders that match the pattern exactly, hold nothing but the
// subfolders the steps make, and are not locked (inside DIR, a crashed
// commit is completed instead: see inplace.go). On Windows, where a folder
// cannot be locked, they are left in place.

// target is one extraction's destination and its private temp folder.
type target struct {
	name    string   // the destination as the caller gave it, clean: for messages
	dir     string   // the destination, absolute and clean
	tmp     string   // .DIR.partial-N, beside dir or inside it (inPlace); ours alone
	root    string   // tmp/new, the tree being written
	hold    *os.File // keeps tmp marked as live (nil where unsupported)
	inPlace bool     // tmp is inside dir: the commit moves the tree's entries into dir
	keep    bool     // abort must leave tmp: it holds what a later run completes
}

// errNotDir: lockDir found something other than a folder at the path.
var errNotDir = errors.New("not a folder")

// newTarget resolves dir; nothing is created.
func newTarget(dir string) (*target, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("stage: output folder %s: %w", dir, err)
	}
	return &target{name: filepath.Clean(dir), dir: abs}, nil
}

// partialPrefix and lockName name the temp folders and the lock file of
// the destination dir, an absolute path.
func partialPrefix(dir string) string { return "." + filepath.Base(dir) + ".partial-" }
func lockName(dir string) string {
	return filepath.Join(filepath.Dir(dir), "."+filepath.Base(dir)+".lock")
}

// Occupied reports whether dir exists as anything but an empty folder:
// what an extraction without Options.Replace refuses (ErrExists). An empty
// folder counts as free and is filled in place; so does one that holds
// nothing but the temp folders of extractions into it that are writing
// or crashed while writing (.DIR.partial-N, see inplace.go). One whose
// commit is under way or was cut short counts as occupied.
func Occupied(dir string) (bool, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return false, fmt.Errorf("stage: %w", err)
	}
	busy, err := occupied(abs)
	if err != nil {
		return false, fmt.Errorf("stage: %w", err)
	}
	return busy, nil
}

// occupied is Occupied for an absolute dir; errors are the file system's.
func occupied(dir string) (bool, error) {
	fi, err := os.Lstat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return false, nil
	case err != nil:
		return false, err
	case !fi.IsDir():
		return true, nil
	}
	f, err := os.Open(dir)
	if err != nil {
		return false, err
	}
	defer f.Close()
	prefix := partialPrefix(dir)
	for {
		names, err := f.Readdirnames(16)
		for _, n := range names {
			if !writingTemp(dir, prefix, n) {
				return true, nil
			}
		}
		if errors.Is(err, io.EOF) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
	}
}

// vacant fails with ErrExists when t.dir is occupied and replace is false.
func (t *target) vacant(replace bool) error {
	if replace {
		return nil
	}
	busy, err := occupied(t.dir)
	if err != nil {
		return fmt.Errorf("stage: output folder %s: %w", t.name, err)
	}
	if busy {
		return fmt.Errorf("stage: %s: %w", t.name, ErrExists)
	}
	return nil
}

// vacant is the check Extract makes before it reads anything.
func vacant(dir string, replace bool) error {
	t, err := newTarget(dir)
	if err != nil {
		return err
	}
	return t.vacant(replace)
}

// into is the one commit core behind both extractors: it begins a fresh
// temp folder for dir (begin), has fill write the tree under its root,
// runs opt.Verify (when set) once fill succeeded, and commits; any error
// removes the temp folder and leaves dir as it was.
func into(dir string, opt Options, fill func(root string) (Result, error)) (Result, error) {
	t, err := begin(dir, opt)
	if err != nil {
		return Result{}, err
	}
	res, err := fill(t.root)
	if err == nil && opt.Verify != nil {
		if verr := opt.Verify(); verr != nil {
			err = fmt.Errorf("stage: verify: %w", verr)
		}
	}
	if err != nil {
		t.abort()
		return Result{}, err
	}
	if err := t.commit(opt); err != nil {
		return Result{}, err
	}
	return res, nil
}

// begin checks dir (unless opt.Replace, it must be free) and makes the
// temp folder an extraction of it writes into: inside dir when dir is a
// folder to fill in place, else beside it (see the comment at the top).
func begin(dir string, opt Options) (*target, error) {
	t, err := newTarget(dir)
	if err != nil {
		return nil, err
	}
	// In place only where a folder can be locked, but for the current
	// folder, which cannot be moved away anywhere: without the folder
	// lock (Windows) concurrent extractions into DIR could not tell a
	// live temp folder inside it from a dead one, and one would be left
	// in the output.
	if fi, err := os.Lstat(t.dir); err == nil && fi.IsDir() && (dirLocks || isCwd(t.dir)) {
		ok, err := t.beginInPlace(opt)
		if err != nil {
			return nil, err
		}
		if ok {
			return t, nil
		}
	}
	if err := t.beginBeside(opt); err != nil {
		return nil, err
	}
	return t, nil
}

// beginBeside makes the temp folder beside t.dir.
func (t *target) beginBeside(opt Options) error {
	if err := t.vacant(opt.Replace); err != nil {
		return err
	}
	parent := filepath.Dir(t.dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return t.besideErr(err)
	}
	lk, err := lockTarget(lockName(t.dir))
	if err != nil {
		return t.besideErr(err)
	}
	defer lk.unlock()
	sweep(parent, partialPrefix(t.dir), besideSteps)
	if t.tmp, err = os.MkdirTemp(parent, partialPrefix(t.dir)); err != nil {
		return t.besideErr(err)
	}
	return t.makeRoot()
}

// makeRoot marks the new temp folder t.tmp as live and makes its new.
func (t *target) makeRoot() error {
	var err error
	if t.hold, err = holdDir(t.tmp); err != nil {
		_ = os.RemoveAll(t.tmp)
		return err
	}
	t.root = filepath.Join(t.tmp, "new")
	if err := os.Mkdir(t.root, defaultDirMode); err != nil {
		t.abort()
		return fmt.Errorf("stage: %w", err)
	}
	return nil
}

// abort removes everything the extraction wrote (but a temp folder that
// a failed in-place commit could not undo: see keep).
func (t *target) abort() {
	if !t.keep {
		_ = os.RemoveAll(t.tmp)
	}
	if t.hold != nil {
		t.hold.Close()
	}
}

// commit puts the tree in place at t.dir (see the comment at the top) and
// removes the temp folder, with whatever it replaced. On an error the
// destination is as it was and the temp folder is removed.
func (t *target) commit(opt Options) error {
	var err error
	if t.inPlace {
		err = t.commitInPlace(opt)
	} else {
		err = t.swap(opt)
		if err == nil && opt.Sync {
			err = syncDir(filepath.Dir(t.dir))
		}
	}
	t.abort() // removes what was replaced, or the tree that failed
	return err
}

// swap commits a tree written beside t.dir.
func (t *target) swap(opt Options) error {
	lk, err := lockTarget(lockName(t.dir))
	if err != nil {
		return t.besideErr(err)
	}
	defer lk.unlock()
	if dirLocks {
		// Serializes with in-place commits, which take only this lock.
		dl, err := lockDir(t.dir)
		switch {
		case err == nil:
			defer dl.unlock()
		case !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, errNotDir):
			return t.dirLockErr(err)
		}
	}
	if err := t.vacant(opt.Replace); err != nil {
		return err
	}
	fi, err := os.Lstat(t.dir)
	if err != nil {
		if err := os.Rename(t.root, t.dir); err != nil {
			return fmt.Errorf("stage: commit %s: %w", t.name, err)
		}
		return nil
	}
	if fi.IsDir() && dirLocks {
		if filled, err := t.fillLive(opt); filled {
			return err
		}
	}
	if fi.IsDir() {
		if err := keepDirAttrs(fi, t.root); err != nil {
			return fmt.Errorf("stage: commit %s: keep the replaced folder's mode and owner: %w", t.name, err)
		}
		if exchange(t.root, t.dir) == nil {
			adoptLive(t.root, t.dir)
			return nil // the old tree is now at t.root, removed with t.tmp
		}
	}
	old := filepath.Join(t.tmp, "old")
	if err := os.Rename(t.dir, old); err != nil {
		_ = os.Chmod(t.root, defaultDirMode) // a read-only mode kept would stop abort
		return t.replaceErr(err)
	}
	if err := os.Rename(t.root, t.dir); err != nil {
		_ = os.Rename(old, t.dir)
		_ = os.Chmod(t.root, defaultDirMode)
		return fmt.Errorf("stage: commit %s: %w", t.name, err)
	}
	if fi.IsDir() {
		adoptLive(old, t.dir)
	}
	return nil
}
