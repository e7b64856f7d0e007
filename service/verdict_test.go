package service

import (
	"archive/zip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imepipe/imepipe/decrypt"
	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/internal/fixtures"
	"github.com/imepipe/imepipe/internal/linkfile"
)

// TestCheckWording: each refusal of apps check is one reason worded for
// the folder's line: what to do about a missing or second package, a
// cut-off package as truncated (not archive/zip's words, the path once),
// a missing app.json as missing.
func TestCheckWording(t *testing.T) {
	root := t.TempDir()
	apps := filepath.Join(root, "apps")
	pkg := fixtures.Path(t, "desktopinfo.intunewin")
	writeAppDir(t, apps, "nopkg", testApp(1, "nopkg", ""), nil, "")
	two := writeAppDir(t, apps, "two", testApp(2, "two", ""), nil, "")
	for _, name := range []string{"a.intunewin", "b.intunewin"} {
		if err := linkfile.Make(mustAbs(t, pkg), filepath.Join(two, name)); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(pkg)
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(root, "install.intunewin")
	if err := os.WriteFile(cut, data[:416], 0o644); err != nil {
		t.Fatal(err)
	}
	writeAppDir(t, apps, "trunc", testApp(3, "trunc", ""), nil, cut)
	noJSON := filepath.Join(apps, "nojson")
	if err := os.MkdirAll(noJSON, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := linkfile.Make(mustAbs(t, pkg), filepath.Join(noJSON, "desktopinfo.intunewin")); err != nil {
		t.Fatal(err)
	}

	checks, err := CheckApps(context.Background(), apps, false)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"nopkg":  "no .intunewin in " + filepath.Join(apps, "nopkg") + ": put exactly one package beside app.json",
		"two":    "2 .intunewin in " + two + " (a.intunewin, b.intunewin): keep exactly one beside app.json",
		"trunc":  "install.intunewin: truncated or corrupt .intunewin (416 bytes, no readable ZIP directory)",
		"nojson": "app.json: missing",
	}
	if len(checks) != len(want) {
		t.Fatalf("%d checks, want %d: %+v", len(checks), len(want), checks)
	}
	for _, c := range checks {
		name := filepath.Base(c.Dir)
		if c.Loaded || c.Error != want[name] || c.Verdict() != "refused: "+want[name] {
			t.Errorf("%s: error %q, verdict %q; want %q", name, c.Error, c.Verdict(), want[name])
		}
	}

	// Served, the same reasons; the cut-off package still answers to
	// errors.Is for what decrypt and archive/zip said.
	logs := &logSink{}
	srv, err := NewContext(context.Background(), Config{AppsDir: apps, DataDir: filepath.Join(root, "data"), Logf: logs.Logf})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	for _, ae := range srv.Skipped() {
		name := filepath.Base(ae.Dir)
		if ae.Reason() != want[name] {
			t.Errorf("%s: skipped with %q, want %q", name, ae.Reason(), want[name])
		}
		if line := fmt.Sprintf("app skipped: %s: %s\n", ae.Dir, want[name]); !strings.Contains(logs.String(), line) {
			t.Errorf("log has no line %q:\n%s", line, logs)
		}
		if name == "trunc" && (!errors.Is(ae, zip.ErrFormat) || !errors.Is(ae, decrypt.ErrNotPackage)) {
			t.Errorf("truncated package: %v does not wrap zip.ErrFormat and decrypt.ErrNotPackage", ae)
		}
	}
	if strings.Contains(logs.String(), "service:") {
		t.Errorf("a layer's name in the log:\n%s", logs)
	}
}

// TestCheckEveryReason: Graph's v1 GET example beside a package of
// another setup file is refused for its unsupported setting and for the
// setupFilePath the package contradicts, both in one verdict; with
// --allow-unsupported, for the setupFilePath alone.
func TestCheckEveryReason(t *testing.T) {
	apps := t.TempDir()
	raw, err := os.ReadFile("testdata/graph/v1-get.json")
	if err != nil {
		t.Fatal(err)
	}
	writeAppDir(t, apps, "7zip", imeapi.Win32LobApp{}, raw, fixtures.Path(t, "desktopinfo.intunewin"))
	const setup = `app.json: setupFilePath: invalid value: "7z2301-x64.msi", but the package's SetupFile is "install.ps1"`
	const unsupported = "app.json: unsupported settings: rules[1].operationType=appVersion (serve --allow-unsupported serves it anyway)"
	for _, c := range []struct {
		allow          bool
		reason, verdct string
	}{
		{false, setup + "; " + unsupported, "refused: " + setup + "; and unsupported settings (serve --allow-unsupported accepts those)"},
		{true, setup, "refused: " + setup},
	} {
		checks, err := CheckApps(context.Background(), apps, c.allow)
		if err != nil || len(checks) != 1 {
			t.Fatalf("allow %v: %v %+v", c.allow, err, checks)
		}
		if got := checks[0]; got.Loaded || got.Error != c.reason || got.Verdict() != c.verdct {
			t.Errorf("allow %v:\nerror   %q\nverdict %q\nwant\nerror   %q\nverdict %q", c.allow, got.Error, got.Verdict(), c.reason, c.verdct)
		}
	}
	srv, err := NewContext(context.Background(), Config{AppsDir: apps, DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	sk := srv.Skipped()
	if len(sk) != 1 || !errors.Is(sk[0], ErrUnsupported) || !errors.Is(sk[0], imeapi.ErrInvalid) || strings.Count(sk[0].Error(), "service: ") != 1 {
		t.Fatalf("skipped %v, want one error wrapping both reasons, with one package prefix", sk)
	}
}

// TestCheckDuplicateID: apps check refuses a second folder with an id
// already loaded, as serve does.
func TestCheckDuplicateID(t *testing.T) {
	apps := t.TempDir()
	pkg := fixtures.Path(t, "7zip.intunewin")
	writeAppDir(t, apps, "a", testApp(1, "a", ""), nil, pkg)
	writeAppDir(t, apps, "b", testApp(1, "b", ""), nil, pkg)
	checks, err := CheckApps(context.Background(), apps, false)
	if err != nil || len(checks) != 2 {
		t.Fatalf("%v %+v", err, checks)
	}
	if !checks[0].Loaded || checks[1].Loaded || !strings.Contains(checks[1].Error, "already served from "+filepath.Join(apps, "a")) {
		t.Errorf("a: %q, b: %q; want a loaded and b refused for a's id", checks[0].Verdict(), checks[1].Verdict())
	}
}

// TestLoadedLine: the load line counts its bytes and pieces in good English,
// after a line that says the loading (which reads every package) began.
func TestLoadedLine(t *testing.T) {
	root := t.TempDir()
	apps := filepath.Join(root, "apps")
	g := testApp(1, "7zip", "install.ps1")
	writeAppDir(t, apps, "7zip", g, nil, fixtures.Path(t, "7zip.intunewin"))
	logs := &logSink{}
	srv, err := NewContext(context.Background(), Config{AppsDir: apps, DataDir: filepath.Join(root, "data"), Logf: logs.Logf})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	a := srv.Apps()
	if len(a) != 1 || a[0].Pieces != 1 {
		t.Fatalf("apps %+v, want one of one piece", a)
	}
	first := "loading 1 app folder from " + apps + " (every package is read and verified)\n"
	if line := fmt.Sprintf("app loaded: %s %q version 1 (%d bytes, 1 piece)\n", g.ID, "7zip", a[0].Size); !strings.HasPrefix(logs.String(), first+line) {
		t.Errorf("want the lines %q and %q first:\n%s", first, line, logs)
	}
}

// TestAdminTokenOnDeviceRoutes: the admin token is valid but no device's:
// the device routes answer 403 saying so, not 401 "unknown token".
func TestAdminTokenOnDeviceRoutes(t *testing.T) {
	e := newEnv(t)
	app := e.apps["7zip.intunewin"]
	admin := e.adminClient(t).Token
	doFile := imeapi.DoFileID(app.ID, app.Version)
	for _, ep := range []struct{ method, path, body string }{
		{"GET", "/api/v1/policies", ""},
		{"POST", "/api/v1/policies", `{"deviceProperties":{}}`},
		{"POST", "/api/v1/contentinfo", `{"appId":"` + app.ID + `","version":"1"}`},
		{"POST", "/api/v1/reports", `{"reports":[]}`},
		{"GET", "/phf/" + doFile, ""},
		{"POST", "/do/v1/array", `{"doFileId":"` + doFile + `","peerId":"p","downloadMode":1}`},
		{"DELETE", "/do/v1/array", `{"doFileId":"` + doFile + `","peerId":"p"}`},
	} {
		req, _ := http.NewRequest(ep.method, e.ts.URL+ep.path, strings.NewReader(ep.body))
		req.Header.Set("Authorization", "Bearer "+admin)
		code, body := e.do(t, req)
		var got struct{ Error string }
		json.Unmarshal(body, &got)
		if code != http.StatusForbidden || got.Error != "the admin token cannot act as a device" {
			t.Errorf("%s %s with the admin token: HTTP %d %s, want 403 and why", ep.method, ep.path, code, body)
		}
	}
	// It still reads every device's status.
	if code, body := e.get(t, "/api/v1/status", admin); code != http.StatusOK {
		t.Errorf("status with the admin token: HTTP %d %s", code, body)
	}
}

// TestCheckVerifiesPackage: apps check refuses a package whose HMAC
// fails, as serve does (which tells the admin to run apps check).
func TestCheckVerifiesPackage(t *testing.T) {
	root := t.TempDir()
	tampered := filepath.Join(root, "tampered.intunewin")
	flipCiphertext(t, fixtures.Path(t, "7zip.intunewin"), tampered)
	apps := filepath.Join(root, "apps")
	writeAppDir(t, apps, "tampered", testApp(1, "tampered", "install.ps1"), nil, tampered)
	checks, err := CheckApps(context.Background(), apps, false)
	if err != nil || len(checks) != 1 {
		t.Fatalf("%v %+v", err, checks)
	}
	if want := "tampered.intunewin: " + decrypt.ErrMAC.Error(); checks[0].Loaded || checks[0].Error != want {
		t.Errorf("verdict %q, want refused: %q", checks[0].Verdict(), want)
	}
}
