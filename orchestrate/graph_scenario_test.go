package orchestrate

import (
	"runtime"
	"testing"

	"github.com/imepipe/imepipe/imeapi"
)

// Scenarios of issue 12 through the service and the agent: architectures
// (allowedArchitectures over applicableArchitectures "none"), assignment
// filters on device name and model, exclusion groups.

// TestAllowedArchitectures: Graph writes applicableArchitectures "none"
// when allowedArchitectures is set; the app installs on this machine's
// architecture and is not applicable (3000) on another.
func TestAllowedArchitectures(t *testing.T) {
	here := ArchOf(runtime.GOARCH)
	other := "x86"
	if here == "x86" {
		other = "arm64"
	}
	yes := fileApp("arch-here", "required").with("applicableArchitectures", "none", "allowedArchitectures", here)
	no := fileApp("arch-other", "required").with("applicableArchitectures", "none", "allowedArchitectures", other)
	h := newHarness(t, []testApp{yes, no}, func(c *Config) {
		sys := c.System
		c.System = func() (SystemInfo, error) {
			si, err := sys()
			si.Arch = here
			return si, err
		}
	})
	h.sync()
	h.wantState(yes.id(), imeapi.EnforcementSuccess, imeapi.ComplianceInstalled, 0)
	h.wantState(no.id(), imeapi.EnforcementRequirementsNotMet, imeapi.ComplianceNotInstalled, 0)
	if r := h.reported(no.id()); r == nil || r.EnforcementState != imeapi.EnforcementRequirementsNotMet {
		t.Fatalf("other architecture reported %+v, want 3000", r)
	}
}

// TestX64RunsOnArm64: an x64-only app is applicable on an arm64 device
// (emulation, as Intune has it), an arm64-only one is not on x86.
func TestX64RunsOnArm64(t *testing.T) {
	x64 := fileApp("x64-app", "required").with("applicableArchitectures", "none", "allowedArchitectures", "x64")
	h := newHarness(t, []testApp{x64}, func(c *Config) {
		c.System = func() (SystemInfo, error) {
			return SystemInfo{FreeDiskMB: 100000, MemoryMB: 8192, CPUs: 4, Arch: "arm64"}, nil
		}
	})
	h.sync()
	h.wantState(x64.id(), imeapi.EnforcementSuccess, imeapi.ComplianceInstalled, 0)
}

const scenarioFilters = `{"value": [
  {"id": "11111111-1111-4111-8111-111111111111", "displayName": "Lab PCs", "platform": "windows10AndLater",
   "rule": "(device.deviceName -startsWith \"LAB-\")"},
  {"id": "22222222-2222-4222-8222-222222222222", "displayName": "Surface", "platform": "windows10AndLater",
   "rule": "device.model -contains \"surface\" and device.manufacturer -eq \"Microsoft Corporation\""}
]}`

// filtered is an app assigned to all devices through filter id as kind.
func filtered(name, id, kind string) testApp {
	return fileApp(name, "required").with("assignments", []any{map[string]any{"intent": "required", "target": map[string]any{
		"@odata.type": "microsoft.graph.allDevicesAssignmentTarget", // as Graph writes nested types
		"deviceAndAppManagementAssignmentFilterId":   id,
		"deviceAndAppManagementAssignmentFilterType": kind,
	}}})
}

// TestAssignmentFilters: include and exclude filters on device name and
// model, evaluated by the service against the properties the agent reports.
func TestAssignmentFilters(t *testing.T) {
	const lab, surface = "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"
	apps := []testApp{
		filtered("incl-name", lab, "include"),
		filtered("excl-name", lab, "exclude"),
		filtered("incl-model", surface, "include"),
		filtered("excl-model", surface, "exclude"),
	}
	for _, dev := range []struct {
		name, model string
		want        [4]bool // installed: incl-name, excl-name, incl-model, excl-model
	}{
		{"LAB-07", "Surface Laptop 5", [4]bool{true, false, true, false}},
		{"OFFICE-1", "OptiPlex 7090", [4]bool{false, true, false, true}},
	} {
		t.Run(dev.name, func(t *testing.T) {
			h := newHarnessFilters(t, apps, scenarioFilters, func(c *Config) {
				c.DeviceName = dev.name
				c.DeviceProperties = map[string]string{"model": dev.model, "manufacturer": "Microsoft Corporation"}
			})
			h.sync()
			pol, err := h.agent.client.Policies(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]bool{}
			for _, p := range pol.Policies {
				got[p.AppID] = true
			}
			for i, ap := range apps {
				if got[ap.id()] != dev.want[i] {
					t.Errorf("%s: %s targeted %v, want %v", dev.name, ap.name, got[ap.id()], dev.want[i])
				}
				if dev.want[i] {
					h.wantState(ap.id(), imeapi.EnforcementSuccess, imeapi.ComplianceInstalled, 0)
				} else if r := h.reported(ap.id()); r != nil {
					t.Errorf("%s: %s was attempted: %+v", dev.name, ap.name, r)
				}
			}
		})
	}
}

// TestFilterFollowsSync: properties reported at a later sync replace
// those of the enrollment: renaming the device into the lab brings the
// include-filtered app.
func TestFilterFollowsSync(t *testing.T) {
	ap := filtered("later", "11111111-1111-4111-8111-111111111111", "include")
	h := newHarnessFilters(t, []testApp{ap}, scenarioFilters, func(c *Config) {
		c.DeviceProperties = map[string]string{"deviceName": "OFFICE-2"}
	})
	h.sync()
	if pol, err := h.agent.client.Policies(t.Context()); err != nil || len(pol.Policies) != 0 {
		t.Fatalf("OFFICE-2: %d policies (%v), want none", len(pol.Policies), err)
	}
	h.agent.client.DeviceProperties = map[string]string{"deviceName": "LAB-2"}
	h.sync()
	h.wantState(ap.id(), imeapi.EnforcementSuccess, imeapi.ComplianceInstalled, 0)
}

// TestExclusionGroupWins: an exclusion group beats an inclusion of the
// same app, whatever the order of the assignments.
func TestExclusionGroupWins(t *testing.T) {
	const excluded, included = "7d1e2c3b-4a5f-4e6d-9c8b-1a2b3c4d5e6f", "0b6c8f1e-58a4-4b6e-8a7e-2f1d6c9b4a33"
	ap := fileApp("excluded", "required").with("assignments", []any{
		map[string]any{"intent": "required", "target": map[string]any{"@odata.type": "#microsoft.graph.groupAssignmentTarget", "groupId": included}},
		map[string]any{"intent": "required", "target": map[string]any{"@odata.type": "microsoft.graph.exclusionGroupAssignmentTarget", "groupId": excluded}},
	})
	other := fileApp("included", "required").with("assignments", []any{
		map[string]any{"intent": "required", "target": map[string]any{"@odata.type": "#microsoft.graph.groupAssignmentTarget", "groupId": included}},
	})
	h := newHarness(t, []testApp{ap, other}, func(c *Config) { c.Groups = []string{included, excluded} })
	h.sync()
	h.wantState(other.id(), imeapi.EnforcementSuccess, imeapi.ComplianceInstalled, 0)
	pol, err := h.agent.client.Policies(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pol.Policies {
		if p.AppID == ap.id() {
			t.Fatalf("excluded app is still a policy: %+v", p)
		}
	}
	if r := h.reported(ap.id()); r != nil {
		t.Fatalf("excluded app reported %+v", r)
	}
}
