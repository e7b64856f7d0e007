//go:build !windows

package reap

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
)

// TestRunRefusesCommandLineHere: on this (non-Windows) system a
// CommandLine is refused before any reaper starts.
func TestRunRefusesCommandLineHere(t *testing.T) {
	started := false
	_, err := Run(context.Background(), Spec{
		CommandLine: `setup.exe /S`,
		ResultPath:  filepath.Join(t.TempDir(), "r.json"),
		Started:     func(int) { started = true },
	})
	if !errors.Is(err, ErrBadSpec) || !errors.Is(err, errors.ErrUnsupported) || started {
		t.Fatalf("err %v started %v; want ErrBadSpec and ErrUnsupported, no reaper", err, started)
	}
}

// TestReaperRefusesCommandLineHere: a reaper started by hand with a
// command line on a system other than Windows refuses it rather than
// running something else.
func TestReaperRefusesCommandLineHere(t *testing.T) {
	for _, c := range []command{
		{line: `setup.exe /S`},
		{line: `setup.exe`, argv: []string{"/bin/true"}},
		{},
		{argv: []string{""}},
	} {
		if _, err := run(c); !errors.Is(err, ErrBadSpec) {
			t.Fatalf("%+v: err %v, want ErrBadSpec", c, err)
		}
	}
}
