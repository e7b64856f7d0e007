package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
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

// TestSignalExitStatus: a run that Ctrl-C or SIGTERM stopped exits with
// the status a shell reports for that signal (130, 143; Windows
// STATUS_CONTROL_C_EXIT), a run cancelled otherwise with 1; the line on
// stderr is the same.
func TestSignalExitStatus(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	for _, c := range []struct {
		cause error
		want  int
	}{
		{&stopSignal{sig: os.Interrupt}, 130},
		{&stopSignal{sig: syscall.SIGTERM}, 143},
		{errors.New("the caller went away"), 1},
	} {
		if runtime.GOOS == "windows" && c.want != 1 {
			c.want = 0xC000013A
		}
		ctx, cancel := context.WithCancelCause(context.Background())
		cancel(c.cause)
		var out, errb bytes.Buffer
		code := run(ctx, &env{stdout: &out, stderr: &errb}, []string{"fetch", "-o", filepath.Join(t.TempDir(), "f.bin"), srv.URL + "/f.bin"})
		if want := "imepipe fetch: interrupted before the download started (nothing written)\n"; code != c.want || errb.String() != want {
			t.Errorf("%v: exit %d, stderr %q; want exit %d, %q", c.cause, code, errb.String(), c.want, want)
		}
	}
}
