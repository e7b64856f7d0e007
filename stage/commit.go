package stage

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// The commit core, shared by Extract and ExtractStream.
//
// An extraction into DIR writes into a folder of its own, made by
// os.MkdirTemp beside DIR: .DIR.partial-N (hidden, recognisably ours), the
// tree in .DIR.partial-N/new. The commit renames it to DIR; an existing
// DIR (Options.Replace, or an empty folder) is swapped with the new tree
// in one step where the system can (Linux renameat2 RENAME_EXCHANGE), else
// first moved into .DIR.partial-N/old; the temp folder is then removed
// with the old tree. So a user's own
// DIR.old or DIR.partial is never touched, and two extractions into one
// DIR never share a folder.
//
// The steps that look at DIR and the temp folders of others — the start
// (sweeping stale temp folders, making our own) and the commit (checking
// DIR, renaming) — run under an exclusive lock on .DIR.lock beside DIR,
// removed again when released. The lock is held for milliseconds, not for
// the extraction, so concurrent extractions into one DIR run in parallel
// and commit one after the other: with Replace each replaces the one
// before (every commit puts a complete tree in place); without, the first
// commits and the others fail with ErrExists. Every tree ever visible at
// DIR is one extraction's complete, verified tree.
//
// Stale temp folders: a crashed run leaves its .DIR.partial-N. On Unix each
// live run holds an flock on its folder, and the next extraction into DIR
// removes folders that match the pattern exactly, hold nothing but new and
// old, and are not locked. On Windows, where a folder cannot be locked,
// they are left in place.

// target is one extraction's destination and its private temp folder.
type target struct {
	dir  string   // the destination, clean
	tmp  string   // .DIR.partial-N beside it, ours alone
	root string   // tmp/new, the tree being written
	hold *os.File // keeps tmp marked as live (nil where unsupported)
}

// partialPrefix and lockName name the files beside dir.
func partialPrefix(dir string) string { return "." + filepath.Base(dir) + ".partial-" }
func lockName(dir string) string {
	return filepath.Join(filepath.Dir(dir), "."+filepath.Base(dir)+".lock")
}

// Occupied reports whether dir exists as anything but an empty folder:
// what an extraction without Options.Replace refuses (ErrExists). An empty
// folder counts as free and is replaced.
func Occupied(dir string) (bool, error) {
	fi, err := os.Lstat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("stage: %w", err)
	case !fi.IsDir():
		return true, nil
	}
	f, err := os.Open(dir)
	if err != nil {
		return false, fmt.Errorf("stage: %w", err)
	}
	defer f.Close()
	names, err := f.Readdirnames(1)
	if len(names) > 0 {
		return true, nil
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return false, fmt.Errorf("stage: %w", err)
	}
	return false, nil
}

// vacant fails with ErrExists when dir is occupied and replace is false.
func vacant(dir string, replace bool) error {
	if replace {
		return nil
	}
	busy, err := Occupied(dir)
	if err != nil {
		return err
	}
	if busy {
		return fmt.Errorf("stage: %s: %w", dir, ErrExists)
	}
	return nil
}

// into is the one commit core behind both extractors: it begins a fresh
// temp folder beside dir (begin), has fill write the tree under its root,
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
// temp folder an extraction of it writes into.
func begin(dir string, opt Options) (*target, error) {
	t := &target{dir: filepath.Clean(dir)}
	if err := vacant(t.dir, opt.Replace); err != nil {
		return nil, err
	}
	parent := filepath.Dir(t.dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, fmt.Errorf("stage: %w", err)
	}
	lk, err := lockTarget(lockName(t.dir))
	if err != nil {
		return nil, err
	}
	defer lk.unlock()
	sweep(parent, partialPrefix(t.dir))
	if t.tmp, err = os.MkdirTemp(parent, partialPrefix(t.dir)); err != nil {
		return nil, fmt.Errorf("stage: %w", err)
	}
	if t.hold, err = holdDir(t.tmp); err != nil {
		_ = os.RemoveAll(t.tmp)
		return nil, err
	}
	t.root = filepath.Join(t.tmp, "new")
	if err := os.Mkdir(t.root, defaultDirMode); err != nil {
		t.abort()
		return nil, fmt.Errorf("stage: %w", err)
	}
	return t, nil
}

// sweep removes the stale temp folders of crashed extractions beside the
// destination: names prefix+digits (as os.MkdirTemp makes them), real
// folders holding at most new and old, not held by a live run. Called with
// the target's lock held.
func sweep(parent, prefix string) {
	ents, err := os.ReadDir(parent)
	if err != nil {
		return
	}
	for _, de := range ents {
		suffix, ok := strings.CutPrefix(de.Name(), prefix)
		if !ok || !de.IsDir() || !allDigits(suffix) {
			continue
		}
		p := filepath.Join(parent, de.Name())
		if !onlyOurs(p) {
			continue
		}
		f, ok := unused(p)
		if !ok {
			continue
		}
		_ = os.RemoveAll(p)
		f.Close()
	}
}

func allDigits(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// onlyOurs reports whether the folder p holds nothing but what begin and
// commit put there.
func onlyOurs(p string) bool {
	ents, err := os.ReadDir(p)
	if err != nil {
		return false
	}
	for _, e := range ents {
		if (e.Name() != "new" && e.Name() != "old") || !e.IsDir() {
			return false
		}
	}
	return true
}

// abort removes everything the extraction wrote.
func (t *target) abort() {
	_ = os.RemoveAll(t.tmp)
	if t.hold != nil {
		t.hold.Close()
	}
}

// commit puts the tree in place at t.dir (see the comment at the top) and
// removes the temp folder, with whatever it replaced. On an error the
// destination is as it was and the temp folder is removed.
func (t *target) commit(opt Options) error {
	err := t.swap(opt)
	if err == nil && opt.Sync {
		err = syncDir(filepath.Dir(t.dir))
	}
	t.abort() // removes what was replaced, or the tree that failed
	return err
}

func (t *target) swap(opt Options) error {
	lk, err := lockTarget(lockName(t.dir))
	if err != nil {
		return err
	}
	defer lk.unlock()
	if err := vacant(t.dir, opt.Replace); err != nil {
		return err
	}
	if fi, err := os.Lstat(t.dir); err == nil {
		if fi.IsDir() && exchange(t.root, t.dir) == nil {
			return nil // the old tree is now at t.root, removed with t.tmp
		}
		old := filepath.Join(t.tmp, "old")
		if err := os.Rename(t.dir, old); err != nil {
			return fmt.Errorf("stage: move old %s aside: %w", t.dir, err)
		}
		if err := os.Rename(t.root, t.dir); err != nil {
			_ = os.Rename(old, t.dir)
			return fmt.Errorf("stage: commit %s: %w", t.dir, err)
		}
		return nil
	}
	if err := os.Rename(t.root, t.dir); err != nil {
		return fmt.Errorf("stage: commit %s: %w", t.dir, err)
	}
	return nil
}
