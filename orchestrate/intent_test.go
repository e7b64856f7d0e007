package orchestrate

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/imepipe/imepipe/imeapi"
)

func TestUninstallIntent(t *testing.T) {
	app := fileApp("Old", "uninstall")
	absent := fileApp("Gone", "uninstall")
	h := newHarness(t, []testApp{app, absent}, nil)
	must(t, os.MkdirAll(h.programFiles("Old"), 0o755))
	must(t, os.WriteFile(h.programFiles("Old", "app.txt"), []byte("x"), 0o644))
	h.sync()
	h.wantState(app.id(), imeapi.EnforcementSuccess, imeapi.ComplianceNotInstalled, 0)
	h.wantState(absent.id(), imeapi.EnforcementSuccess, imeapi.ComplianceNotInstalled, 0)
	if _, err := os.Stat(h.programFiles("Old", "app.txt")); !os.IsNotExist(err) {
		t.Fatal("uninstall command did not run")
	}
	if ap := h.app(app.id()); ap.Compliance.DesiredState != 1 {
		t.Fatalf("DesiredState %d, want 1 (absent)", ap.Compliance.DesiredState)
	}
}

func TestAvailableInstallsOnlyOnRequest(t *testing.T) {
	app := fileApp("Portal", "available")
	req := fileApp("Req", "required")
	h := newHarness(t, []testApp{app, req}, nil)
	h.sync()
	h.wantState(app.id(), imeapi.EnforcementNotAttempted, imeapi.ComplianceNotInstalled, 0)
	if _, err := os.Stat(h.programFiles("Portal", "app.txt")); !os.IsNotExist(err) {
		t.Fatal("available app installed without a request")
	}
	st, err := h.agent.Install(context.Background(), app.id())
	must(t, err)
	if st.EnforcementState != imeapi.EnforcementSuccess || st.ComplianceState != imeapi.ComplianceInstalled || st.Request != "install" {
		t.Fatalf("install: %+v", st)
	}
	if _, err := h.agent.Install(context.Background(), "no-such-app"); !errors.Is(err, ErrUnknownApp) {
		t.Fatalf("unknown app: %v", err)
	}
	if _, err := h.agent.Uninstall(context.Background(), req.id()); !errors.Is(err, ErrRequiredApp) {
		t.Fatalf("uninstall of a required app: %v", err)
	}
	st, err = h.agent.Uninstall(context.Background(), app.id())
	must(t, err)
	if st.EnforcementState != imeapi.EnforcementSuccess || st.ComplianceState != imeapi.ComplianceNotInstalled {
		t.Fatalf("uninstall: %+v", st)
	}
	if _, err := os.Stat(h.programFiles("Portal", "app.txt")); !os.IsNotExist(err) {
		t.Fatal("uninstall did not run")
	}
}
