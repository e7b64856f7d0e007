package service

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/internal/fixtures"
)

// TestScripts (issue 12): beta-create.json names an install and an
// uninstall script; testdata/graph/scripts-list.json lists them as Graph
// does under the content version. With the list beside app.json they
// resolve (not unsupported, sent in the policy); without it, or naming
// another id, or with enforceSignatureCheck, they are unsupported; a
// broken list refuses the app, naming the field.
func TestScripts(t *testing.T) {
	body, err := os.ReadFile("testdata/graph/beta-create.json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	mustOK(t, json.Unmarshal(body, &m))
	m["setupFilePath"] = "" // the desktopinfo package's setup file is another
	m["minimumSupportedWindowsRelease"] = ""
	delete(m, "minimumSupportedOperatingSystem")
	app, _ := json.Marshal(m)
	list, err := os.ReadFile("testdata/graph/scripts-list.json")
	if err != nil {
		t.Fatal(err)
	}
	signed := strings.Replace(string(list), `"enforceSignatureCheck": false`, `"enforceSignatureCheck": true`, 1)
	pkg := fixtures.Path(t, "desktopinfo.intunewin")
	cases := []struct {
		name, scripts string
		loaded        bool
		unsupported   []string
		errField      string
	}{
		{"resolved", string(list), true, []string{}, ""},
		{"no list", "", false, []string{"activeInstallScript=c0ffee00-0000-4000-8000-000000000001", "activeUninstallScript=c0ffee00-0000-4000-8000-000000000002"}, ""},
		{"other ids", strings.ReplaceAll(string(list), "c0ffee00-0000-4000-8000-00000000000", "deadbeef-0000-4000-8000-00000000000"), false,
			[]string{"activeInstallScript=c0ffee00-0000-4000-8000-000000000001", "activeUninstallScript=c0ffee00-0000-4000-8000-000000000002"}, ""},
		{"signature check", signed, false, []string{"activeInstallScript.enforceSignatureCheck=true"}, ""},
		{"bad base64", strings.Replace(string(list), `"content": "`, `"content": "%%`, 1), false, []string{}, "value[0].content"},
		{"unknown type", strings.Replace(string(list), "InstallPowerShellScript", "InstallShellScript", 1), false, []string{}, "value[0].@odata.type"},
		{"no id", strings.Replace(string(list), `"id": "c0ffee00-0000-4000-8000-000000000001"`, `"id": ""`, 1), false, []string{}, "value[0].id"},
		{"not a list", `{"value": 5}`, false, []string{}, "value"},
	}
	for _, c := range cases {
		apps := t.TempDir()
		dir := writeAppDir(t, apps, "lob", imeapi.Win32LobApp{}, app, pkg)
		if c.scripts != "" {
			mustOK(t, os.WriteFile(filepath.Join(dir, ScriptsFile), []byte(c.scripts), 0o644))
		}
		checks, err := CheckApps(context.Background(), apps, false)
		if err != nil || len(checks) != 1 {
			t.Fatalf("%s: %v %v", c.name, checks, err)
		}
		ch := checks[0]
		if ch.Loaded != c.loaded || !slices.Equal(ch.Unsupported, c.unsupported) {
			t.Errorf("%s: loaded %v unsupported %q (%s), want %v %q", c.name, ch.Loaded, ch.Unsupported, ch.Error, c.loaded, c.unsupported)
		}
		if c.errField != "" && !strings.Contains(ch.Error, ScriptsFile+": "+c.errField+":") {
			t.Errorf("%s: error %q does not name %s", c.name, ch.Error, c.errField)
		}
	}

	// Served: the policy carries both scripts.
	apps := t.TempDir()
	dir := writeAppDir(t, apps, "lob", imeapi.Win32LobApp{}, app, pkg)
	mustOK(t, os.WriteFile(filepath.Join(dir, ScriptsFile), list, 0o644))
	c, err := loadCatalog(context.Background(), apps, loadOptions{blobDir: t.TempDir(), logf: t.Logf})
	if err != nil || len(c.apps) != 1 {
		t.Fatalf("catalog: %v %v", err, c.skipped)
	}
	var p imeapi.Policy
	mustOK(t, json.Unmarshal(c.apps[0].policies[policyKey{intent: imeapi.IntentRequired}], &p))
	if p.InstallScript == nil || p.InstallScript.ID != "c0ffee00-0000-4000-8000-000000000001" || p.UninstallScript == nil || !p.UninstallScript.RunAs32Bit {
		t.Errorf("policy scripts: %+v %+v", p.InstallScript, p.UninstallScript)
	}
	if s, err := p.InstallScript.Script(); err != nil || !strings.Contains(string(s), "install.cmd") {
		t.Errorf("install script content %q %v", s, err)
	}
}

// FuzzParseScripts: any scripts list either parses into scripts whose
// content decodes within Graph's limit, or is refused; never a panic.
func FuzzParseScripts(f *testing.F) {
	seed, err := os.ReadFile("testdata/graph/scripts-list.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"value":[{"@odata.type":"microsoft.graph.win32LobAppInstallPowerShellScript","id":"x","content":"eA=="}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		scripts, err := imeapi.ParseScripts(data)
		if err != nil {
			return
		}
		for _, s := range scripts {
			b, err := s.Script()
			if err != nil || len(b) > imeapi.MaxScriptBytes || s.ID == "" {
				t.Fatalf("accepted script %+v: %v", s, err)
			}
		}
	})
}

func mustOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestCheckVerdictNamesFileOnce: a refused app's verdict names the file
// relative to its folder (the folder is beside it), without the package
// prefix or the folder again. The folder holds a package, so that
// app.json is its only reason.
func TestCheckVerdictNamesFileOnce(t *testing.T) {
	apps := t.TempDir()
	dir := writeAppDir(t, apps, "broken", imeapi.Win32LobApp{}, []byte("{bad"), fixtures.Path(t, "7zip.intunewin"))
	checks, err := CheckApps(context.Background(), apps, false)
	if err != nil || len(checks) != 1 || checks[0].Loaded {
		t.Fatalf("%+v %v", checks, err)
	}
	if e := checks[0].Error; !strings.HasPrefix(e, AppFile+": ") || strings.Contains(e, "service:") || strings.Contains(e, dir) {
		t.Errorf("verdict %q: want it to start with %q, with neither the package nor the folder", e, AppFile+": ")
	}
}
