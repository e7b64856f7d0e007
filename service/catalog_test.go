package service

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/imepipe/imepipe/decrypt"
	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/internal/fixtures"
	"github.com/imepipe/imepipe/internal/linkfile"
)

// mutate decodes the example app.json into a generic map, applies f and re-encodes.
func mutate(t *testing.T, f func(m map[string]any)) []byte {
	t.Helper()
	data, err := os.ReadFile("testdata/app-example.json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func rule(m map[string]any, i int) map[string]any { return m["rules"].([]any)[i].(map[string]any) }

func TestAppValidation(t *testing.T) {
	pkg := fixtures.Path(t, "desktopinfo.intunewin")
	cases := []struct {
		name  string
		raw   func(t *testing.T) []byte
		field string
		msg   string
	}{
		{"syntax error", func(t *testing.T) []byte { return []byte("{\n  \"id\": ,\n}") }, "", "line 2"},
		{"id a number", func(t *testing.T) []byte { return mutate(t, func(m map[string]any) { m["id"] = 5 }) }, "id", "string"},
		{"id not a GUID", func(t *testing.T) []byte { return mutate(t, func(m map[string]any) { m["id"] = "../../etc" }) }, "id", "GUID"},
		{"version with a slash", func(t *testing.T) []byte { return mutate(t, func(m map[string]any) { m["version"] = "1/2" }) }, "version", "1/2"},
		{"no install command", func(t *testing.T) []byte { return mutate(t, func(m map[string]any) { m["installCommandLine"] = " " }) }, "installCommandLine", "required"},
		{"no uninstall command", func(t *testing.T) []byte {
			return mutate(t, func(m map[string]any) { delete(m, "uninstallCommandLine") })
		}, "uninstallCommandLine", "required"},
		{"wrong odata type", func(t *testing.T) []byte {
			return mutate(t, func(m map[string]any) { m["@odata.type"] = "#microsoft.graph.win32CatalogApp" })
		}, "@odata.type", "win32LobApp"},
		{"rule without path", func(t *testing.T) []byte { return mutate(t, func(m map[string]any) { delete(rule(m, 0), "path") }) }, "rules[0].path", "required"},
		{"rule type unknown", func(t *testing.T) []byte {
			return mutate(t, func(m map[string]any) { rule(m, 1)["@odata.type"] = "#microsoft.graph.win32LobAppMagicRule" })
		}, "rules[1].@odata.type", "Magic"},
		{"rule operator", func(t *testing.T) []byte {
			return mutate(t, func(m map[string]any) { rule(m, 1)["operator"] = "like" })
		}, "rules[1].operator", "like"},
		{"rule operation", func(t *testing.T) []byte {
			return mutate(t, func(m map[string]any) { rule(m, 1)["operationType"] = "exists2" })
		}, "rules[1].operationType", "exists2"},
		{"rule kind", func(t *testing.T) []byte {
			return mutate(t, func(m map[string]any) { rule(m, 1)["ruleType"] = "both" })
		}, "rules[1].ruleType", "both"},
		{"path a bool", func(t *testing.T) []byte { return mutate(t, func(m map[string]any) { rule(m, 0)["path"] = true }) }, "rules.path", "string"},
		{"return code type", func(t *testing.T) []byte {
			return mutate(t, func(m map[string]any) { m["returnCodes"].([]any)[2].(map[string]any)["type"] = "reboot" })
		}, "returnCodes[2].type", "reboot"},
		{"return code twice", func(t *testing.T) []byte {
			return mutate(t, func(m map[string]any) { m["returnCodes"].([]any)[2].(map[string]any)["returnCode"] = 0 })
		}, "returnCodes[2].returnCode", "twice"},
		{"run as", func(t *testing.T) []byte {
			return mutate(t, func(m map[string]any) { m["installExperience"].(map[string]any)["runAsAccount"] = "admin" })
		}, "installExperience.runAsAccount", "admin"},
		{"architecture", func(t *testing.T) []byte {
			return mutate(t, func(m map[string]any) { m["applicableArchitectures"] = "x64,sparc" })
		}, "applicableArchitectures", "sparc"},
		{"negative memory", func(t *testing.T) []byte { return mutate(t, func(m map[string]any) { m["minimumMemoryInMB"] = -1 }) }, "minimumMemoryInMB", "negative"},
		{"memory a string", func(t *testing.T) []byte { return mutate(t, func(m map[string]any) { m["minimumMemoryInMB"] = "1GB" }) }, "minimumMemoryInMB", "integer"},
		{"intent", func(t *testing.T) []byte {
			return mutate(t, func(m map[string]any) { m["assignments"].([]any)[0].(map[string]any)["intent"] = "always" })
		}, "assignments[0].intent", "always"},
		{"group without id", func(t *testing.T) []byte {
			return mutate(t, func(m map[string]any) {
				delete(m["assignments"].([]any)[1].(map[string]any)["target"].(map[string]any), "groupId")
			})
		}, "assignments[1].target.groupId", "required"},
		{"setup file of another package", func(t *testing.T) []byte {
			return mutate(t, func(m map[string]any) { m["setupFilePath"] = "setup.exe" })
		}, "setupFilePath", "setup.exe"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			apps := t.TempDir()
			dir := writeAppDir(t, apps, "app", imeapi.Win32LobApp{}, tc.raw(t), pkg)
			g, err := readApp(filepath.Join(dir, AppFile))
			if err == nil {
				var p *pkgFile
				var refused []*AppError
				p, refused = openPackage(dir, &g)
				if p != nil {
					p.f.Close()
				}
				err = refusal(refused)
			}
			var ae *AppError
			if !errors.As(err, &ae) || !errors.Is(err, ErrApp) {
				t.Fatalf("err %v, want an AppError", err)
			}
			if ae.File != filepath.Join(dir, AppFile) || ae.Field != tc.field || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("got file %s field %q: %v; want %s, field %q, message with %q", ae.File, ae.Field, err, AppFile, tc.field, tc.msg)
			}
			if !strings.Contains(err.Error(), AppFile) {
				t.Fatalf("message does not name the file: %v", err)
			}
		})
	}
}

// TestBadAppsSkipped: apps with a broken app.json or a package whose HMAC
// or layout fails are reported and skipped; the others are served.
func TestBadAppsSkipped(t *testing.T) {
	root := t.TempDir()
	apps := filepath.Join(root, "apps")
	good := fixtures.Path(t, "7zip.intunewin")
	writeAppDir(t, apps, "good", testApp(1, "good", "install.ps1"), nil, good)
	writeAppDir(t, apps, "badjson", imeapi.Win32LobApp{}, []byte(`{"id": [}`), good)
	writeAppDir(t, apps, "nopkg", testApp(3, "nopkg", ""), nil, "")
	twoPkgs := writeAppDir(t, apps, "twopkgs", testApp(4, "two", ""), nil, good)
	if err := linkfile.Make(mustAbs(t, fixtures.Path(t, "desktopinfo.intunewin")), filepath.Join(twoPkgs, "b.intunewin")); err != nil {
		t.Fatal(err)
	}
	writeAppDir(t, apps, "zz-dupid", testApp(1, "dup", ""), nil, fixtures.Path(t, "irfanview-backslash.intunewin"))
	// A package whose ciphertext has one bit flipped: HMAC fails.
	tampered := filepath.Join(root, "tampered.intunewin")
	flipCiphertext(t, fixtures.Path(t, "chocolatey-tool1.4.intunewin"), tampered)
	writeAppDir(t, apps, "tampered", testApp(5, "tampered", ""), nil, tampered)
	notZip := filepath.Join(root, "junk.intunewin")
	os.WriteFile(notZip, []byte("not a zip"), 0o644)
	writeAppDir(t, apps, "junk", testApp(6, "junk", ""), nil, notZip)

	logs := &logSink{}
	srv, err := NewContext(context.Background(), Config{AppsDir: apps, DataDir: filepath.Join(root, "data"), Logf: logs.Logf})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if got := srv.Apps(); len(got) != 1 || got[0].DisplayName != "good" {
		t.Fatalf("served %+v, want only good", got)
	}
	want := map[string]error{"badjson": ErrApp, "nopkg": ErrApp, "twopkgs": ErrApp, "zz-dupid": ErrApp, "tampered": decrypt.ErrMAC, "junk": decrypt.ErrNotPackage}
	for _, ae := range srv.Skipped() {
		name := filepath.Base(ae.Dir)
		if w, ok := want[name]; !ok || !errors.Is(ae, w) {
			t.Errorf("%s skipped with %v, want %v", name, ae, w)
		}
		delete(want, name)
	}
	if len(want) != 0 {
		t.Fatalf("not reported: %v", want)
	}
	if !strings.Contains(logs.String(), "app skipped") {
		t.Fatal("skips not logged")
	}
	if _, err := os.Stat(filepath.Join(root, "data", "blobs", BlobName(testApp(5, "", "").ID, "1"))); !os.IsNotExist(err) {
		t.Fatalf("a blob was left for the tampered package: %v", err)
	}
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// flipCiphertext copies an .intunewin, flipping one bit inside the encrypted content.
func flipCiphertext(t *testing.T, src, dst string) {
	t.Helper()
	pkg, f, err := decrypt.OpenFile(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	// The section reader's offset in the file: find the content by its first bytes.
	head := make([]byte, 64)
	if _, err := pkg.Content.ReadAt(head, 0); err != nil {
		t.Fatal(err)
	}
	off := bytes.Index(data, head)
	if off < 0 {
		t.Fatal("content not found")
	}
	data[off+int(pkg.ContentSize)/2] ^= 0x10
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestUnknownFieldsKept: fields app.json has that Graph types here do not
// model reach the policy unchanged, at every level.
func TestUnknownFieldsKept(t *testing.T) {
	raw := mutate(t, func(m map[string]any) {
		m["largeIcon"] = map[string]any{"type": "image/png", "value": "iVBORw0KGgo="}
		rule(m, 0)["futureField"] = 42
		m["assignments"].([]any)[0].(map[string]any)["target"].(map[string]any)["deviceAndAppManagementAssignmentFilterType"] = "none"
	})
	var g imeapi.Win32LobApp
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	if err := g.Validate(); err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`"largeIcon":{"type":"image/png","value":"iVBORw0KGgo="}`, `"futureField":42`,
		`"notes":"Unknown fields`, `"deviceAndAppManagementAssignmentFilterType":"none"`, `"@odata.type":"microsoft.graph.win32LobAppInstallExperience"`} {
		if !bytes.Contains(out, []byte(s)) {
			t.Errorf("re-encoded app lacks %s", s)
		}
	}
	var back imeapi.Win32LobApp
	if err := json.Unmarshal(out, &back); err != nil || back.Validate() != nil || back.Rules[0].Path != g.Rules[0].Path {
		t.Fatalf("round trip: %v", err)
	}
	// And through the server: the policy carries them, without the assignments.
	root := t.TempDir()
	writeAppDir(t, filepath.Join(root, "apps"), "a", imeapi.Win32LobApp{}, raw, fixtures.Path(t, "desktopinfo.intunewin"))
	e := &env{clock: newClock(), logs: &logSink{}}
	e.cfg = Config{AppsDir: filepath.Join(root, "apps"), DataDir: filepath.Join(root, "data"), Now: e.clock.Now, Logf: e.logs.Logf}
	e.start(t)
	c, _ := e.enroll(t, "pc")
	pol, err := c.Policies(context.Background())
	if err != nil || len(pol.Policies) != 1 {
		t.Fatalf("policies %+v, %v; skipped %v", pol, err, e.srv.Skipped())
	}
	p := pol.Policies[0]
	if !bytes.Contains(p.App, []byte(`"futureField":42`)) || !bytes.Contains(p.App, []byte(`"largeIcon"`)) || bytes.Contains(p.App, []byte(`"assignments"`)) {
		t.Fatalf("policy app %s", p.App)
	}
	if p.DeliveryOptimizationPriority != "foreground" || p.Intent != imeapi.IntentRequired {
		t.Fatalf("policy %+v", p)
	}
}

// TestBlobCache: the second start reuses the cached blob (same file, not
// rewritten); a changed package is cut again.
func TestBlobCache(t *testing.T) {
	e := newEnv(t)
	a := e.srv.Apps()[0]
	blobPath := filepath.Join(e.cfg.DataDir, "blobs", a.BlobName)
	st1, err := os.Stat(blobPath)
	if err != nil {
		t.Fatal(err)
	}
	// Mark the cached blob; a rewrite would lose the mark.
	os.Chmod(blobPath, 0o640)
	e.stop()
	e.start(t)
	st2, err := os.Stat(blobPath)
	// (Windows keeps no mode bits: there the modification time alone tells.)
	if err != nil || (runtime.GOOS != "windows" && st2.Mode().Perm() != 0o640) || !st2.ModTime().Equal(st1.ModTime()) {
		t.Fatalf("cached blob rewritten: %v %v", st2.Mode(), err)
	}
	// Corrupt the cache record: the blob is cut again, and verified.
	os.WriteFile(blobPath+".json", []byte("{"), 0o600)
	e.stop()
	e.start(t)
	st3, err := os.Stat(blobPath)
	if err != nil || st3.Mode().Perm() == 0o640 {
		t.Fatalf("blob not cut again after the cache record broke: %v", err)
	}
	f, _ := os.Open(blobPath)
	defer f.Close()
	n, _ := io.Copy(io.Discard, f)
	if n != a.Size {
		t.Fatalf("blob is %d bytes, want %d", n, a.Size)
	}
}

func TestIntent(t *testing.T) {
	var g imeapi.Win32LobApp
	data, _ := os.ReadFile("testdata/app-example.json")
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		groups []string
		want   imeapi.Intent
	}{
		{nil, imeapi.IntentRequired},
		{[]string{"0b6c8f1e-58a4-4b6e-8a7e-2f1d6c9b4a33"}, imeapi.IntentRequired},         // required beats uninstall
		{[]string{"7d1e2c3b-4a5f-4e6d-9c8b-1a2b3c4d5e6f"}, imeapi.IntentNotTargeted},      // excluded
		{[]string{"x", "7d1e2c3b-4a5f-4e6d-9c8b-1a2b3c4d5e6f"}, imeapi.IntentNotTargeted}, // excluded wins
	}
	for _, tc := range cases {
		if got, _ := intentFor(&g, viewer{groups: tc.groups}); got != tc.want {
			t.Errorf("groups %v: intent %d, want %d", tc.groups, got, tc.want)
		}
	}
	g.Assignments = g.Assignments[1:] // only the uninstall group and the exclusion remain
	if got, _ := intentFor(&g, viewer{groups: []string{"0b6c8f1e-58a4-4b6e-8a7e-2f1d6c9b4a33"}}); got != imeapi.IntentUninstall {
		t.Errorf("uninstall group: %d", got)
	}
	if got, _ := intentFor(&g, viewer{}); got != imeapi.IntentNotTargeted {
		t.Errorf("no group: %d", got)
	}
}

// TestReadmeExample: the README's example is the committed testdata file, and valid.
func TestReadmeExample(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"testdata/app-example.json", "testdata/app-legacy.json"} {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(readme, bytes.TrimSpace(data)) {
			t.Errorf("README.md does not contain %s verbatim", f)
		}
		var g imeapi.Win32LobApp
		if err := json.Unmarshal(data, &g); err != nil {
			t.Fatal(err)
		}
		if err := g.Validate(); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func FuzzReadApp(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.json")
	graph, _ := filepath.Glob("testdata/graph/*.json")
	for _, s := range append(seeds, graph...) {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var g imeapi.Win32LobApp
		if json.Unmarshal(data, &g) != nil || g.Validate() != nil {
			return
		}
		out, err := json.Marshal(g)
		if err != nil {
			t.Fatalf("valid app does not encode: %v", err)
		}
		var back imeapi.Win32LobApp
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("re-encoded app does not decode: %v", err)
		}
		if err := back.Validate(); err != nil || back.ID != g.ID || back.Version != g.Version || len(back.Rules) != len(g.Rules) {
			t.Fatalf("round trip changed the app: %v", err)
		}
	})
}
