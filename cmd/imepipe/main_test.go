package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runCLI runs imepipe in-process and returns exit code, stdout and stderr.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), &env{stdout: &out, stderr: &errb}, args)
	return code, out.String(), errb.String()
}

func TestUsageExitCodes(t *testing.T) {
	cases := []struct {
		args []string
		code int
	}{
		{nil, 2},
		{[]string{"nosuch"}, 2},
		{[]string{"unpack"}, 2},
		{[]string{"unpack", "--bogus", "x"}, 2},
		{[]string{"pack", "-c", "x"}, 2},
		{[]string{"unpack", "--key", "AAAA", "x.bin"}, 2},
		{[]string{"help"}, 0},
	}
	for _, c := range cases {
		code, _, stderr := runCLI(t, c.args...)
		if code != c.code {
			t.Errorf("%v: exit %d, want %d (stderr %q)", c.args, code, c.code, stderr)
		}
		if code != 0 && strings.TrimSpace(stderr) == "" {
			t.Errorf("%v: no message on stderr", c.args)
		}
	}
}

// TestQueryDoesNotCreateRoot: status on a root that does not exist fails
// with one line and creates nothing.
func TestQueryDoesNotCreateRoot(t *testing.T) {
	root := filepath.Join(t.TempDir(), "no-agent-here")
	code, _, stderr := runCLI(t, "status", "--root", root)
	if code != 1 || strings.Count(stderr, "\n") != 1 {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if _, err := os.Stat(root); !os.IsNotExist(err) {
		t.Fatalf("status created %s", root)
	}
}
