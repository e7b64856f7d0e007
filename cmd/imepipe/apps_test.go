package main

import (
	"bytes"
	"encoding/json"
	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/internal/fixtures"
	"github.com/imepipe/imepipe/internal/linkfile"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// appsFolder writes an apps folder with a good, an unsupported and a
// broken app, each with the desktopinfo package.
func appsFolder(t *testing.T) string {
	t.Helper()
	example, err := os.ReadFile("../../service/testdata/app-example.json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(example, &m); err != nil {
		t.Fatal(err)
	}
	pkg := fixtures.Path(t, "desktopinfo.intunewin")
	apps := t.TempDir()
	write := func(name string, data []byte) {
		dir := filepath.Join(apps, name)
		os.MkdirAll(dir, 0o755)
		if err := os.WriteFile(filepath.Join(dir, "app.json"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := linkfile.Make(pkg, filepath.Join(dir, "desktopinfo.intunewin")); err != nil {
			t.Fatal(err)
		}
	}
	write("1-good", example)
	delete(m, "id")                                        // a create body: the folder's name gives its id, with a warning
	m["minimumSupportedWindowsRelease"] = "Windows12_99H9" // a release the agent cannot compare
	unsupported, _ := json.Marshal(m)
	write("2-unsupported", unsupported)
	write("3-broken", []byte(`{"id": "5f0c6b0e-3b8a-4d0e-9a51-2d6f1c3e7a12", "displayName": }`))
	return apps
}

// TestAppsCheck (issue 12, acceptance 3): one good, one unsupported and
// one broken app: exit 1, the three verdicts, in text and in JSON;
// nothing is written into the apps folder.
func TestAppsCheck(t *testing.T) {
	apps := appsFolder(t)
	before := listTree(t, apps)
	code, stdout, stderr := runCLI(t, "apps", "check", apps)
	if code != 1 || !strings.Contains(stderr, "2 of 3 apps refused") || strings.Count(stderr, "\n") != 1 {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	lines := strings.Split(stdout, "\n")
	wantIn := []struct{ dir, verdict string }{
		{"1-good", "\tloaded"},
		{"2-unsupported", "refused (unsupported settings; serve --allow-unsupported serves it)"},
		{"3-broken", "refused: app.json: invalid value: malformed JSON"},
	}
	for _, w := range wantIn {
		found := false
		for _, l := range lines {
			if strings.Contains(l, w.dir) && strings.Contains(l, w.verdict) {
				found = true
			}
		}
		if !found {
			t.Errorf("no line for %s with %q:\n%s", w.dir, w.verdict, stdout)
		}
	}
	if !strings.Contains(stdout, "  unsupported: minimumSupportedWindowsRelease=Windows12_99H9") || !strings.Contains(stdout, "  ignored: notes") {
		t.Errorf("fields not listed:\n%s", stdout)
	}
	if !strings.Contains(stdout, "  warnings: id: not in body; assigned "+imeapi.FolderID("2-unsupported")) {
		t.Errorf("assigned id not warned:\n%s", stdout)
	}

	code, stdout, stderr = runCLI(t, "apps", "check", apps, "--json")
	if code != 1 {
		t.Fatalf("--json: exit %d, stderr %q", code, stderr)
	}
	var rep struct {
		Apps []map[string]json.RawMessage `json:"apps"`
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(stdout)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rep); err != nil || len(rep.Apps) != 3 {
		t.Fatalf("--json: %v, %d apps:\n%s", err, len(rep.Apps), stdout)
	}
	keys := []string{"dir", "displayName", "error", "id", "ignored", "loaded", "unsupported", "version", "warnings"}
	for i, a := range rep.Apps {
		var got []string
		for k := range a {
			got = append(got, k)
		}
		slices.Sort(got)
		if !slices.Equal(got, keys) {
			t.Errorf("app %d keys %v, want %v", i, got, keys)
		}
	}
	str := func(i int, k string) string {
		var s any
		json.Unmarshal(rep.Apps[i][k], &s)
		b, _ := json.Marshal(s)
		return string(b)
	}
	if str(0, "loaded") != "true" || str(0, "error") != `""` || str(0, "version") != `"1"` || str(0, "unsupported") != "[]" || str(0, "warnings") != "[]" ||
		str(0, "ignored") != `["notes"]` {
		t.Errorf("good app: %s", stdout)
	}
	if str(1, "loaded") != "false" || str(1, "unsupported") != `["minimumSupportedWindowsRelease=Windows12_99H9"]` || !strings.Contains(str(1, "error"), "unsupported settings") ||
		str(1, "id") != `"`+imeapi.FolderID("2-unsupported")+`"` || !strings.Contains(str(1, "warnings"), "id: not in body") {
		t.Errorf("unsupported app: %s", stdout)
	}
	if str(2, "loaded") != "false" || !strings.Contains(str(2, "error"), "malformed JSON") {
		t.Errorf("broken app: %s", stdout)
	}

	// --allow-unsupported: only the broken app is refused.
	if code, _, stderr := runCLI(t, "apps", "check", "--allow-unsupported", apps); code != 1 || !strings.Contains(stderr, "1 of 3 apps refused") {
		t.Errorf("--allow-unsupported: exit %d, %q", code, stderr)
	}
	if after := listTree(t, apps); !slices.Equal(before, after) {
		t.Errorf("apps check wrote into the apps folder: %v → %v", before, after)
	}
	// All good: exit 0.
	os.RemoveAll(filepath.Join(apps, "2-unsupported"))
	os.RemoveAll(filepath.Join(apps, "3-broken"))
	if code, stdout, stderr := runCLI(t, "apps", "check", apps); code != 0 || stderr != "" || !strings.Contains(stdout, "loaded") {
		t.Errorf("good folder: exit %d, %q %q", code, stdout, stderr)
	}
}

// TestAppsCheckEveryReason: Graph's v1 GET example beside a package of
// another setup file gets one verdict with both reasons (the setup file,
// then its unsupported setting, listed below it); a cut-off package and
// a missing app.json are one short reason each.
func TestAppsCheckEveryReason(t *testing.T) {
	apps := t.TempDir()
	pkg := fixtures.Path(t, "desktopinfo.intunewin")
	graph, err := os.ReadFile("../../service/testdata/graph/v1-get.json")
	if err != nil {
		t.Fatal(err)
	}
	example, err := os.ReadFile("../../service/testdata/app-example.json")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(pkg)
	if err != nil {
		t.Fatal(err)
	}
	for name, files := range map[string]map[string][]byte{
		"7zip":  {"app.json": graph, "desktopinfo.intunewin": data},
		"trunc": {"app.json": example, "install.intunewin": data[:416]},
		"empty": {"desktopinfo.intunewin": data},
	} {
		dir := filepath.Join(apps, name)
		os.MkdirAll(dir, 0o755)
		for f, b := range files {
			if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	code, stdout, stderr := runCLI(t, "apps", "check", apps)
	if code != 1 || stderr != "imepipe apps: 3 of 3 apps refused\n" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	for _, want := range []string{
		filepath.Join(apps, "7zip") + "\t0f9e8d7c-6b5a-4c3d-8e2f-1a0b9c8d7e6f\t\"7-Zip 23.01\"\tversion 2\t" + `refused: app.json: setupFilePath: invalid value: "7z2301-x64.msi", but the package's SetupFile is "install.ps1"; and unsupported settings (serve --allow-unsupported accepts those)` + "\n  unsupported: rules[1].operationType=appVersion\n",
		filepath.Join(apps, "trunc") + "\t5f0c6b0e-3b8a-4d0e-9a51-2d6f1c3e7a10\t\"DesktopInfo\"\tversion 1\trefused: install.intunewin: truncated or corrupt .intunewin (416 bytes, no readable ZIP directory)\n",
		filepath.Join(apps, "empty") + "\t-\t\"-\"\tversion -\trefused: app.json: missing\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("no lines\n%s\nin\n%s", want, stdout)
		}
	}
}

func listTree(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		out = append(out, p)
		return err
	})
	return out
}
