package orchestrate

import (
	"errors"
	"os"
	"strings"
	"testing"
	"unsafe"

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

// sessionToken is the user of the console session's token, or a skip
// where the token cannot be had or is a service account's.
func sessionToken(t *testing.T) (uint32, *windows.SID) {
	t.Helper()
	id := windows.WTSGetActiveConsoleSessionId()
	var tok windows.Token
	if err := windows.WTSQueryUserToken(id, &tok); err != nil {
		t.Skip(skipUserSession)
	}
	defer tok.Close()
	u, err := tok.GetTokenUser()
	if err != nil {
		t.Fatal(err)
	}
	if serviceAccount(u.User.Sid.String()) != "" {
		t.Skip("the session's token is a service account's here: " + skipUserSession)
	}
	sid, err := u.User.Sid.Copy()
	if err != nil {
		t.Fatal(err)
	}
	return id, sid
}

// TestSessionUser: once a session is chosen, sessionUser names the
// session token's user (Wine hands out this process's own token for any
// session, so it is this process's user there) and gives the user's
// environment block: USERPROFILE, none of the agent's own variables. It
// proves the token and environment calls, not a second user.
func TestSessionUser(t *testing.T) {
	id, sid := sessionToken(t)
	t.Setenv("IMEPIPE_AGENT_ONLY", "1")
	cred, env, err := sessionUser(id, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if cred.SID != sid.String() || cred.Session != id || cred.User == "" {
		t.Fatalf("credential %+v, want session %d user %s", cred, id, sid)
	}
	var profile bool
	for _, kv := range env {
		if strings.HasPrefix(strings.ToUpper(kv), "IMEPIPE_AGENT_ONLY=") {
			t.Fatalf("the agent's own variable reached the user's block: %q", kv)
		}
		profile = profile || strings.HasPrefix(strings.ToUpper(kv), "USERPROFILE=")
	}
	if !profile {
		t.Fatalf("no USERPROFILE in %q", env)
	}
}

// TestSessionUserGrantsContentFolder: a content folder the user may not
// use (Administrators only, as the agent's folders) gets an allow entry
// for the user from sessionUser. Wine keeps no DACL on its folders (it
// shows one made from the Unix mode), so there it is skipped.
func TestSessionUserGrantsContentFolder(t *testing.T) {
	id, sid := sessionToken(t)
	dir := t.TempDir()
	restrictToAdmins(t, dir)
	if aclAllows(t, dir, sid) {
		t.Skip("the folder's DACL did not take (Wine keeps none): the grant needs real Windows")
	}
	if _, _, err := sessionUser(id, dir); err != nil {
		t.Fatal(err)
	}
	if !aclAllows(t, dir, sid) {
		t.Fatalf("no allow entry for %s on %s", sid, dir)
	}
}

// restrictToAdmins gives dir a protected DACL with one entry, full
// control for Administrators, as the agent's folders have (the user is
// not on it), so that the grant shows.
func restrictToAdmins(t *testing.T, dir string) {
	t.Helper()
	admins, err := windows.CreateWellKnownSid(windows.WinBuiltinAdministratorsSid)
	if err != nil {
		t.Fatal(err)
	}
	acl, err := windows.ACLFromEntries([]windows.EXPLICIT_ACCESS{{
		AccessPermissions: windows.GENERIC_ALL,
		AccessMode:        windows.GRANT_ACCESS,
		Inheritance:       windows.SUB_CONTAINERS_AND_OBJECTS_INHERIT,
		Trustee: windows.TRUSTEE{
			TrusteeForm:  windows.TRUSTEE_IS_SID,
			TrusteeType:  windows.TRUSTEE_IS_GROUP,
			TrusteeValue: windows.TrusteeValueFromSID(admins),
		},
	}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := windows.SetNamedSecurityInfo(dir, windows.SE_FILE_OBJECT,
		windows.DACL_SECURITY_INFORMATION|windows.PROTECTED_DACL_SECURITY_INFORMATION, nil, nil, acl, nil); err != nil {
		t.Fatal(err)
	}
	// The test still removes dir: give it back to its owner at cleanup.
	t.Cleanup(func() {
		_ = windows.SetNamedSecurityInfo(dir, windows.SE_FILE_OBJECT,
			windows.DACL_SECURITY_INFORMATION|windows.UNPROTECTED_DACL_SECURITY_INFORMATION, nil, nil, nil, nil)
	})
}

// aclAllows: dir's DACL has an access-allowed entry for sid with read
// and write (GENERIC_* mapped to FILE_GENERIC_*).
func aclAllows(t *testing.T, dir string, sid *windows.SID) bool {
	t.Helper()
	sd, err := windows.GetNamedSecurityInfo(dir, windows.SE_FILE_OBJECT, windows.DACL_SECURITY_INFORMATION)
	if err != nil {
		t.Fatal(err)
	}
	dacl, _, err := sd.DACL()
	if err != nil || dacl == nil {
		t.Fatalf("DACL: %v", err)
	}
	for i := uint32(0); i < uint32(dacl.AceCount); i++ {
		var ace *windows.ACCESS_ALLOWED_ACE
		if err := windows.GetAce(dacl, i, &ace); err != nil {
			t.Fatal(err)
		}
		if ace.Header.AceType != windows.ACCESS_ALLOWED_ACE_TYPE {
			continue
		}
		aceSID := (*windows.SID)(unsafe.Pointer(&ace.SidStart))
		const rw = windows.FILE_GENERIC_READ | windows.FILE_GENERIC_WRITE
		if aceSID.Equals(sid) && ace.Mask&rw == rw {
			return true
		}
	}
	return false
}
