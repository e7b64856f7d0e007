package orchestrate

import (
	"context"
	"os"
	"testing"

	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/orchestrate/rules"
)

// TestRegistryDetectionEndToEnd: an MSI-style app detected by product
// code; its installer registers the code through the emulated registry.
func TestRegistryDetectionEndToEnd(t *testing.T) {
	const code = "{11111111-2222-3333-4444-555555555555}"
	app := fileApp("Msi", "required").with("rules", nil, "detectionRules", []any{map[string]any{
		"@odata.type": imeapi.TypeProductCodeDetection, "productCode": code, "productVersionOperator": "greaterThanOrEqual", "productVersion": "2.0",
	}})
	h := newHarness(t, []testApp{app}, nil)
	// The "installer" is simulated by the admin adding the key first: detection finds it and nothing runs.
	_, err := h.agent.Reg(context.Background(), RegRequest{Action: "add", Key: rules.UninstallKey + `\` + code, Value: "DisplayVersion", HasValue: true, Data: "2.1.0"})
	must(t, err)
	h.sync()
	h.wantState(app.id(), imeapi.EnforcementSuccess, imeapi.ComplianceInstalled, 0)
	if _, err := os.Stat(h.programFiles("Msi", "app.txt")); !os.IsNotExist(err) {
		t.Fatal("installer ran although the product code was registered")
	}
}
