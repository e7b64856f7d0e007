package stage

import (
	"fmt"
	"path"
	"strings"
	"unicode"
)

// admission is the one name-admission core behind both extractors: it
// takes entries' checked names (cleanName) in archive order and refuses
// any that would collide on some file system:
//
//   - duplicates: names equal once "\" is read as "/" and a trailing
//     separator dropped;
//   - a file that is also a directory, explicit or implied by a name
//     below it (either order);
//   - names, or parent folders, that differ from an earlier one only in
//     letter case ("A.txt" and "a.txt", "Dir/x" and "dir/y"): one file or
//     folder on Windows and macOS, two on Linux. The fold is the simple
//     uppercase mapping per character, as NTFS's upcase table.
type admission struct {
	kind     map[string]bool   // explicit entries: clean name → is a directory
	implied  map[string]bool   // directories implied by names below them
	spelling map[string]string // case-folded name → its first spelling
}

func newAdmission(n int) *admission {
	return &admission{kind: make(map[string]bool, n), implied: map[string]bool{}, spelling: make(map[string]string, n)}
}

// admit records the entry raw (clean: its cleaned name) or refuses it
// with ErrUnsafePath.
func (a *admission) admit(raw, clean string, isDir bool) error {
	unsafe := func(format string, args ...any) error {
		return fmt.Errorf("stage: entry %s: %s: %w", quoteName(raw), fmt.Sprintf(format, args...), ErrUnsafePath)
	}
	if _, dup := a.kind[clean]; dup {
		return unsafe("duplicate name")
	}
	if !isDir && a.implied[clean] {
		return unsafe("file is also a directory")
	}
	if other, clash := a.spell(clean); clash {
		return unsafe("differs from %s only in letter case", quoteName(other))
	}
	for parent := path.Dir(clean); parent != "."; parent = path.Dir(parent) {
		if d, ok := a.kind[parent]; ok && !d {
			return unsafe("file %s is also a directory", quoteName(parent))
		}
		if a.implied[parent] {
			break // its own parents were admitted with it
		}
		if other, clash := a.spell(parent); clash {
			return unsafe("folder %s differs from %s only in letter case", quoteName(parent), quoteName(other))
		}
		a.implied[parent] = true
	}
	a.kind[clean] = isDir
	return nil
}

// spell records name's spelling, reporting an earlier different one.
func (a *admission) spell(name string) (string, bool) {
	k := strings.Map(unicode.ToUpper, name)
	if s, ok := a.spelling[k]; ok {
		return s, s != name
	}
	a.spelling[k] = name
	return "", false
}
