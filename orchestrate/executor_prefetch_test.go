//go:build !windows

package orchestrate

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/orchestrate/cmtrace"
	"github.com/imepipe/imepipe/orchestrate/imelog"
)

// TestPrefetchedScriptsOnTheAppsThread: as TestPrefetchKeepsEachAppOnItsThread,
// with DesktopInfo detected and required by scripts (the only scripts of
// the sync). Its scripts run while it is prepared ahead, beside Big's
// install, and again in its turn. Each script run of AgentExecutor.log is
// on the thread that the app's own lines of that run (its "Detection rule"
// or "Requirement rule" line in IntuneManagementExtension.log) are on: its
// own thread during the preparation, the poller's in its turn; never the
// thread of Big, which installs meanwhile.
func TestPrefetchedScriptsOnTheAppsThread(t *testing.T) {
	gates := t.TempDir()
	script := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	big := gatedApp(t, "Big", gates)
	desk := fileApp("DesktopInfo", "required").with("rules", []any{
		map[string]any{
			"@odata.type": imeapi.TypeScriptRule, "ruleType": "detection",
			"scriptContent": script(`if [ -f "$ProgramFiles/DesktopInfo/app.txt" ]; then echo found-it; fi`),
			"operationType": "notConfigured", "operator": "notConfigured", "runAsAccount": "system",
		},
		map[string]any{
			"@odata.type": imeapi.TypeScriptRule, "ruleType": "requirement",
			"scriptContent": script(`echo 1`),
			"operationType": "integer", "operator": "equal", "comparisonValue": "1", "runAsAccount": "system",
		},
	})
	h := prepareWhileBigInstalls(t, gates, []testApp{big, desk}, desk, nil)
	h.wantState(big.id(), imeapi.EnforcementSuccess, imeapi.ComplianceInstalled, 0)
	h.wantState(desk.id(), imeapi.EnforcementSuccess, imeapi.ComplianceInstalled, 0)

	ime := cmtraceFile(t, h.agent.LogPath())
	exec := cmtraceFile(t, filepath.Join(h.agent.layout.Logs, imelog.FileAgentExecutor))
	poller, bigThread, ahead := -1, -1, -1
	var want []int // the threads of DesktopInfo's script rule lines, in order
	for _, e := range ime {
		p, _ := imelog.Match(e.Message)
		switch {
		case p.ID == imelog.PollerStart.ID:
			poller = e.Thread
		case p.ID == imelog.ExecuteRetry.ID && bigThread < 0:
			bigThread = e.Thread // Big's install, the first
		case p.ID == imelog.DownloadingApp.ID && strings.Contains(e.Message, desk.id()):
			ahead = e.Thread
		case (p.ID == imelog.DetectionRule.ID || p.ID == imelog.RequirementRule.ID) && strings.Contains(e.Message, "(Script)"):
			want = append(want, e.Thread)
		}
	}
	if ahead < 0 || ahead == poller {
		t.Fatalf("DesktopInfo was not prepared on a thread of its own (its download: thread %d, the poller's %d)", ahead, poller)
	}
	var got []int // the thread of each AgentExecutor run, in order
	for i, e := range exec {
		p, _ := imelog.Match(e.Message)
		switch {
		case p.ID == imelog.ExecutorInvoked.ID:
			got = append(got, e.Thread)
		case len(got) == 0:
			t.Fatalf("AgentExecutor.log record %d before any run: %q", i, e.Message)
		case e.Thread != got[len(got)-1]:
			t.Errorf("AgentExecutor.log record %d: run %d's line on thread %d, the run began on %d", i, len(got), e.Thread, got[len(got)-1])
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("AgentExecutor.log runs on threads %v; DesktopInfo's script rule lines on %v (its own thread %d, the poller's %d, Big installs on %d)", got, want, ahead, poller, bigThread)
	}
	onAhead := 0
	for _, th := range got {
		if th == ahead {
			onAhead++
		}
	}
	if onAhead < 2 || len(got) <= onAhead {
		t.Fatalf("runs on threads %v: want its preparation's detection and requirement on its own thread %d, its turn's on the poller's %d", got, ahead, poller)
	}
}

// cmtraceFile parses the CMTrace log at path.
func cmtraceFile(t *testing.T, path string) []cmtrace.Entry {
	t.Helper()
	data, err := os.ReadFile(path)
	must(t, err)
	entries, err := cmtrace.Parse(strings.NewReader(string(data)))
	must(t, err)
	return entries
}
