package orchestrate

import (
	"context"
	"testing"

	"github.com/imepipe/imepipe/imeapi"
)

// TestStatusMarksSupersededRevision: when the policies name a newer
// content version of an app, the older revision's record is not in the
// last policies (before, status matched app ids only and showed it as
// assigned, and agent --once counted its old failure); a record an older
// agent wrote ("ids:") still marks by app id.
func TestStatusMarksSupersededRevision(t *testing.T) {
	h := newHarness(t, []testApp{fileApp("Kept", "required")}, nil)
	must(t, h.agent.Sync(context.Background()))
	notIn := func() map[string]bool {
		t.Helper()
		st, err := h.agent.Status(context.Background())
		must(t, err)
		if len(st.Apps) != 1 {
			t.Fatalf("status has %d apps, want 1", len(st.Apps))
		}
		return map[string]bool{st.Apps[0].AppID + "_" + st.Apps[0].Version: st.Apps[0].NotInPolicies}
	}
	st, err := h.agent.Status(context.Background())
	must(t, err)
	app := st.Apps[0]
	key := app.AppID + "_" + app.Version
	if notIn()[key] {
		t.Fatalf("%s marked not in the policies after a sync that served it", key)
	}
	h.agent.notePolicyApps([]imeapi.Policy{{AppID: app.AppID, Version: app.Version + "0"}})
	if !notIn()[key] {
		t.Errorf("%s not marked when the policies name version %s0 instead", key, app.Version)
	}
	must(t, h.agent.store.SetValue(policyAppsKey, "ids:"+app.AppID))
	if notIn()[key] {
		t.Errorf("an older agent's ids: record naming %s marks %s", app.AppID, key)
	}
	must(t, h.agent.store.SetValue(policyAppsKey, "keys:"))
	if !notIn()[key] {
		t.Errorf("an answer naming no app does not mark %s", key)
	}
}
