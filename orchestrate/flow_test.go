package orchestrate

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imepipe/imepipe/fetch"
	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/orchestrate/cmtrace"
)

func TestRequiredAppInstallsAndReports(t *testing.T) {
	app := fileApp("Demo", "required")
	h := newHarness(t, []testApp{app}, nil)
	h.sync()
	h.wantState(app.id(), imeapi.EnforcementSuccess, imeapi.ComplianceInstalled, 0)
	if _, err := os.Stat(h.programFiles("Demo", "app.txt")); err != nil {
		t.Fatalf("installer did not run: %v", err)
	}
	rep := h.reported(app.id())
	if rep == nil || rep.EnforcementState != imeapi.EnforcementSuccess || rep.ComplianceState != imeapi.ComplianceInstalled {
		t.Fatalf("service report %+v", rep)
	}
	var do fetch.Status
	if err := json.Unmarshal(rep.DOStatus, &do); err != nil || do.TotalBytesDownloaded == 0 || do.FileId == "" {
		t.Fatalf("report DO record %s: %v", rep.DOStatus, err)
	}
	for _, dir := range []string{h.agent.layout.Incoming, h.agent.layout.IMECache} {
		ents, _ := os.ReadDir(dir)
		if len(ents) != 0 {
			t.Fatalf("%s not cleaned: %v", dir, ents)
		}
	}
	logText, err := os.ReadFile(h.agent.LogPath())
	must(t, err)
	for _, want := range []string{
		"[Win32App] Processing app (id=" + app.id() + ", name = Demo) with mode = DetectInstall",
		"[Win32App] ===Step=== Detection rules",
		"ApplicationDetected: False",
		"[Win32App] Downloading app on session 0",
		"[Win32App] Verifying, decrypting and unzipping while the download runs",
		"[Win32App] file hash validation pass, starts decrypting",
		"[Win32App] Decryption is done successfully.",
		"[Win32App] Create installer process successfully.",
		"[Win32App] process id = ",
		"[Win32App] lpExitCode 0",
		"ApplicationDetected: True",
		"Cleaning up staging content ",
	} {
		if !strings.Contains(string(logText), want) {
			t.Errorf("log lacks %q", want)
		}
	}
	if strings.Contains(string(logText), "did not complete") {
		t.Error("the unpack during the download fell back to unpacking the file")
	}
	entries, err := cmtrace.Parse(strings.NewReader(string(logText)))
	if err != nil || len(entries) < 10 {
		t.Fatalf("agent log does not parse as CMTrace: %d entries, %v", len(entries), err)
	}
	// Next sync: detected first, nothing downloaded or run again.
	if err := os.Remove(h.agent.layout.Logs + "/Win32AppInstaller-" + app.id() + "_1.log"); err != nil && !os.IsNotExist(err) {
		t.Fatal(err) // absent: the installer wrote nothing, and its empty log was removed
	}
	h.sync()
	h.wantState(app.id(), imeapi.EnforcementSuccess, imeapi.ComplianceInstalled, 0)
	if _, err := os.Stat(h.agent.layout.Logs + "/Win32AppInstaller-" + app.id() + "_1.log"); !os.IsNotExist(err) {
		t.Fatalf("installer ran again on a detected app")
	}
}

func TestDetectedFirstSkipsInstall(t *testing.T) {
	app := fileApp("Pre", "required").installs(`echo ran > "$ProgramData/ran.txt"; exit 1`,
		"@echo off\r\nif not exist \"%ProgramData%\" mkdir \"%ProgramData%\"\r\necho ran>\"%ProgramData%\\ran.txt\"\r\nexit /b 1")
	h := newHarness(t, []testApp{app}, nil)
	must(t, os.MkdirAll(h.programFiles("Pre"), 0o755))
	must(t, os.WriteFile(h.programFiles("Pre", "app.txt"), []byte("x"), 0o644))
	h.sync()
	h.wantState(app.id(), imeapi.EnforcementSuccess, imeapi.ComplianceInstalled, 0)
	if _, err := os.Stat(filepath.Join(h.cfg.Root, "Drive", "C", "ProgramData", "ran.txt")); !os.IsNotExist(err) {
		t.Fatal("installer ran although the app was detected")
	}
	if !strings.Contains(h.log(), "already detected") {
		t.Fatal("no detection-first line in the log")
	}
}

func TestRequirementsNotMet(t *testing.T) {
	mem := fileApp("BigMem", "required").with("minimumMemoryInMB", 16384)
	arch := fileApp("ArmOnly", "required").with("applicableArchitectures", "arm64")
	reg := fileApp("RegReq", "required").with("rules", []any{
		fileApp("RegReq", "").fields["rules"].([]any)[0],
		map[string]any{"@odata.type": imeapi.TypeRegistryRule, "ruleType": "requirement", "keyPath": `HKLM\SOFTWARE\Contoso`, "valueName": "Ring", "operationType": "string", "operator": "equal", "comparisonValue": "pilot"},
	})
	ok := fileApp("Fits", "required").with("minimumMemoryInMB", 1024, "applicableArchitectures", "x64,arm64", "minimumNumberOfProcessors", 2)
	h := newHarness(t, []testApp{mem, arch, reg, ok}, nil)
	h.sync()
	h.wantState(mem.id(), imeapi.EnforcementRequirementsNotMet, imeapi.ComplianceNotInstalled, 0)
	h.wantState(arch.id(), imeapi.EnforcementRequirementsNotMet, imeapi.ComplianceNotInstalled, 0)
	h.wantState(reg.id(), imeapi.EnforcementRequirementsNotMet, imeapi.ComplianceNotInstalled, 0)
	h.wantState(ok.id(), imeapi.EnforcementSuccess, imeapi.ComplianceInstalled, 0)
	if r := h.reported(mem.id()); r == nil || r.EnforcementState != imeapi.EnforcementRequirementsNotMet {
		t.Fatalf("report %+v", r)
	}
	if h.app(mem.id()).Attempts.Count != 0 {
		t.Fatal("requirements not met counted as a failed attempt")
	}
	// Meet the registry requirement: the app installs at the next sync.
	_, err := h.agent.Reg(context.Background(), RegRequest{Action: "add", Key: `HKLM\SOFTWARE\Contoso`, Value: "Ring", HasValue: true, Data: "pilot"})
	must(t, err)
	h.sync()
	h.wantState(reg.id(), imeapi.EnforcementSuccess, imeapi.ComplianceInstalled, 0)
}

func TestExitCodeMapping(t *testing.T) {
	withCode := func(name string, code int, detected bool) testApp {
		// Unix: the code through the exit code file (8-bit statuses);
		// Windows: the exit code itself, a DWORD.
		body := `echo ` + itoa(code) + ` > "$IMEPIPE_EXIT_CODE_FILE"`
		cmd := "exit /b " + itoa(code)
		if detected {
			body = `mkdir -p "$ProgramFiles/` + name + `" && touch "$ProgramFiles/` + name + `/app.txt"; ` + body
			cmd = "if not exist \"%ProgramFiles%\\" + name + "\" mkdir \"%ProgramFiles%\\" + name + "\"\r\necho x>\"%ProgramFiles%\\" + name + "\\app.txt\"\r\n" + cmd
		}
		return fileApp(name, "required").installs(body, "@echo off\r\n"+cmd)
	}
	cases := []struct {
		app      testApp
		enf      imeapi.EnforcementState
		comp     imeapi.ComplianceState
		code     int64
		reboot   string
		attempts int
	}{
		{withCode("Ok1707", 1707, true), imeapi.EnforcementSuccess, imeapi.ComplianceInstalled, 0, "", 0},
		{withCode("Soft", 3010, true), imeapi.EnforcementSuccess, imeapi.ComplianceInstalled, 3010, "softReboot", 0},
		{withCode("Hard", 1641, true), imeapi.EnforcementSuccess, imeapi.ComplianceInstalled, 1641, "hardReboot", 0},
		{withCode("Busy", 1618, false), imeapi.EnforcementInProgress, imeapi.ComplianceUnknown, 1618, "", 1},
		{withCode("Fail", 5, false), imeapi.EnforcementError, imeapi.ComplianceError, 5, "", 1},
		{withCode("Ghost", 0, false), imeapi.EnforcementError, imeapi.ComplianceError, CodeNotDetected, "", 1},
		{withCode("Custom", 17, true).with("returnCodes", []any{map[string]any{"returnCode": 17, "type": "success"}}), imeapi.EnforcementSuccess, imeapi.ComplianceInstalled, 0, "", 0},
		{withCode("ZeroNotListed", 0, true).with("returnCodes", []any{map[string]any{"returnCode": 17, "type": "success"}}), imeapi.EnforcementError, imeapi.ComplianceError, 0, "", 1},
	}
	var apps []testApp
	for _, c := range cases {
		apps = append(apps, c.app)
	}
	h := newHarness(t, apps, nil)
	h.sync()
	for _, c := range cases {
		t.Run(c.app.name, func(t *testing.T) {
			h.t = t
			h.wantState(c.app.id(), c.enf, c.comp, c.code)
			ap := h.app(c.app.id())
			if ap.Attempts.Count != c.attempts {
				t.Errorf("attempts %d, want %d", ap.Attempts.Count, c.attempts)
			}
			if ap.Policy.RebootPending != c.reboot {
				t.Errorf("reboot %q, want %q", ap.Policy.RebootPending, c.reboot)
			}
		})
	}
	if c := CodeNotDetected; uint32(c) != 0x87D1041C {
		t.Fatalf("CodeNotDetected is %#x", uint32(c))
	}
}

func TestMapReturnCode(t *testing.T) {
	custom := []imeapi.ReturnCode{{ReturnCode: 0, Type: imeapi.ReturnSuccess}, {ReturnCode: 42, Type: imeapi.ReturnRetry}, {ReturnCode: 7, Type: "bogus"}}
	cases := []struct {
		codes  []imeapi.ReturnCode
		code   int64
		want   imeapi.ReturnCodeType
		mapped bool
	}{
		{nil, 0, imeapi.ReturnSuccess, true},
		{nil, 1707, imeapi.ReturnSuccess, true},
		{nil, 3010, imeapi.ReturnSoftReboot, true},
		{nil, 1641, imeapi.ReturnHardReboot, true},
		{nil, 1618, imeapi.ReturnRetry, true},
		{nil, 1, imeapi.ReturnFailed, false},
		{nil, -2147467259, imeapi.ReturnFailed, false},
		{custom, 42, imeapi.ReturnRetry, true},
		{custom, 3010, imeapi.ReturnFailed, false},
		{custom, 7, imeapi.ReturnFailed, true},
	}
	for _, c := range cases {
		got, mapped := MapReturnCode(c.codes, c.code)
		if got != c.want || mapped != c.mapped {
			t.Errorf("MapReturnCode(%v, %d) = %s, %v; want %s, %v", c.codes, c.code, got, mapped, c.want, c.mapped)
		}
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }
