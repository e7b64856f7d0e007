package stage

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// The errors of the steps around the destination name the user's folder,
// not the temp folder or lock file a step was writing, and say what is
// needed; they keep wrapping the system's error (errors.Is(err,
// fs.ErrPermission) holds for a permission error).

// besideErr reports a failure to write beside t.dir: creating its parent,
// the lock file or the temp folder there.
func (t *target) besideErr(err error) error {
	if errors.Is(err, fs.ErrPermission) {
		return fmt.Errorf("stage: cannot write beside output folder %s, in %s, where the staging folder and the lock go: %w",
			t.name, t.parentName(), cause(err))
	}
	return fmt.Errorf("stage: output folder %s: %w", t.name, err)
}

// insideErr reports a failure to write in t.dir, filled in place.
func (t *target) insideErr(err error) error {
	if errors.Is(err, fs.ErrPermission) {
		return fmt.Errorf("stage: cannot write in output folder %s: %w", t.name, cause(err))
	}
	return fmt.Errorf("stage: output folder %s: %w", t.name, err)
}

// dirLockErr reports a failure to lock t.dir itself (lockDir), which
// needs read permission on it.
func (t *target) dirLockErr(err error) error {
	if errors.Is(err, fs.ErrPermission) {
		return fmt.Errorf("stage: cannot read output folder %s: %w", t.name, cause(err))
	}
	return fmt.Errorf("stage: output folder %s: %w", t.name, err)
}

// replaceErr reports a failure to move the replaced t.dir aside. Linux
// moves a folder to another folder only with write permission on it, and
// out of a sticky folder (like /tmp) only when the user owns it.
func (t *target) replaceErr(err error) error {
	if errors.Is(err, fs.ErrPermission) {
		return fmt.Errorf("stage: cannot replace output folder %s: it cannot be moved aside (that needs write permission on it and, in a sticky folder such as /tmp, owning it): %w",
			t.name, cause(err))
	}
	return fmt.Errorf("stage: move old %s aside: %w", t.name, err)
}

// parentName is t.dir's parent as the user would write it: from the name
// they gave, or absolute when that has none.
func (t *target) parentName() string {
	if p := filepath.Dir(t.name); p != "." {
		return p
	}
	return filepath.Dir(t.dir)
}

// cause is the system's error inside a path or link error, without the
// path of our temp or lock file.
func cause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}
