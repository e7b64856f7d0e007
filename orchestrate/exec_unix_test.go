//go:build !windows

package orchestrate

import (
	"slices"
	"testing"

	"github.com/imepipe/imepipe/orchestrate/reap"
)

// TestSetCommandUnix: off Windows the line runs under /bin/sh -c, whole,
// and no Windows command line is set (reap refuses one here).
func TestSetCommandUnix(t *testing.T) {
	const line = `msiexec /i "Contoso App.msi" /qn`
	var s reap.Spec
	if err := setCommand(&s, line); err != nil {
		t.Fatal(err)
	}
	if want := []string{"/bin/sh", "-c", line}; !slices.Equal(s.Argv, want) || s.CommandLine != "" {
		t.Fatalf("argv %q, command line %q; want %q and none", s.Argv, s.CommandLine, want)
	}
}
