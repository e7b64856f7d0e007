package orchestrate

import (
	"context"
	"encoding/base64"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/orchestrate/cmtrace"
	"github.com/imepipe/imepipe/orchestrate/imelog"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/logvocab/*.golden from this run")

// phraseSequence reads a log as CMTrace and gives one line per record:
// the thread (numbered by first appearance), the type and the phrase ID.
// A record that is no phrase of imelog fails the test.
func phraseSequence(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	must(t, err)
	entries, err := cmtrace.Parse(strings.NewReader(string(data)))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	threads := map[int]int{}
	var b strings.Builder
	for _, e := range entries {
		p, ok := imelog.Match(e.Message)
		if !ok {
			t.Errorf("%s: record %q is not a phrase of imelog", filepath.Base(path), e.Message)
			continue
		}
		if p.ID == imelog.CommandLineRunsAs.ID {
			continue // Windows only: a .cmd goes to cmd.exe /c, so the golden flows hold on both systems
		}
		if p.Type != e.Type {
			t.Errorf("%s: %s logged as type %d, the table says %d", filepath.Base(path), p.ID, e.Type, p.Type)
		}
		if _, seen := threads[e.Thread]; !seen {
			threads[e.Thread] = len(threads) + 1
		}
		fmt.Fprintf(&b, "T%d %d %s\n", threads[e.Thread], e.Type, p.ID)
	}
	return b.String()
}

// checkGolden compares got with testdata/logvocab/name.golden (-update
// rewrites it).
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "logvocab", name+".golden")
	if *updateGolden {
		must(t, os.WriteFile(path, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	must(t, err)
	if got != string(want) {
		gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for i := 0; i < max(len(gl), len(wl)); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("%s: line %d is %q, want %q (go test -run %s -update to accept)\ngot:\n%s", path, i+1, g, w, t.Name(), got)
			}
		}
	}
}

// TestLogVocabularyGolden: the agent's IntuneManagementExtension.log,
// line by line (phrase, type, thread), for the IME flows the community
// analyzers rebuild: a required app's full processing, an available app
// (detected only, then installed at the user's request), an uninstall, a
// not-applicable app, a dependency, and a GRS skip.
func TestLogVocabularyGolden(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name string
		run  func(t *testing.T) *harness
	}{
		{"required", func(t *testing.T) *harness {
			h := newHarness(t, []testApp{fileApp("req", "required")}, nil)
			h.sync()
			return h
		}},
		{"available", func(t *testing.T) *harness {
			app := fileApp("avail", "available")
			h := newHarness(t, []testApp{app}, nil)
			h.sync()
			if _, err := h.agent.Install(ctx, app.id()); err != nil {
				t.Fatal(err)
			}
			h.wantState(app.id(), imeapi.EnforcementSuccess, imeapi.ComplianceInstalled, 0)
			return h
		}},
		{"uninstall", func(t *testing.T) *harness {
			app := fileApp("gone", "uninstall")
			h := newHarness(t, []testApp{app}, nil)
			must(t, os.MkdirAll(h.programFiles("gone"), 0o755))
			must(t, os.WriteFile(h.programFiles("gone", "app.txt"), []byte("installed\n"), 0o644))
			h.sync()
			h.wantState(app.id(), imeapi.EnforcementSuccess, imeapi.ComplianceNotInstalled, 0)
			return h
		}},
		{"notapplicable", func(t *testing.T) *harness {
			app := fileApp("big", "required").with("minimumFreeDiskSpaceInMB", 10000000)
			h := newHarness(t, []testApp{app}, nil)
			h.sync()
			h.wantState(app.id(), imeapi.EnforcementRequirementsNotMet, imeapi.ComplianceNotInstalled, 0)
			return h
		}},
		{"dependency", func(t *testing.T) *harness {
			dep := unassigned(fileApp("dep-base", "required"))
			top := fileApp("dep-top", "required").with("relationships", []any{relation(imeapi.TypeDependency, "autoInstall", dep)})
			h := newHarness(t, []testApp{dep, top}, nil)
			h.sync()
			h.wantState(top.id(), imeapi.EnforcementSuccess, imeapi.ComplianceInstalled, 0)
			h.wantState(dep.id(), imeapi.EnforcementSuccess, imeapi.ComplianceInstalled, 0)
			return h
		}},
		{"grs", func(t *testing.T) *harness {
			app := fileApp("flaky", "required").installs(`exit 2`, "exit /b 2")
			h := newHarness(t, []testApp{app}, func(c *Config) { c.MaxAttempts, c.GRSWindow = 1, 24*time.Hour })
			h.sync() // fails once: GRS
			h.clock.Advance(time.Hour)
			h.sync() // in GRS: skipped
			if h.app(app.id()).GRS.IsZero() {
				t.Fatal("the app is not in GRS")
			}
			return h
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := c.run(t)
			checkGolden(t, c.name, phraseSequence(t, h.agent.LogPath()))
		})
	}
}

// TestLogVocabularyDaemon: a daemon (New) brackets its log with the IME's
// EMS Agent Started and Stopped, on its own thread.
func TestLogVocabularyDaemon(t *testing.T) {
	h := newHarness(t, []testApp{fileApp("life", "required")}, nil)
	h.sync()
	must(t, h.agent.Close())
	seq := strings.Split(strings.TrimSpace(phraseSequence(t, h.agent.LogPath())), "\n")
	if seq[0] != "T1 1 EMSAgentStarted" || seq[len(seq)-1] != "T1 1 EMSAgentStopped" {
		t.Fatalf("the log does not start and end with EMS Agent Started/Stopped on thread 1:\n%s", strings.Join(seq, "\n"))
	}
	for _, l := range seq[1 : len(seq)-1] {
		if strings.HasPrefix(l, "T1 ") && !strings.HasSuffix(l, "AgentSettings") && !strings.HasSuffix(l, "Enrolled") {
			t.Errorf("app processing on the agent's thread: %s", l)
		}
	}
}

// TestAgentExecutorLog: a script detection rule runs are logged to
// AgentExecutor.log (component AgentExecutor) in the IME's AgentExecutor
// wording, on the thread of the poller that ran it, the script's output
// included; IntuneManagementExtension.log keeps the detection lines.
func TestAgentExecutorLog(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the detection script is POSIX sh, and Wine's powershell.exe is a stub that runs no script (the PowerShell command line is rules' TestPowershellArgv)")
	}
	script := base64.StdEncoding.EncodeToString([]byte(`if [ -f "$ProgramFiles/scripted/app.txt" ]; then echo found-it; fi`))
	app := fileApp("scripted", "required").with("rules", []any{map[string]any{
		"@odata.type": imeapi.TypeScriptRule, "ruleType": "detection", "scriptContent": script,
		"operationType": "notConfigured", "operator": "notConfigured", "runAsAccount": "system",
	}})
	h := newHarness(t, []testApp{app}, nil)
	h.sync()
	h.wantState(app.id(), imeapi.EnforcementSuccess, imeapi.ComplianceInstalled, 0)
	path := filepath.Join(h.agent.layout.Logs, imelog.FileAgentExecutor)
	checkGolden(t, "agentexecutor", phraseSequence(t, path))
	data, err := os.ReadFile(path)
	must(t, err)
	entries, err := cmtrace.Parse(strings.NewReader(string(data)))
	must(t, err)
	ime, err := os.ReadFile(h.agent.LogPath())
	must(t, err)
	imeEntries, err := cmtrace.Parse(strings.NewReader(string(ime)))
	must(t, err)
	poller := -1
	for _, e := range imeEntries {
		if p, _ := imelog.Match(e.Message); p.ID == imelog.PollerStart.ID {
			poller = e.Thread
		}
	}
	outputs := 0
	for _, e := range entries {
		if e.Component != imelog.ComponentAgentExecutor || e.Thread != poller {
			t.Fatalf("record %+v: want component %s on the poller's thread %d", e, imelog.ComponentAgentExecutor, poller)
		}
		if strings.HasPrefix(e.Message, "write output done. output = found-it,") {
			outputs++
		}
	}
	if outputs != 1 {
		t.Fatalf("%d runs wrote found-it (want the post-install detection's):\n%s", outputs, data)
	}
	if !strings.Contains(string(ime), "SideCarScriptDetectionManager") {
		t.Fatal("IntuneManagementExtension.log lacks the script detection manager")
	}
}
