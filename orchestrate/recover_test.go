package orchestrate

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/orchestrate/state"
)

// A run of an older revision left recorded (its reaper gone, no Result)
// is finished first, as one failed attempt of that revision, its folder
// cleaned; then the current revision installs in the same flow.
func TestOlderRevisionRunFinishedBeforeNewInstall(t *testing.T) {
	app := fileApp("Revised", "required")
	h := newHarness(t, []testApp{app}, nil)
	a := h.agent
	oldKey := app.id() + "_0"
	oldDir := filepath.Join(a.layout.IMECache, oldKey)
	must(t, os.MkdirAll(oldDir, 0o755))
	must(t, os.WriteFile(filepath.Join(oldDir, "install.sh"), []byte("exit 0\n"), 0o644))
	pol, _ := json.Marshal(imeapi.Policy{AppID: app.id(), Version: "0", Intent: imeapi.IntentRequired, App: json.RawMessage(`{"id":"` + app.id() + `"}`)})
	must(t, a.store.PutInstall(state.Install{User: state.DeviceUser, Key: oldKey, AppID: app.id(), Version: "0", Mode: string(modeInstall),
		Dir: oldDir, ResultPath: filepath.Join(a.layout.Staging, oldKey+".reap.json"), CodeFile: filepath.Join(a.layout.Staging, oldKey+".exitcode"),
		Attempt: 1, Started: h.clock.Now(), Deadline: h.clock.Now().Add(DefaultInstallTimeout), Policy: pol}))
	h.sync()
	if exists(oldDir) {
		t.Error("the old revision's folder was not cleaned up")
	}
	old, err := a.store.App(state.DeviceUser, oldKey)
	must(t, err)
	if old.Attempts.Count != 1 || old.Enforcement == nil || old.Enforcement.EnforcementState != imeapi.EnforcementError {
		t.Errorf("old revision: attempts %+v enforcement %+v, want one failure", old.Attempts, old.Enforcement)
	}
	if !strings.Contains(h.log(), "is gone without a result") {
		t.Errorf("no failure line for the lost run:\n%s", h.log())
	}
	h.wantState(app.id(), imeapi.EnforcementSuccess, imeapi.ComplianceInstalled, 0)
	if recs, _ := a.store.Installs(); len(recs) != 0 {
		t.Errorf("records left: %+v", recs)
	}
	if att := h.app(app.id()).Attempts; att.Runs != 1 || att.Count != 0 {
		t.Errorf("new revision attempts %+v, want 1 run", att)
	}
	// Once finished, a record is not finished again.
	h.clock.Advance(DefaultRetryInterval)
	h.sync()
	if n := strings.Count(h.log(), "is gone without a result"); n != 1 {
		t.Errorf("lost run finished %d times, want 1", n)
	}
}

// A recorded run whose failure was already counted (the agent died
// between counting and deleting the record) is not counted again.
func TestRecordedAttemptCountedOnce(t *testing.T) {
	app := fileApp("Counted", "required")
	h := newHarness(t, []testApp{app}, nil)
	a := h.agent
	key := app.id() + "_1"
	must(t, a.store.PutAttempts(state.DeviceUser, key, state.Attempts{Count: 1, Last: h.clock.Now().Add(-DefaultRetryInterval)}))
	pol, _ := json.Marshal(imeapi.Policy{AppID: app.id(), Version: "1", Intent: imeapi.IntentRequired})
	must(t, a.store.PutInstall(state.Install{User: state.DeviceUser, Key: key, AppID: app.id(), Version: "1", Mode: string(modeInstall),
		Dir: filepath.Join(a.layout.IMECache, key), ResultPath: filepath.Join(a.layout.Staging, key+".reap.json"),
		Attempt: 1, Started: h.clock.Now(), Policy: pol}))
	h.sync()
	if att := h.app(app.id()).Attempts; att.Count != 1 {
		t.Errorf("attempts %+v, want the one failure counted once", att)
	}
	if !strings.Contains(h.log(), "Attempt 1 of app "+app.id()+" is already counted") {
		t.Errorf("no already-counted line:\n%s", h.log())
	}
}
