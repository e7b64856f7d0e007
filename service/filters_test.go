package service

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/internal/fixtures"
)

const testFiltersJSON = `[
  {"id": "aaaaaaaa-0000-4000-8000-000000000001", "displayName": "Surface", "platform": "windows10AndLater", "rule": "device.model -startsWith \"Surface\""},
  {"id": "aaaaaaaa-0000-4000-8000-000000000002", "displayName": "Broken", "platform": "windows10AndLater", "rule": "device.model -eq"}
]`

// filterEnv serves the desktopinfo fixture as four apps: include filter,
// exclude filter, a broken filter and a filter not in filters.json
// (onStore is the one option it takes).
func filterEnv(t *testing.T, opts ...envOption) (*env, map[string]string) {
	t.Helper()
	root := t.TempDir()
	apps := filepath.Join(root, "apps")
	pkg := fixtures.Path(t, "desktopinfo.intunewin")
	ids := map[string]string{}
	for i, c := range []struct{ name, filter, kind string }{
		{"include", "aaaaaaaa-0000-4000-8000-000000000001", "include"},
		{"exclude", "AAAAAAAA-0000-4000-8000-000000000001", "exclude"}, // ids match in any case
		{"broken", "aaaaaaaa-0000-4000-8000-000000000002", "include"},
		{"missing", "aaaaaaaa-0000-4000-8000-000000000009", "exclude"},
	} {
		g := testApp(i+1, c.name, "install.ps1")
		g.Assignments[0].Target.FilterID, g.Assignments[0].Target.FilterType = c.filter, c.kind
		writeAppDir(t, apps, c.name, g, nil, pkg)
		ids[c.name] = g.ID
	}
	if err := os.WriteFile(filepath.Join(apps, FiltersFile), []byte(testFiltersJSON), 0o644); err != nil {
		t.Fatal(err)
	}
	e := &env{clock: newClock(), logs: &logSink{}, apps: map[string]imeapi.Win32LobApp{}}
	for _, o := range opts {
		o(e)
	}
	e.cfg = Config{AppsDir: apps, DataDir: filepath.Join(root, "data"), Now: e.clock.Now, Logf: e.logs.Logf, Store: e.storeURL}
	e.start(t)
	return e, ids
}

// TestFilterLoad: an app whose filter does not parse, or is not in
// filters.json, is refused at load, naming the field and the filter.
func TestFilterLoad(t *testing.T) {
	e, _ := filterEnv(t)
	if n := len(e.srv.Apps()); n != 2 {
		t.Fatalf("%d apps served, want 2", n)
	}
	sk := e.srv.Skipped()
	if len(sk) != 2 {
		t.Fatalf("skipped %v", sk)
	}
	for _, s := range sk {
		if s.Field != "assignments[0].target.deviceAndAppManagementAssignmentFilterId" || !errors.Is(s, imeapi.ErrInvalid) {
			t.Errorf("skipped %v (field %q)", s, s.Field)
		}
	}
	msg := sk[0].Error() + sk[1].Error()
	if !strings.Contains(msg, "filter: syntax error") || !strings.Contains(msg, "no filter aaaaaaaa-0000-4000-8000-000000000009 in filters.json") {
		t.Errorf("reasons: %s", msg)
	}
}

// TestFilterTargeting: the service evaluates include and exclude filters
// on the properties reported at enrollment, then at each sync (POST).
func TestFilterTargeting(t *testing.T) {
	e, ids := filterEnv(t)
	assigned := func(c *imeapi.Client) map[string]bool {
		t.Helper()
		p, err := c.Policies(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]bool{}
		for _, x := range p.Policies {
			out[x.AppID] = true
		}
		return out
	}
	priv, _ := ecdh.X25519().GenerateKey(rand.Reader)
	c := e.client()
	c.DeviceProperties = map[string]string{"MODEL": "surface pro 9"} // names and values in any case
	if _, err := c.Enroll(context.Background(), "PC-1", e.secret, priv.PublicKey()); err != nil {
		t.Fatal(err)
	}
	if got := assigned(c); !got[ids["include"]] || got[ids["exclude"]] {
		t.Errorf("Surface: %v", got)
	}
	c.DeviceProperties = map[string]string{"model": "OptiPlex"}
	if got := assigned(c); got[ids["include"]] || !got[ids["exclude"]] {
		t.Errorf("OptiPlex after sync: %v", got)
	}
	// A plain GET keeps the last reported properties; content follows targeting.
	c.DeviceProperties = nil
	if got := assigned(c); got[ids["include"]] || !got[ids["exclude"]] {
		t.Errorf("GET after sync: %v", got)
	}
	if _, err := c.ContentInfo(context.Background(), ids["include"], "1"); !errors.Is(err, imeapi.ErrNotFound) {
		t.Errorf("content of a filtered-out app: %v, want 404", err)
	}
	// Unknown properties are refused, naming the field.
	c.DeviceProperties = map[string]string{"colour": "red"}
	_, err := c.Policies(context.Background())
	var ae *imeapi.APIError
	if !errors.As(err, &ae) || ae.StatusCode != http.StatusBadRequest || ae.Field != "deviceProperties.colour" {
		t.Errorf("unknown property: %v", err)
	}
}

// TestFiltersFileBroken: a filters.json that does not decode stops the
// service with one error naming the file.
func TestFiltersFileBroken(t *testing.T) {
	root := t.TempDir()
	apps := filepath.Join(root, "apps")
	os.MkdirAll(apps, 0o755)
	os.WriteFile(filepath.Join(apps, FiltersFile), []byte(`[{"id": "x", "rule": 5}]`), 0o644)
	_, err := NewContext(context.Background(), Config{AppsDir: apps, DataDir: filepath.Join(root, "data")})
	if err == nil || !strings.Contains(err.Error(), "filters.json") {
		t.Fatalf("%v", err)
	}
}

// TestAllowUnsupported: an app with unsupported settings is skipped,
// naming them, unless Config.AllowUnsupported, which serves it and logs them.
func TestAllowUnsupported(t *testing.T) {
	root := t.TempDir()
	apps := filepath.Join(root, "apps")
	g := testApp(1, "user", "install.ps1")
	g.MinimumSupportedWindowsRelease = "Windows12_99H9" // a release the agent cannot compare
	writeAppDir(t, apps, "user", g, nil, fixtures.Path(t, "desktopinfo.intunewin"))
	for _, allow := range []bool{false, true} {
		logs := &logSink{}
		srv, err := NewContext(context.Background(), Config{AppsDir: apps, DataDir: filepath.Join(root, "data"), AllowUnsupported: allow, Logf: logs.Logf})
		if err != nil {
			t.Fatal(err)
		}
		served, skipped := len(srv.Apps()), srv.Skipped()
		srv.Close()
		switch {
		case !allow && (served != 0 || len(skipped) != 1 || !errors.Is(skipped[0], ErrUnsupported) || !strings.Contains(skipped[0].Error(), "minimumSupportedWindowsRelease=Windows12_99H9")):
			t.Errorf("without: %d served, skipped %v", served, skipped)
		case allow && (served != 1 || !strings.Contains(logs.String(), "served with unsupported settings (--allow-unsupported): minimumSupportedWindowsRelease=Windows12_99H9")):
			t.Errorf("with: %d served, log %s", served, logs.String())
		}
	}
}
