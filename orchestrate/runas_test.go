//go:build !windows

package orchestrate

import (
	"errors"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imepipe/imepipe/imeapi"
)

// TestRunAsUser (issue 12): runAsAccount user runs the installer as
// Config.InstallUser, checked by the uid the installer writes; without
// an install user the app fails with ErrInstallUser and nothing runs.
// It creates a user with useradd, so it needs root (skipped otherwise)
// and removes the user at cleanup.
func TestRunAsUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: creates a user with useradd and installs as it")
	}
	if _, err := exec.LookPath("useradd"); err != nil {
		t.Skip("no useradd on this machine")
	}
	name := "imepipe-t" + strings.ToLower(strings.ReplaceAll(t.Name(), "Test", ""))[:6]
	if out, err := exec.Command("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name).CombinedOutput(); err != nil {
		t.Fatalf("useradd: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("userdel", name).Run() })
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	app := fileApp("as-user", "required").
		script("install.sh", `id -u > "$ProgramFiles/as-user/app.txt"`).
		with("installExperience", map[string]any{"runAsAccount": "user"})
	h := newHarness(t, []testApp{app}, func(c *Config) { c.InstallUser = name })
	// The installer, as the user, writes into a folder it may write; the
	// test folders above it must let it pass.
	must(t, os.MkdirAll(h.programFiles("as-user"), 0o755))
	for d := h.programFiles("as-user"); d != filepath.Dir(filepath.Dir(h.dir)); d = filepath.Dir(d) {
		must(t, os.Chmod(d, 0o755))
	}
	must(t, os.Chmod(h.programFiles("as-user"), 0o777))
	h.sync()
	if b, err := os.ReadFile(filepath.Join(h.cfg.Root, "Logs", "Win32AppInstaller-"+app.id()+"_1.log")); err == nil {
		t.Logf("installer output: %s", b)
	}
	h.wantState(app.id(), imeapi.EnforcementSuccess, imeapi.ComplianceInstalled, 0)
	got, err := os.ReadFile(h.programFiles("as-user", "app.txt"))
	if err != nil || strings.TrimSpace(string(got)) != u.Uid {
		t.Fatalf("installer ran as uid %q (%v), want %s (%s)\nlog:\n%s", got, err, u.Uid, name, h.log())
	}
	if !strings.Contains(h.log(), "Installer runs as user "+name+" (uid "+u.Uid+")") {
		t.Fatalf("no user line:\n%s", h.log())
	}
}

// TestRunAsUserNotConfigured: without Config.InstallUser a user-context
// app fails with ErrInstallUser's message and its installer never runs
// (as root or anyone).
func TestRunAsUserNotConfigured(t *testing.T) {
	app := fileApp("as-nobody", "required").with("installExperience", map[string]any{"runAsAccount": "user"})
	h := newHarness(t, []testApp{app}, nil)
	h.sync()
	h.wantState(app.id(), imeapi.EnforcementError, imeapi.ComplianceError, CodeFailure)
	if st := h.app(app.id()); !strings.Contains(st.Enforcement.ErrorMessage, ErrInstallUser.Error()) {
		t.Fatalf("message %q", st.Enforcement.ErrorMessage)
	}
	if _, err := os.Stat(h.programFiles("as-nobody", "app.txt")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("installer ran: %v", err)
	}
}
