package stage

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// The environment that makes the test binary run TestCrashChild.
const (
	crashAtEnv  = "STAGE_TEST_CRASH_AT"  // the step to crash at
	crashDirEnv = "STAGE_TEST_CRASH_DIR" // the folder to fill in place
	crashCwdEnv = "STAGE_TEST_CRASH_CWD" // "1": replace it as the current folder
	crashCode   = 3
)

// TestCrashChild is not a test: re-executed with crashAtEnv set to k, it
// fills the folder named by crashDirEnv in place with smallZip and exits
// the process at the k-th step of the commit (0: in Verify, before it).
// It exits with 0 when the commit has fewer steps.
func TestCrashChild(t *testing.T) {
	at := os.Getenv(crashAtEnv)
	if at == "" {
		t.Skip("runs only as a re-executed child")
	}
	k, _ := strconv.Atoi(at)
	dir := os.Getenv(crashDirEnv)
	opt := Options{Verify: func() error {
		if k == 0 {
			os.Exit(crashCode)
		}
		return nil
	}}
	if os.Getenv(crashCwdEnv) == "1" {
		if err := os.Chdir(dir); err != nil {
			t.Fatal(err)
		}
		dir, opt.Replace = ".", true
	}
	n := 0
	afterStep = func() {
		if n++; n == k {
			os.Exit(crashCode)
		}
	}
	if err := extractors["Extract"](smallZipBytes(t), dir, opt); err != nil {
		t.Fatal(err)
	}
	os.Exit(0)
}

// TestInPlaceCrashRecovers crashes a fill in place at every step, in a
// child process, and checks what it leaves: until the commit point, the
// folder as it was (and a temp folder inside it that counts as nothing);
// from it on, a folder that holds the hidden temp folder and counts as
// occupied, which the next extraction into it completes to the crashed
// run's whole tree (and then refuses, without Replace). Both for an empty
// folder and for the current folder replaced.
func TestInPlaceCrashRecovers(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows cannot lock a folder: a crashed fill in place is left there for a Replace (stage/inplace.go)")
	}
	z, want := smallZip(t)
	for _, c := range []struct {
		name  string
		old   []string // what the folder holds before
		steps int      // the commit point, one per entry moved, old → gone
	}{
		{"empty", nil, 1 + 1 + 3},
		{"current folder", []string{"mine.txt", "sub/mine.txt"}, 1 + 2 + 1 + 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			for k := 0; ; k++ {
				dir := filepath.Join(t.TempDir(), "out")
				if err := os.Mkdir(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				for _, p := range c.old {
					p = filepath.Join(dir, p)
					if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(p, []byte("old"), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				old := treeSums(t, dir)
				if !crashChild(t, k, dir, c.old != nil) {
					if k != c.steps+1 {
						t.Fatalf("the commit took %d steps, want %d", k-1, c.steps)
					}
					return
				}
				temps, _ := filepath.Glob(filepath.Join(dir, ".out.partial-*"))
				busy, err := Occupied(dir)
				switch {
				case err != nil || len(temps) != 1:
					t.Fatalf("step %d: Occupied: %v; temp folders %v, want one", k, err, temps)
				case k == 0 && busy != (c.old != nil):
					t.Errorf("step %d: before the commit point Occupied = %v", k, busy)
				case k > 0 && !busy:
					t.Errorf("step %d: a half-filled folder counts as free", k)
				}
				err = extractors["ExtractStream"](z, dir, Options{})
				switch {
				case k == 0 && c.old == nil:
					if err != nil {
						t.Fatalf("step %d: %v", k, err)
					}
					sameTree(t, want, treeSums(t, dir))
				case k == 0:
					if !errors.Is(err, ErrExists) {
						t.Fatalf("step %d: err = %v, want ErrExists", k, err)
					}
					sameTree(t, old, treeSums(t, dir))
				default:
					if !errors.Is(err, ErrExists) {
						t.Fatalf("step %d: err = %v, want ErrExists", k, err)
					}
					sameTree(t, want, treeSums(t, dir))
				}
			}
		})
	}
}

// crashChild runs TestCrashChild crashing at step k and reports whether
// it crashed.
func crashChild(t *testing.T, k int, dir string, cwd bool) bool {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d", crashAtEnv, k), crashDirEnv+"="+dir)
	if cwd {
		cmd.Env = append(cmd.Env, crashCwdEnv+"=1")
	}
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return false
	case errors.As(err, &ee) && ee.ExitCode() == crashCode:
		return true
	}
	t.Fatalf("child: %v\n%s", err, strings.TrimSpace(string(out)))
	return false
}
