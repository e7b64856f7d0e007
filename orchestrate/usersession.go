package orchestrate

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf16"

	"github.com/imepipe/imepipe/imeapi"
)

// ErrNoUserSession: a runAsAccount user app found no logged-on user to run
// as (Windows: no active session with a user in it). It also matches
// ErrInstallUser. The app fails with CodeNoUserSession and is retried on
// a later sync, as the IME retries it once a user logs on.
var ErrNoUserSession = errors.New("no user is logged on")

// CodeNoUserSession is 0x87D300CD, the IME's "the user logged off while
// the app policy was being processed": the code Intune shows for a
// user-context app that had no user session to run in.
const CodeNoUserSession = imeapi.CodeNoSession

// wtsActive is WTS_CONNECTSTATE_CLASS WTSActive: a user is logged on to
// the session and it is the one attached to a console or remote client.
const wtsActive = 0

// userSession is one Windows terminal-services session as
// WTSEnumerateSessions lists it.
type userSession struct {
	ID    uint32
	State uint32 // WTS_CONNECTSTATE_CLASS
}

// chooseSession picks the session whose user a runAsAccount user install
// runs as: the console session (WTSGetActiveConsoleSessionId) when it is
// listed and active, else the first active session listed other than
// session 0 (services), as a remote desktop user's. A console id that is
// not listed, or listed but not active (the logon screen, a
// disconnected user), or 0 (services have it since Vista) does not count: the list is the truth, so a system
// that lists no session (Wine) has no user. It does not look at tokens:
// a listed active session whose token cannot be had is the caller's
// refusal.
func chooseSession(console uint32, sessions []userSession) (uint32, error) {
	for _, s := range sessions {
		if s.ID == console && s.ID != 0 && s.State == wtsActive {
			return s.ID, nil
		}
	}
	for _, s := range sessions {
		if s.ID != 0 && s.State == wtsActive {
			return s.ID, nil
		}
	}
	return 0, fmt.Errorf("%w: %w: no active session among %d listed (console session %d)", ErrInstallUser, ErrNoUserSession, len(sessions), console)
}

// serviceSIDs are the accounts a user-context install must never run as:
// LocalSystem, LocalService and NetworkService.
var serviceSIDs = map[string]string{
	"S-1-5-18": "SYSTEM",
	"S-1-5-19": "LOCAL SERVICE",
	"S-1-5-20": "NETWORK SERVICE",
}

// serviceAccount names the service account sid is ("SYSTEM"), or "" for
// any other account.
func serviceAccount(sid string) string { return serviceSIDs[strings.ToUpper(sid)] }

// parseEnvBlock reads a Windows environment block (CreateEnvironmentBlock's
// output, UTF-16 code units): NAME=VALUE strings each ended by a NUL, the
// block ended by an empty string. It stops at the first empty string or
// at the end of b, whichever comes first (a block cut short loses only
// its last, unterminated entry), and drops entries with no '=' after the
// first character (Windows' hidden "=C:=C:\dir" entries are kept: their
// name starts with '=').
func parseEnvBlock(b []uint16) []string {
	var env []string
	for len(b) > 0 {
		n := 0
		for n < len(b) && b[n] != 0 {
			n++
		}
		if n == len(b) { // no terminating NUL: a cut block
			break
		}
		if n == 0 {
			break
		}
		kv := string(utf16.Decode(b[:n]))
		if strings.Contains(kv[1:], "=") {
			env = append(env, kv)
		}
		b = b[n+1:]
	}
	return env
}
