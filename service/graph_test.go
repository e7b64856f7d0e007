package service

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/service/filter"
)

// What loading decides for Microsoft's examples (see TestGraphBodies).
const (
	// assignedGraphID is imeapi.FolderID("graph"), the folder of the
	// create bodies here: written out so that a change of the derivation
	// (which would move every installed app's key) fails this test.
	assignedGraphID  = "ef05ec50-b6e6-8a92-bdfc-5d7a90ad257a"
	msID             = "9607b530-b530-9607-30b5-079630b50796"
	msVersion        = "Committed-Content-Version-value-c7d50bf9"
	msRelease        = "minimumSupportedWindowsRelease=Minimum Supported Windows Release value"
	msAssigned       = `id: not in body; assigned ` + assignedGraphID + ` (derived from the folder name "graph", the same at every load)`
	msVersionWarning = `committedContentVersion: "Committed Content Version value" is not a safe folder name; content version ` + msVersion + ` (the label is kept)`
	msNoDetection    = "rules: no detection rule; loaded but not installable: the agent cannot detect the app and reports 0x87D1041C (not detected) without running its installer"
)

// TestGraphBodies (issue 12, acceptance 1): every body in
// testdata/graph, shaped as Graph publishes and returns win32LobApp (v1.0
// and beta, create and GET, value-wrapped, #-less and any-case types,
// nested @odata.type, IEEE754 Int64 strings, committedContentVersion
// only, every rule type), and Microsoft's own examples from the Graph
// reference pages as published (placeholders included), loads through
// readApp as serve reads app.json, with exactly these ignored and
// unsupported fields and warnings. An example with an unsupported field
// (the placeholder minimumSupportedWindowsRelease is no Windows release
// the agent can compare) is refused by admit unless --allow-unsupported.
func TestGraphBodies(t *testing.T) {
	cases := []struct {
		file        string
		id, version string
		size        imeapi.Int64
		ignored     []string
		unsupported []string
		warnings    []string
	}{
		{"beta-create.json", "3d2c1b0a-9f8e-4d7c-8b6a-5f4e3d2c1b0a", "1", 4,
			[]string{"dependentAppCount", "developer", "informationUrl", "isAssigned", "isFeatured", "largeIcon", "notes", "owner", "privacyInformationUrl", "publishingState", "roleScopeTagIds", "supersededAppCount", "supersedingAppCount", "uploadState"},
			[]string{"activeInstallScript=c0ffee00-0000-4000-8000-000000000001", "activeUninstallScript=c0ffee00-0000-4000-8000-000000000002"}, nil},
		{"beta-get.json", "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d", "3", 20971520,
			[]string{"assignments[0].source", "createdDateTime", "dependentAppCount", "isAssigned", "isFeatured", "lastModifiedDateTime", "publishingState", "roleScopeTagIds", "supersededAppCount", "supersedingAppCount", "uploadState"},
			[]string{}, nil}, // installTimeSettings, relationships: done by the agent
		{"rules-every-type.json", "d4c3b2a1-0f9e-4d8c-b7a6-9f8e7d6c5b4a", "7", 0,
			[]string{},
			[]string{"detectionRules[0].detectionType=version", "rules[6].enforceSignatureCheck=true", "rules[6].runAsAccount=user"}, nil},
		{"unknown-future.json", "e1d2c3b4-a5f6-4e7d-8c9b-0a1b2c3d4e5f", "1", 0,
			[]string{},
			[]string{"installExperience.deviceRestartBehavior=unknownFutureValue", "rules[0].operator=unknownFutureValue"}, nil},
		{"v1-create.json", "6c1a9f3e-2b4d-4e8f-9a0b-1c2d3e4f5a61", "1", 4796210,
			[]string{"developer", "informationUrl", "isFeatured", "largeIcon", "notes", "owner", "privacyInformationUrl", "publishingState"},
			[]string{}, nil},
		{"v1-get.json", "0f9e8d7c-6b5a-4c3d-8e2f-1a0b9c8d7e6f", "2", 1582118,
			[]string{"createdDateTime", "informationUrl", "isFeatured", "lastModifiedDateTime", "publishingState"},
			[]string{"rules[1].operationType=appVersion"}, nil},
		{"value-wrapped.json", "b7c6d5e4-f3a2-4b1c-9d0e-8f7a6b5c4d3e", "5", 61341696,
			[]string{},
			[]string{}, nil},
		// Microsoft's own examples, as the Graph reference pages publish
		// them (testdata/graph/SOURCES.md): placeholders and all.
		{"ms-beta-create-request.json", assignedGraphID, msVersion, 4,
			[]string{"dependentAppCount", "developer", "informationUrl", "isAssigned", "isFeatured", "largeIcon", "notes", "owner", "privacyInformationUrl", "publishingState", "roleScopeTagIds", "supersededAppCount", "supersedingAppCount", "uploadState"},
			[]string{"activeInstallScript=Target Id value", "activeUninstallScript=Target Id value", msRelease},
			[]string{msAssigned, msVersionWarning}},
		{"ms-beta-create-response.json", msID, msVersion, 4,
			[]string{"createdDateTime", "dependentAppCount", "developer", "informationUrl", "isAssigned", "isFeatured", "largeIcon", "lastModifiedDateTime", "notes", "owner", "privacyInformationUrl", "publishingState", "roleScopeTagIds", "supersededAppCount", "supersedingAppCount", "uploadState"},
			[]string{"activeInstallScript=Target Id value", "activeUninstallScript=Target Id value", msRelease},
			[]string{msVersionWarning}},
		{"ms-beta-get-response.json", msID, msVersion, 4,
			[]string{"createdDateTime", "dependentAppCount", "developer", "informationUrl", "isAssigned", "isFeatured", "largeIcon", "lastModifiedDateTime", "notes", "owner", "privacyInformationUrl", "publishingState", "roleScopeTagIds", "supersededAppCount", "supersedingAppCount", "uploadState"},
			[]string{msRelease},
			[]string{msVersionWarning}},
		{"ms-v1-create-request.json", assignedGraphID, msVersion, 4,
			[]string{"developer", "informationUrl", "isFeatured", "largeIcon", "notes", "owner", "privacyInformationUrl", "publishingState"},
			[]string{msRelease},
			[]string{msAssigned, msVersionWarning, msNoDetection}},
		{"ms-v1-create-response.json", msID, msVersion, 4,
			[]string{"createdDateTime", "developer", "informationUrl", "isFeatured", "largeIcon", "lastModifiedDateTime", "notes", "owner", "privacyInformationUrl", "publishingState"},
			[]string{msRelease},
			[]string{msVersionWarning, msNoDetection}},
		{"ms-v1-get-response.json", msID, msVersion, 4,
			[]string{"createdDateTime", "developer", "informationUrl", "isFeatured", "largeIcon", "lastModifiedDateTime", "notes", "owner", "privacyInformationUrl", "publishingState"},
			[]string{msRelease},
			[]string{msVersionWarning, msNoDetection}},
	}
	for _, c := range cases {
		g, err := readApp(filepath.Join("testdata/graph", c.file))
		if err != nil {
			t.Errorf("%s: %v", c.file, err)
			continue
		}
		r := g.Review()
		if g.ID != c.id || g.Version != c.version || g.Size != c.size {
			t.Errorf("%s: id %s version %s size %d, want %s %s %d", c.file, g.ID, g.Version, g.Size, c.id, c.version, c.size)
		}
		if !slices.Equal(r.Ignored, c.ignored) {
			t.Errorf("%s: ignored\n%q\nwant\n%q", c.file, r.Ignored, c.ignored)
		}
		if !slices.Equal(r.Unsupported, c.unsupported) {
			t.Errorf("%s: unsupported\n%q\nwant\n%q", c.file, r.Unsupported, c.unsupported)
		}
		if c.warnings == nil {
			c.warnings = []string{}
		}
		if !slices.Equal(r.Warnings, c.warnings) {
			t.Errorf("%s: warnings\n%q\nwant\n%q", c.file, r.Warnings, c.warnings)
		}
		refused, unsupported := admit(filepath.Dir(c.file), &g, r, testFilters(t), false)
		if len(refused) > 0 || len(c.unsupported) > 0 != (unsupported != nil && errors.Is(unsupported, ErrUnsupported)) {
			t.Errorf("%s: admit without --allow-unsupported: %v, %v", c.file, refused, unsupported)
		}
		if refused, unsupported := admit(filepath.Dir(c.file), &g, r, testFilters(t), true); len(refused) > 0 || unsupported != nil {
			t.Errorf("%s: admit with --allow-unsupported: %v, %v", c.file, refused, unsupported)
		}
	}
}

// testFilters are the filters of service/filter's testdata.
func testFilters(t *testing.T) map[string]*filter.Filter {
	t.Helper()
	fs, err := filter.ReadFile("filter/testdata/filters.json")
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

// TestGraphNormalized: what decoding makes of Graph's spellings, as the
// agent then sees it in the policy.
func TestGraphNormalized(t *testing.T) {
	load := func(f string) imeapi.Win32LobApp {
		t.Helper()
		g, err := readApp(filepath.Join("testdata/graph", f))
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	g := load("v1-get.json")
	if r := g.Rules[0]; r.ODataType != imeapi.TypeProductCodeRule || r.RuleType != "detection" {
		t.Errorf("product-code rule without ruleType: %s %q, want a detection rule", r.ODataType, r.RuleType)
	}
	if tt := g.Assignments[0].Target.ODataType; tt != imeapi.TypeAllUsers {
		t.Errorf("allLicensedUsers target %q", tt)
	}
	w := load("value-wrapped.json")
	if w.ODataType != imeapi.TypeWin32LobApp || w.Rules[0].ODataType != imeapi.TypeFileSystemRule || w.Assignments[0].Target.ODataType != imeapi.TypeAllDevices {
		t.Errorf("any-case and #-less types not canonical: %q %q %q", w.ODataType, w.Rules[0].ODataType, w.Assignments[0].Target.ODataType)
	}
	b := load("beta-get.json")
	if m := b.MinimumSupportedOperatingSystem; m == nil || m.ODataType != imeapi.TypeMinimumOS || m.Minimum() != "v10_1607" {
		t.Errorf("nested @odata.type in minimumSupportedOperatingSystem: %+v", m)
	}
	if len(b.Rules) != 2 || len(b.DetectionRules) != 1 || len(b.RequirementRules) != 1 {
		t.Errorf("rules and legacy rules at once: %d %d %d", len(b.Rules), len(b.DetectionRules), len(b.RequirementRules))
	}
	if got := b.EffectiveArchitectures(); !slices.Equal(got, []string{"x64", "arm64"}) || !b.AllowsArchitecture("arm64") || b.AllowsArchitecture("x86") {
		t.Errorf("allowedArchitectures x64,arm64 over none: %v", got)
	}
	if r := b.Relationships; len(r) != 2 || r[0].ODataType != imeapi.TypeDependency || r[0].DependencyType != imeapi.DependencyAutoInstall ||
		r[1].ODataType != imeapi.TypeSupersedence || r[1].SupersedenceType != imeapi.SupersedenceReplace {
		t.Errorf("relationships: %+v", r)
	}
	if tg := b.Assignments[0].Target; tg.FilterType != "include" || tg.FilterID != "9c2f3b6e-1d4a-4e8b-9f0a-5b7c8d9e0f11" {
		t.Errorf("filter on target: %+v", tg)
	}
}

// TestGraphRefusals: Graph-shaped bodies that still cannot load name the field.
func TestGraphRefusals(t *testing.T) {
	base := func(m map[string]any) { delete(m, "version"); m["committedContentVersion"] = "4" }
	cases := []struct {
		name  string
		raw   []byte
		field string
		msg   string
	}{
		{"two apps in value", []byte(`{"value":[{"id":"a"},{"id":"b"}]}`), "value", "2 apps"},
		{"value not an app", []byte(`{"value":"x"}`), "value", "app object"},
		{"size not a number", mutate(t, func(m map[string]any) { m["size"] = "12MB" }), "size", "Int64"},
		{"no version at all", mutate(t, func(m map[string]any) { delete(m, "version") }), "version", "committedContentVersion"},
		{"bad version", mutate(t, func(m map[string]any) { m["version"] = "Committed Content Version value" }), "version", "use 1-64"},
		{"minimum OS not a bool", mutate(t, func(m map[string]any) { m["minimumSupportedOperatingSystem"] = map[string]any{"v10_1607": "yes"} }), "minimumSupportedOperatingSystem.v10_1607", "true or false"},
		{"dependency type", mutate(t, func(m map[string]any) {
			m["relationships"] = []any{map[string]any{"@odata.type": "microsoft.graph.mobileAppDependency", "targetId": "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b", "dependencyType": "always"}}
		}), "relationships[0].dependencyType", "always"},
		{"relationship target", mutate(t, func(m map[string]any) {
			m["relationships"] = []any{map[string]any{"@odata.type": "microsoft.graph.mobileAppSupersedence", "targetId": "x", "supersedenceType": "update"}}
		}), "relationships[0].targetId", "GUID"},
		{"notifications", mutate(t, func(m map[string]any) {
			m["assignments"].([]any)[0].(map[string]any)["settings"].(map[string]any)["notifications"] = "sometimes"
		}), "assignments[0].settings.notifications", "sometimes"},
		{"restart grace period", mutate(t, func(m map[string]any) {
			m["assignments"].([]any)[0].(map[string]any)["settings"].(map[string]any)["restartSettings"] = map[string]any{"gracePeriodInMinutes": -5}
		}), "assignments[0].settings.restartSettings.gracePeriodInMinutes", "negative"},
		{"filter type", mutate(t, func(m map[string]any) {
			m["assignments"].([]any)[0].(map[string]any)["target"].(map[string]any)["deviceAndAppManagementAssignmentFilterType"] = "maybe"
		}), "assignments[0].target.deviceAndAppManagementAssignmentFilterType", "maybe"},
	}
	for _, c := range cases {
		dir := t.TempDir()
		p := filepath.Join(dir, AppFile)
		if err := os.WriteFile(p, c.raw, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := readApp(p)
		var ae *AppError
		if !errors.As(err, &ae) || ae.Field != c.field || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: %v (field %q), want field %q and %q", c.name, err, fieldOf(ae), c.field, c.msg)
		}
	}
	// committedContentVersion alone is the version.
	dir := t.TempDir()
	p := filepath.Join(dir, AppFile)
	os.WriteFile(p, mutate(t, base), 0o644)
	if g, err := readApp(p); err != nil || g.Version != "4" {
		t.Errorf("committedContentVersion only: %q %v", g.Version, err)
	}
}

func fieldOf(ae *AppError) string {
	if ae == nil {
		return ""
	}
	return ae.Field
}
