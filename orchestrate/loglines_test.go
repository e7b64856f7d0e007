package orchestrate

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imepipe/imepipe/imeapi"
)

// TestInstallerLogs: an installer that writes nothing leaves no empty
// Win32AppInstaller-*.log behind; one that writes keeps its log.
func TestInstallerLogs(t *testing.T) {
	quiet := fileApp("quiet", "required")
	chatty := fileApp("chatty", "required")
	chatty = chatty.installs("echo hello from the installer; "+chatty.files["install.sh"],
		strings.Replace(chatty.files["install.cmd"], "@echo off\r\n", "@echo off\r\necho hello from the installer\r\n", 1))
	h := newHarness(t, []testApp{quiet, chatty}, nil)
	h.sync()
	h.wantState(quiet.id(), imeapi.EnforcementSuccess, imeapi.ComplianceInstalled, 0)
	h.wantState(chatty.id(), imeapi.EnforcementSuccess, imeapi.ComplianceInstalled, 0)
	logs := h.agent.layout.Logs
	if _, err := os.Stat(filepath.Join(logs, "Win32AppInstaller-"+quiet.id()+"_1.log")); !os.IsNotExist(err) {
		t.Errorf("the quiet installer's empty log stayed: %v", err)
	}
	data, err := os.ReadFile(filepath.Join(logs, "Win32AppInstaller-"+chatty.id()+"_1.log"))
	if err != nil || !strings.Contains(string(data), "hello from the installer") {
		t.Errorf("the chatty installer's log: %q %v", data, err)
	}
}

// TestDOCacheLogLine: content the DO cache already holds is logged as
// such, not as "DO Job set priority is , Downloaded 0 bytes"; no line
// says [DO] twice.
func TestDOCacheLogLine(t *testing.T) {
	app := fileApp("again", "required")
	h := newHarness(t, []testApp{app}, func(c *Config) { c.DownloadMode, c.PeerAddr = new(imeapi.ModeLAN), "127.0.0.1:0" })
	h.sync()
	h.wantState(app.id(), imeapi.EnforcementSuccess, imeapi.ComplianceInstalled, 0)
	// The app is removed behind the agent's back and reset: the next
	// sync installs it again, from the DO cache.
	must(t, os.RemoveAll(h.programFiles("again")))
	if _, err := h.agent.ResetGRS(context.Background(), app.id()); err != nil {
		t.Fatal(err)
	}
	h.sync()
	h.wantState(app.id(), imeapi.EnforcementSuccess, imeapi.ComplianceInstalled, 0)
	log := h.log()
	if !strings.Contains(log, "DO found the content complete in its cache") {
		t.Errorf("no DO cache line in the log:\n%s", log)
	}
	for _, bad := range []string{"priority is ,", "[DO] [DO]"} {
		if strings.Contains(log, bad) {
			t.Errorf("the log says %q:\n%s", bad, log)
		}
	}
}
