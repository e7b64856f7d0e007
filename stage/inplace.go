package stage

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Filling a folder in place (see the comment at the top of commit.go for
// when). The temp folder S = DIR/.DIR.partial-N is inside DIR, the tree is
// written into S/new, and the commit, under the lock on DIR, moves it into
// DIR by renames within DIR's file system, the names of S's subfolders
// recording how far it got:
//
//  1. S/new → S/ready, the commit point: the tree is complete and verified.
//  2. What DIR holds besides temp folders of ours — nothing, unless DIR is
//     the current folder being replaced — is moved into S/old, then
//     S/old → S/gone.
//  3. S/ready's entries are moved into DIR. S is removed, with gone.
//
// Unlike a swap, this is not one atomic step: a reader of DIR may see it
// half-filled for as long as the moves take (one rename per top-level
// entry). An error in 2 or 3 undoes the moves in reverse order, S/ready
// back to S/new last, and fails the commit with DIR as it was.
//
// What a crash leaves (a process crash; with Options.Sync also a power
// loss, as S and DIR are fsynced between the steps):
//
//   - Before 1: DIR as it was, plus S holding new alone. Occupied counts
//     such an S as nothing, and the next extraction into DIR removes it
//     (on Unix, once no live run holds it: see holdDir).
//   - From 1 on: DIR holds S, with ready and old or gone, beside part of
//     its old or new entries. So a half-filled DIR is never without the
//     hidden S, and Occupied counts it occupied: an extraction without
//     Replace refuses it (ErrExists), and imepipe calls it not empty. The
//     next extraction into DIR that takes its lock here completes that
//     commit before anything else (recoverInside): step 2 again unless
//     S/gone exists, then step 3. That is sound: S/ready was verified, and
//     the order of the steps tells which entries are old — until S/gone
//     exists, DIR has received none of S/ready's.
//
// On Windows, where S cannot be locked, a live S cannot be told from a
// crashed one, so S is never removed or completed there but by a later
// Replace, which swaps the whole of DIR out; until then a crashed S stays
// inside DIR.

// afterStep, when set (by tests), is called after each rename of an
// in-place commit: a test exits the process there to crash it.
var afterStep func()

// beginInPlace makes the temp folder inside t.dir, an existing folder,
// when it is one to fill in place: empty (but for temp folders of ours) or
// the current folder. It reports false, having made nothing, when t.dir
// is to be replaced by a swap, or is no folder any more.
func (t *target) beginInPlace(opt Options) (bool, error) {
	lk, err := t.lockInPlace()
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, errNotDir) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer lk.unlock()
	recoverInside(t.dir, "", opt.Sync)
	busy, err := occupied(t.dir)
	if err != nil {
		return false, fmt.Errorf("stage: output folder %s: %w", t.name, err)
	}
	if busy {
		if !opt.Replace {
			return false, fmt.Errorf("stage: %s: %w", t.name, ErrExists)
		}
		if !isCwd(t.dir) {
			return false, nil
		}
	}
	if t.tmp, err = os.MkdirTemp(t.dir, partialPrefix(t.dir)); err != nil {
		return false, t.insideErr(err)
	}
	t.inPlace = true
	return true, t.makeRoot()
}

// lockInPlace takes the lock of a folder filled in place (lockDir).
func (t *target) lockInPlace() (*targetLock, error) {
	lk, err := lockDir(t.dir)
	switch {
	case err == nil:
		return lk, nil
	case errors.Is(err, fs.ErrNotExist) || errors.Is(err, errNotDir):
		return nil, err
	case !dirLocks:
		return nil, t.besideErr(err)
	}
	return nil, t.dirLockErr(err)
}

// commitInPlace moves the tree written inside t.dir into it (steps 1–3
// above). The caller removes t.tmp afterwards, with what was replaced.
func (t *target) commitInPlace(opt Options) error {
	lk, err := t.lockInPlace()
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, errNotDir) || err == nil && !t.stillInside() {
		if lk != nil {
			lk.unlock()
		}
		return fmt.Errorf("stage: commit into output folder %s: it was removed or replaced meanwhile, and the tree with it", t.name)
	}
	if err != nil {
		return err
	}
	defer lk.unlock()
	recoverInside(t.dir, t.tmp, opt.Sync)
	busy, err := occupied(t.dir)
	if err != nil {
		return fmt.Errorf("stage: output folder %s: %w", t.name, err)
	}
	if busy && !opt.Replace {
		return fmt.Errorf("stage: %s: %w", t.name, ErrExists)
	}
	if err := t.checkTopNames(); err != nil {
		return err
	}
	keep, err := t.moveIn(t.tmp, opt.Sync)
	t.keep = keep
	return err
}

// moveIn runs steps 1–3 of the commit through the temp folder s inside
// t.dir (t.tmp, or a folder made for a swap that turned into a fill: see
// fillLive), moving t.root in as s/ready. An error undoes the moves;
// keep reports that undoing failed too, so s must stay for the next
// extraction into t.dir to complete.
func (t *target) moveIn(s string, sync bool) (keep bool, err error) {
	m := &mover{}
	err = m.move(t.root, filepath.Join(s, "ready"))
	if err == nil && sync {
		err = syncSteps(s)
		if from := filepath.Dir(t.root); err == nil && from != s {
			err = syncSteps(from)
		}
	}
	if err == nil {
		err = finishInPlace(t.dir, s, m, sync)
	}
	if err == nil {
		return false, nil
	}
	if uerr := m.undo(); uerr != nil {
		return true, fmt.Errorf("stage: commit into output folder %s: %w; undoing the moves failed too (%v): the next extraction into it completes them", t.name, err, cause(uerr))
	}
	return false, fmt.Errorf("stage: commit into output folder %s: %w", t.name, err)
}

// fillLive commits a tree written beside t.dir by moving it into t.dir,
// like an in-place commit, when live in-place extractions are writing
// inside t.dir: a swap would take their temp folders away with the old
// tree, and a file they open by path in the moment before they are
// moved back would fail. It reports false, having changed nothing, when
// there are none or the fill cannot be set up (no room for a temp folder
// inside t.dir, a top-level name like one): then the swap goes ahead.
// Called with the locks on t.dir held.
func (t *target) fillLive(opt Options) (bool, error) {
	if !liveInside(t.dir) || t.checkTopNames() != nil {
		return false, nil
	}
	s, err := os.MkdirTemp(t.dir, partialPrefix(t.dir))
	if err != nil {
		return false, nil
	}
	hold, err := holdDir(s)
	if err != nil {
		_ = os.Remove(s)
		return false, nil
	}
	defer hold.Close()
	keep, err := t.moveIn(s, opt.Sync)
	if !keep {
		_ = os.RemoveAll(s) // with what was replaced, in s/gone
	}
	return true, err
}

// liveInside reports whether a live extraction is filling dir in place:
// a temp folder of ours inside it is held (see unused). Never where that
// cannot be told (Windows, where only the current folder, which is
// never swapped, is filled in place).
func liveInside(dir string) bool {
	if !tellsLive {
		return false
	}
	prefix := partialPrefix(dir)
	names, err := dirNames(dir)
	if err != nil {
		return false
	}
	for _, n := range names {
		if !isTemp(dir, prefix, n, insideSteps) {
			continue
		}
		f, stale := unused(filepath.Join(dir, n))
		if !stale {
			return true
		}
		f.Close()
	}
	return false
}

// stillInside reports whether t.tmp is still the folder it made inside
// t.dir: a swap by another extraction may have taken it away.
func (t *target) stillInside() bool {
	fi, err := os.Lstat(t.tmp)
	if err != nil || !fi.IsDir() {
		return false
	}
	if t.hold == nil {
		return true
	}
	held, err := t.hold.Stat()
	return err == nil && os.SameFile(held, fi)
}

// checkTopNames refuses a top-level entry named like a temp folder of
// t.dir: moved into t.dir, it would pass for one (or collide with one).
func (t *target) checkTopNames() error {
	names, err := dirNames(t.root)
	if err != nil {
		return fmt.Errorf("stage: commit %s: %w", t.name, err)
	}
	prefix := strings.ToLower(partialPrefix(t.dir))
	for _, n := range names {
		if strings.HasPrefix(strings.ToLower(n), prefix) {
			return entryErr(n, fmt.Errorf("%w: named like the temp folders of output folder %s, it cannot be moved into it", ErrUnsafePath, t.name))
		}
	}
	return nil
}

// finishInPlace runs steps 2 and 3 of the commit in the temp folder s
// inside dir, from wherever a crash cut them short, recording each move in
// m; a move that fails ends it with the system's error.
func finishInPlace(dir, s string, m *mover, sync bool) error {
	prefix := partialPrefix(dir)
	old, gone, ready := filepath.Join(s, "old"), filepath.Join(s, "gone"), filepath.Join(s, "ready")
	_, err := os.Lstat(gone)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.Mkdir(old, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
		names, err := dirNames(dir)
		if err != nil {
			return err
		}
		for _, n := range names {
			if isTemp(dir, prefix, n, insideSteps) {
				continue
			}
			err := m.move(filepath.Join(dir, n), filepath.Join(old, n))
			if errors.Is(err, fs.ErrNotExist) && vanished(filepath.Join(dir, n)) {
				// Removed since it was listed: another extraction's
				// temp folder, removed after its commit (outside the
				// lock), looks like none while it goes.
				continue
			}
			if err != nil {
				return fmt.Errorf("moving %s aside: %w", quoteName(n), cause(err))
			}
		}
		if sync {
			if err := syncSteps(dir, old); err != nil {
				return err
			}
		}
		if err := m.move(old, gone); err != nil {
			return err
		}
		if sync {
			if err := syncSteps(s); err != nil {
				return err
			}
		}
	} else if err != nil {
		return err
	}
	names, err := dirNames(ready)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	for _, n := range names {
		if err := m.move(filepath.Join(ready, n), filepath.Join(dir, n)); err != nil {
			return fmt.Errorf("moving %s in: %w", quoteName(n), cause(err))
		}
	}
	if sync {
		return syncSteps(dir, ready)
	}
	return nil
}

// syncSteps fsyncs the folders a step renamed in (syncDir), with an error
// for commitInPlace to wrap.
func syncSteps(dirs ...string) error {
	for _, d := range dirs {
		if err := syncDir(d); err != nil {
			return fmt.Errorf("sync: %w", cause(err))
		}
	}
	return nil
}

// mover renames and remembers, so that an error can undo its renames.
type mover struct{ done [][2]string }

func (m *mover) move(from, to string) error {
	if err := os.Rename(from, to); err != nil {
		return err
	}
	m.done = append(m.done, [2]string{from, to})
	if afterStep != nil {
		afterStep()
	}
	return nil
}

// undo renames back, last first; a state it stops in is one the forward
// steps pass through, which a later recoverInside completes.
func (m *mover) undo() error {
	for len(m.done) > 0 {
		mv := m.done[len(m.done)-1]
		if err := os.Rename(mv[1], mv[0]); err != nil {
			return err
		}
		m.done = m.done[:len(m.done)-1]
	}
	return nil
}

// recoverInside deals with the temp folders crashed extractions left in
// dir, except self (ours): one cut short in its commit is completed, the
// others are removed. Only folders no live run holds (see unused, never
// on Windows); called with the lock on dir held.
func recoverInside(dir, self string, sync bool) {
	prefix := partialPrefix(dir)
	names, err := dirNames(dir)
	if err != nil {
		return
	}
	for _, n := range names {
		p := filepath.Join(dir, n)
		if p == self || !isTemp(dir, prefix, n, insideSteps) {
			continue
		}
		f, ok := unused(p)
		if !ok {
			continue
		}
		if !committed(p) || finishInPlace(dir, p, &mover{}, sync) == nil {
			_ = os.RemoveAll(p)
		}
		f.Close()
	}
}

// committed reports whether the temp folder p is past the commit point.
func committed(p string) bool {
	for _, step := range []string{"ready", "gone"} {
		if _, err := os.Lstat(filepath.Join(p, step)); !errors.Is(err, fs.ErrNotExist) {
			return true
		}
	}
	return false
}

// writingTemp reports whether name in dir is the temp folder of an
// extraction into dir that is writing, or crashed while writing: one that
// leaves dir free (see Occupied).
func writingTemp(dir, prefix, name string) bool {
	return isTemp(dir, prefix, name, insideSteps) && !committed(filepath.Join(dir, name))
}

// adoptLive moves the temp folders of live in-place extractions out of a
// folder just swapped out, oldTree, into the one that replaced it at dir,
// so that they go on and commit in their turn instead of losing their
// tree with the old one: the swap's fallback when fillLive could not be
// set up (a path they open in between still fails). Only where a live
// folder can be told (Unix); called with the locks on dir held.
func adoptLive(oldTree, dir string) {
	if !tellsLive {
		return
	}
	prefix := partialPrefix(dir)
	names, err := dirNames(oldTree)
	if err != nil {
		return
	}
	for _, n := range names {
		if !isTemp(oldTree, prefix, n, insideSteps) {
			continue
		}
		p := filepath.Join(oldTree, n)
		if f, stale := unused(p); stale {
			f.Close() // goes with the old tree
			continue
		}
		_ = os.Rename(p, filepath.Join(dir, n))
	}
}

// vanished reports whether nothing is at p.
func vanished(p string) bool {
	_, err := os.Lstat(p)
	return errors.Is(err, fs.ErrNotExist)
}

// isCwd reports whether dir is the process's current folder.
func isCwd(dir string) bool {
	wd, err := os.Stat(".")
	if err != nil {
		return false
	}
	fi, err := os.Lstat(dir)
	return err == nil && os.SameFile(wd, fi)
}

// dirNames lists the names in folder p, sorted: the steps move entries
// in a known order.
func dirNames(p string) ([]string, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	slices.Sort(names)
	return names, err
}
