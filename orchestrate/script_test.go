package orchestrate

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/service"
)

const (
	installScriptID   = "a1a1a1a1-0000-4000-8000-000000000001"
	uninstallScriptID = "b2b2b2b2-0000-4000-8000-000000000002"
)

// scripted is fileApp with an active install and uninstall script (Graph
// beta's activeInstallScript/activeUninstallScript) in the folder's
// service.ScriptsFile, as Graph lists an app's scripts. The scripts do
// what install.sh and uninstall.sh do; the command lines fail.
func scripted(name, intent, installCmd string) testApp {
	ap := fileApp(name, intent)
	enc := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	list, _ := json.Marshal(map[string]any{"value": []any{
		map[string]any{"@odata.type": "#microsoft.graph.win32LobAppInstallPowerShellScript", "id": installScriptID,
			"displayName": "install.ps1", "content": enc(ap.files["install.sh"]), "state": "commitSuccess"},
		map[string]any{"@odata.type": "#microsoft.graph.win32LobAppUninstallPowerShellScript", "id": uninstallScriptID,
			"displayName": "uninstall.ps1", "content": enc(ap.files["uninstall.sh"]), "state": "commitSuccess"},
	}})
	ap = ap.with("installCommandLine", installCmd, "uninstallCommandLine", "sh -c 'exit 7'",
		"activeInstallScript", map[string]any{"@odata.type": "microsoft.graph.mobileAppScriptReference", "targetId": installScriptID},
		"activeUninstallScript", map[string]any{"@odata.type": "microsoft.graph.mobileAppScriptReference", "targetId": uninstallScriptID})
	ap.folder = map[string]string{service.ScriptsFile: string(list)}
	return ap
}

// fakePwsh puts a pwsh on PATH that logs its arguments and runs the
// -File script with /bin/sh (the test's "PowerShell" scripts are shell).
func fakePwsh(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	log := filepath.Join(dir, "pwsh.log")
	body := "#!/bin/sh\necho \"$@\" >> \"" + log + "\"\nwhile [ $# -gt 0 ]; do\n  if [ \"$1\" = -File ]; then exec /bin/sh \"$2\"; fi\n  shift\ndone\nexit 99\n"
	must(t, os.WriteFile(filepath.Join(dir, "pwsh"), []byte(body), 0o755))
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return log
}

// TestScriptInstaller: an available app with active install and
// uninstall scripts installs and uninstalls through pwsh -File with the
// script, not its (failing) command lines; the script file does not stay.
func TestScriptInstaller(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the fake pwsh is a shell script")
	}
	log := fakePwsh(t)
	ap := scripted("scripted", "available", "sh -c 'exit 7'")
	h := newHarness(t, []testApp{ap}, nil)
	h.sync()
	ctx := context.Background()
	if _, err := h.agent.Install(ctx, ap.id()); err != nil {
		t.Fatal(err)
	}
	h.wantState(ap.id(), imeapi.EnforcementSuccess, imeapi.ComplianceInstalled, 0)
	if _, err := os.Stat(h.programFiles("scripted", "app.txt")); err != nil {
		t.Fatalf("the install script did not run: %v\n%s", err, h.log())
	}
	args, err := os.ReadFile(log)
	if err != nil || !strings.HasPrefix(string(args), "-NoProfile -NonInteractive -ExecutionPolicy Bypass -File ") || !strings.Contains(string(args), scriptName) {
		t.Fatalf("pwsh arguments %q (%v)", args, err)
	}
	if !strings.Contains(h.log(), "Active script "+installScriptID+" (install.ps1) replaces the command line") {
		t.Errorf("log does not say the script runs:\n%s", h.log())
	}
	if _, err := h.agent.Uninstall(ctx, ap.id()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(h.programFiles("scripted", "app.txt")); !os.IsNotExist(err) {
		t.Fatalf("the uninstall script did not run: %v\n%s", err, h.log())
	}
	if !strings.Contains(h.log(), "Active script "+uninstallScriptID+" (uninstall.ps1)") {
		t.Errorf("uninstall did not use its script:\n%s", h.log())
	}
	matches, _ := filepath.Glob(filepath.Join(h.cfg.Root, "IMECache", "*", scriptName))
	if len(matches) > 0 {
		t.Errorf("script files left behind: %v", matches)
	}
}

// TestScriptInstallerNoPowerShell: without a pwsh the app fails with
// 0x80070002 and neither the script nor the command line (which would
// install it) runs.
func TestScriptInstallerNoPowerShell(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("PATH lookup of pwsh is the non-Windows host")
	}
	t.Setenv("PATH", t.TempDir())
	ap := scripted("nopwsh", "required", "sh install.sh")
	h := newHarness(t, []testApp{ap}, nil)
	h.sync()
	h.wantState(ap.id(), imeapi.EnforcementError, imeapi.ComplianceError, CodeNoPowerShell)
	if _, err := os.Stat(h.programFiles("nopwsh", "app.txt")); !os.IsNotExist(err) {
		t.Errorf("something installed the app without PowerShell: %v", err)
	}
	if r := h.reported(ap.id()); r == nil || r.ErrorCode != CodeNoPowerShell || !strings.Contains(r.ErrorMessage, "pwsh not found on PATH") {
		t.Errorf("reported %+v", r)
	}
}
