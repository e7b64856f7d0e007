package orchestrate

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/orchestrate/state"
)

// An installer's failure shows in status as the report and the console
// show it: its exit code as HRESULT_FROM_WIN32 (127 is 0x8007007F), said
// once, a message naming no Go package, and its own log to read.
func TestStatusInstallerFailure(t *testing.T) {
	app := fileApp("Broken127", "required").installs("echo cannot find libfoo; exit 127", "@echo cannot find libfoo\r\n@exit /b 127")
	h := newHarness(t, []testApp{app}, nil)
	h.sync()
	h.wantState(app.id(), imeapi.EnforcementError, imeapi.ComplianceError, 127)
	st, err := h.agent.Status(context.Background())
	must(t, err)
	if len(st.Apps) != 1 {
		t.Fatalf("apps %+v", st.Apps)
	}
	a := st.Apps[0]
	if a.ErrorCodeHex != "0x8007007F" || a.ErrorCodeHex != imeapi.CodeHex(127) {
		t.Errorf("ErrorCodeHex %q, want the console's 0x8007007F", a.ErrorCodeHex)
	}
	if a.ErrorMessage != "install: installer exit code 127 is a failure" {
		t.Errorf("ErrorMessage %q: want the step and the cause, no package, no code", a.ErrorMessage)
	}
	if rep := h.reported(app.id()); rep == nil || rep.ErrorMessage != a.ErrorMessage || rep.ErrorCode != 127 {
		t.Errorf("report %+v, want the same message and the exit code", rep)
	}
	want := filepath.Join(h.agent.Layout().Logs, "Win32AppInstaller-"+app.id()+"_1.log")
	if a.InstallerLog != want {
		t.Fatalf("InstallerLog %q, want %q", a.InstallerLog, want)
	}
	if data, err := os.ReadFile(a.InstallerLog); err != nil || !strings.Contains(string(data), "cannot find libfoo") {
		t.Errorf("installer log %q: %v", data, err)
	}
}

// A failure that is not the installer's (the content cannot be had)
// points at no installer log.
func TestStatusNoInstallerLogForDownload(t *testing.T) {
	app := fileApp("Fine", "required")
	h := newHarness(t, []testApp{app}, nil)
	h.sync()
	log := filepath.Join(h.agent.Layout().Logs, "Win32AppInstaller-"+app.id()+"_1.log")
	must(t, os.WriteFile(log, []byte("an earlier run\n"), 0o644))
	must(t, h.agent.store.PutEnforcement(state.DeviceUser, app.id()+"_1", state.EnforcementStateMessage{
		EnforcementState: imeapi.EnforcementError, ErrorCode: CodeFailure, ErrorMessage: "download intunewin-bin_x: fetch: HTTP 404"}))
	st, err := h.agent.Status(context.Background())
	must(t, err)
	if a := st.Apps[0]; a.InstallerLog != "" || a.ErrorCodeHex != "0x80004005" {
		t.Fatalf("download failure: InstallerLog %q, code %s", a.InstallerLog, a.ErrorCodeHex)
	}
}

// StepError's text is the step, its object and the cause: no package
// name, no code (ErrorCode carries it).
func TestStatusStepErrorText(t *testing.T) {
	cause := errors.New("fetch: http://cdn/x: HTTP 404")
	err := error(&StepError{Step: "download", Object: "intunewin-bin_a_1", Code: CodeFailure, Err: cause})
	if got := err.Error(); got != "download intunewin-bin_a_1: fetch: http://cdn/x: HTTP 404" {
		t.Errorf("StepError %q", got)
	}
	if !errors.Is(err, cause) {
		t.Error("StepError does not unwrap")
	}
}

// CheckRoot's errors name the root once and no Go package, and still
// match what they are.
func TestStatusCheckRootMessages(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nothere")
	err := CheckRoot(missing)
	if !errors.Is(err, fs.ErrNotExist) || strings.Count(err.Error(), missing) != 1 || strings.Contains(err.Error(), "stat ") {
		t.Errorf("missing root: %v", err)
	}
	empty := t.TempDir()
	err = CheckRoot(empty)
	if !errors.Is(err, ErrNotRoot) || strings.Count(err.Error(), empty) != 1 || strings.Contains(err.Error(), "orchestrate") {
		t.Errorf("folder without state.db: %v", err)
	}
}

// TestStatusMarksAppsNotInPolicies: status tells the apps the last policy
// answer named from those it did not (the service stopped serving them;
// their records stay), and says nothing before the first answer.
func TestStatusMarksAppsNotInPolicies(t *testing.T) {
	h := newHarness(t, []testApp{fileApp("Kept", "required"), fileApp("Dropped", "required")}, nil)
	st, err := h.agent.Status(context.Background())
	must(t, err)
	for _, a := range st.Apps {
		if a.NotInPolicies {
			t.Errorf("before any sync: %s marked not in the policies", a.AppID)
		}
	}
	must(t, h.agent.Sync(context.Background()))
	st, err = h.agent.Status(context.Background())
	must(t, err)
	if len(st.Apps) != 2 {
		t.Fatalf("status has %d apps, want 2", len(st.Apps))
	}
	for _, a := range st.Apps {
		if a.NotInPolicies {
			t.Errorf("after a sync that served it: %s marked not in the policies", a.AppID)
		}
	}
	v, err := h.agent.store.Value(policyAppsKey)
	must(t, err)
	for _, a := range st.Apps {
		if !strings.Contains(v, strings.ToLower(a.AppID)) {
			t.Errorf("the sync recorded policy apps %q, without %s", v, a.AppID)
		}
	}
	// The next answer names one app only (what notePolicyApps records).
	kept := st.Apps[0]
	h.agent.notePolicyApps([]imeapi.Policy{{AppID: strings.ToUpper(kept.AppID), Version: kept.Version}})
	st, err = h.agent.Status(context.Background())
	must(t, err)
	for _, a := range st.Apps {
		if want := a.AppID != kept.AppID; a.NotInPolicies != want {
			t.Errorf("%s: NotInPolicies %v, want %v", a.AppID, a.NotInPolicies, want)
		}
	}
}
