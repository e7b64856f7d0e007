package reap

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestMain(m *testing.M) {
	Main()
	testChild()
	os.Exit(m.Run())
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
	spec := Spec{Argv: []string{"/bin/sh", "-c", "exit 3"}, Dir: work, Env: os.Environ(), ResultPath: "result.json"}
	if runtime.GOOS == "windows" {
		spec.Argv, spec.CommandLine = nil, "cmd.exe /d /c exit 3"
	}
	res, err := Run(context.Background(), spec)
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
