package stage

import (
	"os"
	"path/filepath"
	"strings"
)

// The subfolders a temp folder may hold: beside the destination the tree
// being written and the tree it replaces (commit.go); inside it, also the
// verified tree and the replaced entries of an in-place commit (inplace.go).
var (
	besideSteps = []string{"new", "old"}
	insideSteps = []string{"new", "ready", "old", "gone"}
)

// sweep removes the stale temp folders of crashed extractions in folder
// parent (beside the destination): names prefix+digits (as os.MkdirTemp
// makes them), real folders holding at most the steps' subfolders, not
// held by a live run. Called with the target's lock held.
func sweep(parent, prefix string, steps []string) {
	ents, err := os.ReadDir(parent)
	if err != nil {
		return
	}
	for _, de := range ents {
		if !isTemp(parent, prefix, de.Name(), steps) {
			continue
		}
		p := filepath.Join(parent, de.Name())
		f, ok := unused(p)
		if !ok {
			continue
		}
		_ = os.RemoveAll(p)
		f.Close()
	}
}

// isTemp reports whether name in folder parent looks like a temp folder
// of ours: prefix+digits, a real folder, holding nothing but steps.
func isTemp(parent, prefix, name string, steps []string) bool {
	suffix, ok := strings.CutPrefix(name, prefix)
	if !ok || !allDigits(suffix) {
		return false
	}
	p := filepath.Join(parent, name)
	fi, err := os.Lstat(p)
	return err == nil && fi.IsDir() && onlyOurs(p, steps)
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

// onlyOurs reports whether the folder p holds nothing but folders named
// in steps: what begin and commit put there.
func onlyOurs(p string, steps []string) bool {
	ents, err := os.ReadDir(p)
	if err != nil {
		return false
	}
	for _, e := range ents {
		if !e.IsDir() || !contains(steps, e.Name()) {
			return false
		}
	}
	return true
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
