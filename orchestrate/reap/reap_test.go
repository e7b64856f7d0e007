package reap

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	Main()
	os.Exit(m.Run())
}

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

func TestRunRejectsBadSpec(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		spec Spec
	}{
		{"no argv", Spec{ResultPath: filepath.Join(dir, "r.json")}},
		{"empty argv[0]", Spec{Argv: []string{"", "x"}, ResultPath: filepath.Join(dir, "r.json")}},
		{"no result path", Spec{Argv: []string{"/bin/true"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			started := false
			tc.spec.Started = func(int) { started = true }
			_, err := Run(context.Background(), tc.spec)
			if !errors.Is(err, ErrBadSpec) {
				t.Fatalf("err %v, want ErrBadSpec", err)
			}
			if started {
				t.Fatal("a reaper was started for a bad spec")
			}
		})
	}
}

// TestRunRelativeResultPath: the reaper runs in Spec.Dir, the agent does
// not; a relative ResultPath must still name one file for both.
func TestRunRelativeResultPath(t *testing.T) {
	base := t.TempDir()
	work := filepath.Join(base, "work")
	if err := os.Mkdir(work, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(base)
	res, err := Run(context.Background(), Spec{
		Argv:       []string{"/bin/sh", "-c", "exit 3"},
		Dir:        work,
		Env:        os.Environ(),
		ResultPath: "result.json",
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.ExitCode != 3 {
		t.Fatalf("result %+v", res)
	}
	for _, p := range []string{filepath.Join(base, "result.json"), filepath.Join(work, "result.json")} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%s left behind: %v", p, err)
		}
	}
}
