package orchestrate

import (
	"errors"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/windows"

	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/orchestrate/imelog"
)

// skipUserSession names the tests that need what Wine does not have.
const skipUserSession = "needs a real Windows user session (a user logged on, the agent as SYSTEM)"

// loggedOn is the session chooseSession finds on this machine, if any.
func loggedOn(t *testing.T) (uint32, bool) {
	t.Helper()
	sessions, err := listSessions()
	if err != nil {
		t.Fatal(err)
	}
	id, err := chooseSession(windows.WTSGetActiveConsoleSessionId(), sessions)
	return id, err == nil
}

// TestUserRunNoSession: with no active user session (Wine lists none,
// though it would hand out its own token for any session id) userRun
// refuses with ErrNoUserSession, which is also ErrInstallUser, before it
// takes a token or touches the content folder's ACL.
func TestUserRunNoSession(t *testing.T) {
	if id, ok := loggedOn(t); ok {
		t.Skipf("a user is logged on (session %d): the refusal needs a machine without one (Wine)", id)
	}
	cred, env, err := (&Agent{}).userRun(t.TempDir())
	if !errors.Is(err, ErrNoUserSession) || !errors.Is(err, ErrInstallUser) {
		t.Fatalf("userRun = %+v, %d env entries, %v; want ErrNoUserSession and ErrInstallUser", cred, len(env), err)
	}
	if cred != nil || env != nil {
		t.Fatalf("refusal came with a credential %+v or environment %q", cred, env)
	}
}

// TestUserRunSessionUser: with a user logged on and the tests run as
// SYSTEM, userRun names that user (never a service account) with the
// user's own environment block, and the content folder is the user's to
// read. Elsewhere (Wine, a user's own test run) it is skipped.
func TestUserRunSessionUser(t *testing.T) {
	id, ok := loggedOn(t)
	if !ok {
		t.Skip(skipUserSession)
	}
	var tok windows.Token
	if err := windows.WTSQueryUserToken(id, &tok); err != nil {
		t.Skip(skipUserSession)
	}
	tok.Close()
	dir := t.TempDir()
	cred, env, err := (&Agent{}).userRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	if cred.Session != id || serviceAccount(cred.SID) != "" || !strings.HasPrefix(cred.SID, "S-1-5-21-") {
		t.Fatalf("credential %+v for session %d", cred, id)
	}
	var profile bool
	for _, kv := range env {
		profile = profile || strings.HasPrefix(strings.ToUpper(kv), "USERPROFILE=")
	}
	if !profile {
		t.Fatalf("no USERPROFILE in the user's environment %q", env)
	}
}

// TestRunAsUserNoSession (issue 12, Windows): a runAsAccount user app on
// a machine with no logged-on user fails with the IME's 0x87D300CD, the
// NoUserSession line is logged, and its installer never runs (as SYSTEM
// or anyone). It runs through the agent harness, under Wine once the
// harness runs Windows installers.
func TestRunAsUserNoSession(t *testing.T) {
	if id, ok := loggedOn(t); ok {
		t.Skipf("a user is logged on (session %d): the refusal needs a machine without one (Wine)", id)
	}
	app := fileApp("as-nobody", "required").with("installExperience", map[string]any{"runAsAccount": "user"})
	h := newHarness(t, []testApp{app}, nil)
	h.sync()
	h.wantState(app.id(), imeapi.EnforcementError, imeapi.ComplianceError, CodeNoUserSession)
	if want := imelog.NoUserSession.Text(app.id(), imeapi.CodeHex(CodeNoUserSession)); !strings.Contains(h.log(), want) {
		t.Fatalf("no %q in the log:\n%s", want, h.log())
	}
	if st := h.app(app.id()); !strings.Contains(st.Enforcement.ErrorMessage, ErrNoUserSession.Error()) {
		t.Fatalf("message %q", st.Enforcement.ErrorMessage)
	}
	if _, err := os.Stat(h.programFiles("as-nobody", "app.txt")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("installer ran: %v", err)
	}
}
