package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestMCCOrigins: mcc without --origins refuses to start with one line
// and exit 2; --any-origin (and a listed origin) start it.
func TestMCCOrigins(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	for _, args := range [][]string{
		{"mcc", "--dir", dir},
		{"mcc", "--dir", dir, "--origins", " , "},
		{"mcc", "--dir", dir, "--origins", "svc:8080", "--any-origin"},
	} {
		code, _, stderr := runCLI(t, args...)
		if code != 2 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "origin") {
			t.Errorf("%v: exit %d, stderr %q; want 2 and one line", args, code, stderr)
		}
	}
	for _, args := range [][]string{
		{"mcc", "--dir", dir, "--addr", "127.0.0.1:0", "--any-origin"},
		{"mcc", "--dir", dir, "--addr", "127.0.0.1:0", "--origins", "svc:8080"},
	} {
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // starts, listens, and stops at once
		var out, errb bytes.Buffer
		if code := run(ctx, &env{stdout: &out, stderr: &errb}, args); code != 0 || !strings.Contains(errb.String(), "serving") {
			t.Errorf("%v: exit %d, stderr %q; want it to start", args, code, errb.String())
		}
	}
}
