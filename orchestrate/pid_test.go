package orchestrate

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/orchestrate/cmtrace"
	"github.com/imepipe/imepipe/orchestrate/imelog"
)

// TestInstallerPIDNamesInstaller: "process id =" names the installer,
// the process ProcessTreeDone names once its tree is gone (log tools
// match the two lines by that pid), not the reaper that started it. Off
// Windows the installer line writes its own pid ($$) and its parent's
// ($PPID: the reaper) first; a .cmd knows neither, so on Windows the
// two lines are compared only.
func TestInstallerPIDNamesInstaller(t *testing.T) {
	app := fileApp("Pid", "required")
	if runtime.GOOS != "windows" {
		app = app.with("installCommandLine", `echo $$ $PPID > "$IMEPIPE_ROOT/pids"; sh install.sh`)
	}
	h := newHarness(t, []testApp{app}, nil)
	h.sync()
	h.wantState(app.id(), imeapi.EnforcementSuccess, imeapi.ComplianceInstalled, 0)
	data, err := os.ReadFile(h.agent.LogPath())
	must(t, err)
	entries, err := cmtrace.Parse(strings.NewReader(string(data)))
	must(t, err)
	var logged, exited []int
	for _, e := range entries {
		var pid, reaped int
		switch p, _ := imelog.Match(e.Message); p.ID {
		case imelog.InstallerPID.ID:
			if _, err := fmt.Sscanf(e.Message, imelog.InstallerPID.Format, &pid); err != nil {
				t.Fatalf("%q: %v", e.Message, err)
			}
			logged = append(logged, pid)
		case imelog.ProcessTreeDone.ID:
			if _, err := fmt.Sscanf(e.Message, imelog.ProcessTreeDone.Format, &pid, &reaped); err != nil {
				t.Fatalf("%q: %v", e.Message, err)
			}
			exited = append(exited, pid)
		}
	}
	if len(logged) != 1 || len(exited) != 1 || logged[0] != exited[0] || logged[0] <= 0 {
		t.Fatalf(`"process id =" names %v, ProcessTreeDone %v; want the same one pid`, logged, exited)
	}
	if runtime.GOOS == "windows" {
		return
	}
	ids, err := os.ReadFile(filepath.Join(h.agent.layout.Root, "pids"))
	must(t, err)
	var self, parent int
	if _, err := fmt.Sscan(string(ids), &self, &parent); err != nil {
		t.Fatalf("installer wrote %q: %v", ids, err)
	}
	if logged[0] != self || logged[0] == parent {
		t.Fatalf(`"process id = %d"; the installer is %d, the reaper %d`, logged[0], self, parent)
	}
}
