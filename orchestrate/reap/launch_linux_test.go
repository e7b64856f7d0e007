package reap

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestLaunchReportNotInherited: the installer holds no end of the launch
// report (the reaper marks it close-on-exec before it starts anything),
// so nothing of the tree depends on the agent's pipe; the pid reported is
// the installer's own ($$), whose parent is the reaper.
func TestLaunchReportNotInherited(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "installer.log")
	out, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	var reaper, installer int
	res, err := Run(context.Background(), Spec{
		Argv:             []string{"/bin/sh", "-c", `echo pid $$ $PPID; readlink /proc/$$/fd/3 || echo no fd 3`},
		Dir:              dir,
		Env:              os.Environ(),
		Stdout:           out,
		ResultPath:       filepath.Join(dir, "result.json"),
		Started:          func(pid int) { reaper = pid },
		InstallerStarted: func(pid int) { installer = pid },
	})
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if want := "pid " + strconv.Itoa(installer) + " " + strconv.Itoa(reaper); lines[0] != want || installer != res.PID {
		t.Fatalf("installer says %q, want %q (Result.PID %d)", lines[0], want, res.PID)
	}
	// The reaper's end is its descriptor 3, and a descriptor without
	// close-on-exec stays where it is across the installer's exec.
	if len(lines) != 2 || lines[1] != "no fd 3" {
		t.Errorf("the installer holds descriptor 3 (the reaper's launch report):\n%s", data)
	}
}
