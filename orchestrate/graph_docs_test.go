package orchestrate

import (
	"os"
	"strings"
	"testing"

	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/orchestrate/state"
)

// TestGraphCreateBody: an app.json shaped like Graph's create examples
// (no id, a committedContentVersion label that is no folder name, no
// version) is served with the id its folder gives and a safe content
// version, and installs under them; an app without a detection rule is
// served, and the agent reports 0x87D1041C without running its installer.
func TestGraphCreateBody(t *testing.T) {
	const label = "Committed Content Version value"
	created := fileApp("created", "required").with("id", nil, "version", nil, "committedContentVersion", label)
	blind := fileApp("blind", "required").with("rules", []any{map[string]any{
		"@odata.type": "microsoft.graph.win32LobAppRegistryRule", "ruleType": "requirement",
		"keyPath": `HKEY_LOCAL_MACHINE\SOFTWARE\Contoso`, "operationType": "doesNotExist", "operator": "notConfigured",
	}})
	h := newHarness(t, []testApp{created, blind}, nil)
	h.sync()

	id, version := imeapi.FolderID("created"), imeapi.SafeVersion(label)
	st, err := h.agent.store.App(state.DeviceUser, id+"_"+version)
	if err != nil || st.Enforcement == nil || st.Enforcement.EnforcementState != imeapi.EnforcementSuccess {
		t.Fatalf("created app %s_%s: %+v %v\nlog:\n%s", id, version, st, err, h.log())
	}
	if r := h.reported(id); r == nil || r.Version != version || r.EnforcementState != imeapi.EnforcementSuccess {
		t.Fatalf("created app reported %+v", r)
	}

	h.wantState(blind.id(), imeapi.EnforcementError, imeapi.ComplianceError, CodeNotDetected)
	if _, err := os.Stat(h.programFiles("blind", "app.txt")); !os.IsNotExist(err) {
		t.Errorf("the installer of an app without detection rule ran: %v", err)
	}
	if r := h.reported(blind.id()); r == nil || r.ErrorCode != CodeNotDetected || r.ErrorMessage != errNoDetection {
		t.Errorf("no-detection app reported %+v", r)
	}
	if !strings.Contains(h.log(), "has no detection rule") {
		t.Errorf("log does not say why:\n%s", h.log())
	}
}
