//go:build !windows

package reap

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The process-tree tests through /bin/sh; reap_windows_test.go has their
// Windows counterparts (a chained .cmd under the Job Object).

func TestRunWaitsForOrphans(t *testing.T) {
	dir := t.TempDir()
	res, err := Run(context.Background(), Spec{
		Argv:       []string{"/bin/sh", "-c", `(sleep 0.2; echo late > "$1/late") & exit 7`, "sh", dir},
		Dir:        dir,
		Env:        os.Environ(),
		ResultPath: filepath.Join(dir, "result.json"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.ExitCode != 7 || res.Reaped < 1 {
		t.Fatalf("result %+v", res)
	}
	if _, err := os.Stat(filepath.Join(dir, "late")); err != nil {
		t.Fatal("Run returned before the orphan finished")
	}
}

func TestRunKillsTreeOnCancel(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	res, err := Run(ctx, Spec{
		Argv:       []string{"/bin/sh", "-c", `setsid sleep 60 & sleep 60`},
		Dir:        dir,
		Env:        os.Environ(),
		ResultPath: filepath.Join(dir, "result.json"),
	})
	if err == nil || !res.Killed {
		t.Fatalf("want a killed tree, got %+v %v", res, err)
	}
	if time.Since(start) > 10*time.Second {
		t.Fatal("tree not killed promptly")
	}
}
