package reap

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/windows"
)

// skipNoSessionToken names why a test cannot take a session's user
// token here: real Windows gives it only to SYSTEM (SeTcbPrivilege), for
// a session a user is logged on to. Wine hands any process its own token.
const skipNoSessionToken = "needs a real Windows user session: WTSQueryUserToken refused (run as SYSTEM with a user logged on)"

// ownSID is this process's user SID.
func ownSID(t *testing.T) string {
	t.Helper()
	u, err := windows.GetCurrentProcessToken().GetTokenUser()
	if err != nil {
		t.Fatal(err)
	}
	return u.User.Sid.String()
}

// TestTokenIs: the reaper takes a token only for the SID it was told and
// never a service account's: this process's own token passes for its own
// SID (unless the tests run as SYSTEM, then it is refused as a service
// account) and is refused for any other SID.
func TestTokenIs(t *testing.T) {
	var tok windows.Token
	if err := windows.OpenProcessToken(windows.CurrentProcess(), windows.TOKEN_QUERY, &tok); err != nil {
		t.Fatal(err)
	}
	defer tok.Close()
	self := ownSID(t)
	err := tokenIs(tok, self)
	if self == "S-1-5-18" {
		if !errors.Is(err, ErrUserToken) {
			t.Fatalf("SYSTEM's token for itself: %v, want ErrUserToken", err)
		}
	} else if err != nil {
		t.Fatalf("own token for own SID %s: %v", self, err)
	}
	if err := tokenIs(tok, winSID); !errors.Is(err, ErrUserToken) || !strings.Contains(err.Error(), winSID) {
		t.Fatalf("own token for %s: %v, want ErrUserToken naming it", winSID, err)
	}
}

// runAs runs `cmd.exe /d /c echo %MARK%>as-user.txt` through Run with
// cred, and returns what the installer wrote (nil when it never ran), the
// reaper's output and Run's error.
func runAs(t *testing.T, cred *Credential) (wrote []byte, reaperOut string, err error) {
	t.Helper()
	dir := t.TempDir()
	out, err := os.Create(filepath.Join(dir, "reaper.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	_, err = Run(context.Background(), Spec{
		CommandLine: `cmd.exe /d /c echo %IMEPIPE_TEST_MARK%>as-user.txt`,
		Dir:         dir,
		Env:         append(os.Environ(), "IMEPIPE_TEST_MARK=from-spec-env"),
		ResultPath:  filepath.Join(dir, "result.json"),
		Stdout:      out,
		Credential:  cred,
	})
	wrote, rerr := os.ReadFile(filepath.Join(dir, "as-user.txt"))
	if rerr != nil {
		wrote = nil
	}
	log, _ := os.ReadFile(out.Name())
	return wrote, string(log), err
}

// TestRunRefusesAnotherUsersToken: a Credential whose SID is not the
// session token's user's is refused by the reaper before anything starts:
// Run reports no result and the installer never ran. This holds on real
// Windows too (without SYSTEM the token itself is refused).
func TestRunRefusesAnotherUsersToken(t *testing.T) {
	wrote, log, err := runAs(t, &Credential{Session: windows.WTSGetActiveConsoleSessionId(), SID: winSID})
	if !errors.Is(err, ErrNoResult) {
		t.Fatalf("Run: %v, want ErrNoResult (reaper refused)\nreaper: %s", err, log)
	}
	if wrote != nil {
		t.Fatalf("the installer ran: wrote %q", wrote)
	}
	if !strings.Contains(log, ErrUserToken.Error()) {
		t.Fatalf("reaper output %q does not say %q", log, ErrUserToken)
	}
}

// TestRunWithSessionToken: with the session's token for its own user, the
// reaper starts the installer through CreateProcessAsUser inside its Job
// Object and the installer gets Spec.Env (not the token's default
// environment). Under Wine the session token is this process's own, so
// this proves the token path and the environment, not a change of user:
// that needs a real Windows user session.
func TestRunWithSessionToken(t *testing.T) {
	session := windows.WTSGetActiveConsoleSessionId()
	var tok windows.Token
	if err := windows.WTSQueryUserToken(session, &tok); err != nil {
		t.Skip(skipNoSessionToken)
	}
	u, err := tok.GetTokenUser()
	tok.Close()
	if err != nil {
		t.Fatal(err)
	}
	sid := u.User.Sid.String()
	wrote, log, err := runAs(t, &Credential{Session: session, SID: sid})
	if err != nil {
		t.Fatalf("Run: %v\nreaper: %s", err, log)
	}
	if got := strings.TrimSpace(string(wrote)); got != "from-spec-env" {
		t.Fatalf("installer wrote %q, want Spec.Env's value\nreaper: %s", got, log)
	}
}
