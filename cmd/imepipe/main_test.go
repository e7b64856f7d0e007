package main

import (
	"bytes"
	"context"
	"encoding/json"
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

// TestExtractSays: extract ends with one summary line, or with --json one
// JSON document and nothing else on stdout; a second run into the same
// folder fails with one line on stderr.
func TestExtractSays(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	zip := filepath.Join("..", "..", "stage", "testdata", "7zip.zip")
	code, stdout, stderr := runCLI(t, "extract", "-o", dir, zip)
	if code != 0 || !strings.HasPrefix(stdout, "extracted "+zip+": ") || strings.Count(stdout, "\n") != 1 || stderr != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	code, stdout, stderr = runCLI(t, "extract", "-o", dir, zip)
	if code != 1 || stdout != "" || strings.Count(strings.TrimSpace(stderr), "\n") != 0 || !strings.Contains(stderr, "exists") {
		t.Fatalf("again: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	code, stdout, _ = runCLI(t, "extract", "--json", "-o", dir+"2", zip)
	var doc map[string]any
	if code != 0 || json.Unmarshal([]byte(stdout), &doc) != nil || doc["files"] == nil || doc["file"] != zip {
		t.Fatalf("--json: exit %d, stdout %q", code, stdout)
	}
}
