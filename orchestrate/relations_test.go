package orchestrate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imepipe/imepipe/imeapi"
)

// Scenarios of issue 12 (acceptance 2) through the service and the
// agent: install schedules, OS minimums, dependencies, supersedence.

// ordered is fileApp whose install and uninstall also append
// "install NAME" / "uninstall NAME" to Root/order.txt.
func ordered(name, intent string) testApp {
	a := fileApp(name, intent)
	return a.installs(a.files["install.sh"]+` && echo "install `+name+`" >> "$IMEPIPE_ROOT/order.txt"`,
		a.files["install.cmd"]+"\r\necho install "+name+">>\"%IMEPIPE_ROOT%\\order.txt\"").
		uninstalls(a.files["uninstall.sh"]+` && echo "uninstall `+name+`" >> "$IMEPIPE_ROOT/order.txt"`,
			a.files["uninstall.cmd"]+"\r\necho uninstall "+name+">>\"%IMEPIPE_ROOT%\\order.txt\"")
}

// unassigned is a without assignments.
func unassigned(a testApp) testApp { return a.with("assignments", []any{}) }

func relation(kind, typ string, target testApp) map[string]any {
	r := map[string]any{"@odata.type": kind, "targetId": target.id(), "targetType": "child"}
	if kind == imeapi.TypeDependency {
		r["dependencyType"] = typ
	} else {
		r["supersedenceType"] = typ
	}
	return r
}

func (h *harness) wantOrder(want string) {
	h.t.Helper()
	data, _ := os.ReadFile(filepath.Join(h.cfg.Root, "order.txt"))
	if got := strings.TrimSpace(strings.ReplaceAll(string(data), "\r\n", "\n")); got != want { // cmd's echo ends lines with CRLF
		h.t.Fatalf("installer order %q, want %q\nlog:\n%s", got, want, h.log())
	}
}

// scheduledApp is a required app with installTimeSettings.
func scheduledApp(name string, settings map[string]any) testApp {
	return fileApp(name, "required").with("assignments", []any{map[string]any{"intent": "required",
		"target":   map[string]any{"@odata.type": imeapi.TypeAllDevices},
		"settings": map[string]any{"@odata.type": "#microsoft.graph.win32LobAppAssignmentSettings", "installTimeSettings": settings}}})
}

// TestInstallTimeSettings: before startDateTime a required app is not
// attempted (6000, reported); once the injected clock passes it, it is
// installed. A deadline after the start keeps it available, not enforced,
// until the deadline. useLocalTime reads the time in the device's zone.
func TestInstallTimeSettings(t *testing.T) {
	// The harness clock is 2025-03-01 12:00 UTC.
	start := scheduledApp("sched-start", map[string]any{"useLocalTime": false, "startDateTime": "2025-03-01T13:00:00Z"})
	deadline := scheduledApp("sched-deadline", map[string]any{"startDateTime": "2025-03-01T11:00:00Z", "deadlineDateTime": "2025-03-01T15:00:00Z"})
	// 12:30 local in UTC+2 is 10:30 UTC: already passed. Read as UTC it would be in the future.
	local := scheduledApp("sched-local", map[string]any{"useLocalTime": true, "startDateTime": "2025-03-01T12:30:00Z"})
	h := newHarness(t, []testApp{start, deadline, local}, func(c *Config) { c.Location = time.FixedZone("UTC+2", 2*3600) })
	h.sync()
	h.wantState(start.id(), imeapi.EnforcementNotAttempted, imeapi.ComplianceNotInstalled, 0)
	h.wantState(deadline.id(), imeapi.EnforcementNotAttempted, imeapi.ComplianceNotInstalled, 0)
	h.wantState(local.id(), imeapi.EnforcementSuccess, imeapi.ComplianceInstalled, 0)
	if r := h.reported(start.id()); r == nil || r.EnforcementState != imeapi.EnforcementNotAttempted {
		t.Fatalf("future start reported %+v, want 6000", r)
	}
	if _, err := os.Stat(h.programFiles("sched-start", "app.txt")); err == nil {
		t.Fatal("installed before its start time")
	}
	if !strings.Contains(h.log(), "start time 2025-03-01T13:00:00Z (UTC) has not been reached") {
		t.Fatalf("no schedule line:\n%s", h.log())
	}
	h.clock.Advance(90 * time.Minute) // 13:30: past the start, before the deadline
	h.sync()
	h.wantState(start.id(), imeapi.EnforcementSuccess, imeapi.ComplianceInstalled, 0)
	h.wantState(deadline.id(), imeapi.EnforcementNotAttempted, imeapi.ComplianceNotInstalled, 0)
	h.clock.Advance(2 * time.Hour) // 15:30: past the deadline
	h.sync()
	h.wantState(deadline.id(), imeapi.EnforcementSuccess, imeapi.ComplianceInstalled, 0)
}

// TestOSVersionRequirement: minimums above the device's build are 3000
// with the reason; at or below it the app installs.
func TestOSVersionRequirement(t *testing.T) {
	old := fileApp("os-old", "required").with("minimumSupportedOperatingSystem", map[string]any{"@odata.type": "microsoft.graph.windowsMinimumOperatingSystem", "v10_1809": true})
	w11 := fileApp("os-w11", "required").with("minimumSupportedWindowsRelease", "Windows11_23H2")
	h := newHarness(t, []testApp{old, w11}, func(c *Config) { c.OSVersion = "10.0.19045" })
	h.sync()
	h.wantState(old.id(), imeapi.EnforcementSuccess, imeapi.ComplianceInstalled, 0)
	h.wantState(w11.id(), imeapi.EnforcementRequirementsNotMet, imeapi.ComplianceNotInstalled, 0)
	if st := h.app(w11.id()); !strings.Contains(st.Enforcement.ErrorMessage, "OS version 10.0.19045 (build 19045) is older than the minimum Windows11_23H2 (build 22631)") {
		t.Fatalf("reason %q", st.Enforcement.ErrorMessage)
	}
}

// TestDependencyAutoInstall: app → mid (autoInstall) → base (autoInstall),
// base and mid not assigned: the service serves them as dependencies and
// the agent installs base, then mid, then app.
func TestDependencyAutoInstall(t *testing.T) {
	base := unassigned(ordered("dep-base", "required"))
	mid := unassigned(ordered("dep-mid", "required")).with("relationships", []any{relation(imeapi.TypeDependency, "autoInstall", base)})
	top := ordered("dep-top", "required").with("relationships", []any{relation(imeapi.TypeDependency, "autoInstall", mid)})
	h := newHarness(t, []testApp{base, mid, top}, nil)
	h.sync()
	h.wantOrder("install dep-base\ninstall dep-mid\ninstall dep-top")
	for _, a := range []testApp{base, mid, top} {
		h.wantState(a.id(), imeapi.EnforcementSuccess, imeapi.ComplianceInstalled, 0)
	}
	if !strings.Contains(h.log(), "dependency type autoInstall: installing it before app "+top.id()) {
		t.Fatalf("no dependency line:\n%s", h.log())
	}
	// A second sync installs nothing: the dependencies are detected.
	h.sync()
	h.wantOrder("install dep-base\ninstall dep-mid\ninstall dep-top")
}

// TestDependencyDetect: a detect dependency that is not installed fails
// the app with the dependency error and installs nothing; once it is
// installed (by its own assignment), the app installs.
func TestDependencyDetect(t *testing.T) {
	dep := unassigned(ordered("det-dep", "required"))
	top := ordered("det-top", "required").with("relationships", []any{relation(imeapi.TypeDependency, "detect", dep)})
	h := newHarness(t, []testApp{dep, top}, nil)
	h.sync()
	h.wantState(top.id(), imeapi.EnforcementError, imeapi.ComplianceError, CodeDependency)
	h.wantOrder("")
	if r := h.reported(top.id()); r == nil || r.ErrorCode != CodeDependency {
		t.Fatalf("reported %+v, want the dependency error", r)
	}
	if !strings.Contains(h.log(), "is not detected and its dependency type is detect") {
		t.Fatalf("no detect line:\n%s", h.log())
	}
}

// TestDependencyCycle: a → b → a refuses a with the dependency error; nothing runs.
func TestDependencyCycle(t *testing.T) {
	a := ordered("cyc-a", "required")
	b := unassigned(ordered("cyc-b", "required")).with("relationships", []any{relation(imeapi.TypeDependency, "autoInstall", a)})
	a = a.with("relationships", []any{relation(imeapi.TypeDependency, "autoInstall", b)})
	h := newHarness(t, []testApp{a, b}, nil)
	h.sync()
	h.wantState(a.id(), imeapi.EnforcementError, imeapi.ComplianceError, CodeDependency)
	h.wantOrder("")
	if st := h.app(a.id()); !strings.Contains(st.Enforcement.ErrorMessage, "dependency cycle: "+a.id()+" -> "+b.id()+" -> "+a.id()) {
		t.Fatalf("message %q", st.Enforcement.ErrorMessage)
	}
}

// TestSupersedence: replace uninstalls the old app (its uninstall
// command, then it is no longer detected) before installing the new one;
// update installs over the old one; a superseded app that is still
// assigned is not reinstalled.
func TestSupersedence(t *testing.T) {
	old := ordered("sup-old", "required")
	oldU := ordered("sup-old-u", "required")
	repl := ordered("sup-new", "required").with("relationships", []any{relation(imeapi.TypeSupersedence, "replace", old)})
	upd := ordered("sup-new-u", "required").with("relationships", []any{relation(imeapi.TypeSupersedence, "update", oldU)})
	h := newHarness(t, []testApp{old, oldU, repl, upd}, nil)
	for _, name := range []string{"sup-old", "sup-old-u"} { // installed before the new apps came
		must(t, os.MkdirAll(h.programFiles(name), 0o755))
		must(t, os.WriteFile(h.programFiles(name, "app.txt"), []byte("installed\n"), 0o644))
	}
	h.sync()
	h.wantOrder("uninstall sup-old\ninstall sup-new\ninstall sup-new-u")
	if _, err := os.Stat(h.programFiles("sup-old", "app.txt")); err == nil {
		t.Fatal("replaced app still installed")
	}
	if _, err := os.Stat(h.programFiles("sup-old-u", "app.txt")); err != nil {
		t.Fatalf("updated-over app removed: %v", err)
	}
	h.wantState(repl.id(), imeapi.EnforcementSuccess, imeapi.ComplianceInstalled, 0)
	h.wantState(upd.id(), imeapi.EnforcementSuccess, imeapi.ComplianceInstalled, 0)
	h.wantState(old.id(), imeapi.EnforcementNotAttempted, imeapi.ComplianceNotInstalled, 0)
	if !strings.Contains(h.log(), "supersedes app "+old.id()+" (sup-old) with replace: uninstalling the superseded app first") ||
		!strings.Contains(h.log(), "App "+old.id()+" is superseded by app "+repl.id()+", which is assigned; not installing it again") {
		t.Fatalf("no supersedence lines:\n%s", h.log())
	}
	h.clock.Advance(2 * time.Hour)
	h.sync() // the old app stays uninstalled
	h.wantOrder("uninstall sup-old\ninstall sup-new\ninstall sup-new-u")
}
