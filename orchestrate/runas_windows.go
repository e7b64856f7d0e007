//go:build windows

package orchestrate

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/imepipe/imepipe/orchestrate/reap"
)

// userRun prepares a runAsAccount user install on Windows: the installer
// runs as the logged-on user, with that user's token, never as SYSTEM.
// It finds the user's session (chooseSession over WTSEnumerateSessions,
// the console session first), takes the session's token
// (WTSQueryUserToken: the agent must run as SYSTEM) to learn who the user
// is (refusing a service account), the user's environment block
// (CreateEnvironmentBlock, the user's profile folder in USERPROFILE), and
// grants the user modify rights on the content folder dir (this app's
// own: the agent's folders are SYSTEM's and Administrators' only) so
// that the installer can read it. The reaper takes the session's token
// again and checks it is still this user's (reap.Credential). No active
// session is ErrNoUserSession (and ErrInstallUser); Config.InstallUser
// is not used on Windows.
func (a *Agent) userRun(dir string) (*reap.Credential, []string, error) {
	sessions, err := listSessions()
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrInstallUser, err)
	}
	id, err := chooseSession(windows.WTSGetActiveConsoleSessionId(), sessions)
	if err != nil {
		return nil, nil, err
	}
	return sessionUser(id, dir)
}

// sessionUser is userRun's work once the session is chosen: the user of
// session id's token, that user's environment block, and the content
// folder dir granted to the user.
func sessionUser(id uint32, dir string) (*reap.Credential, []string, error) {
	var tok windows.Token
	if err := windows.WTSQueryUserToken(id, &tok); err != nil {
		if err == windows.ERROR_NO_TOKEN {
			return nil, nil, fmt.Errorf("%w: %w: session %d has no user token", ErrInstallUser, ErrNoUserSession, id)
		}
		return nil, nil, fmt.Errorf("%w: WTSQueryUserToken session %d: %v", ErrInstallUser, id, err)
	}
	defer tok.Close()
	u, err := tok.GetTokenUser()
	if err != nil {
		return nil, nil, fmt.Errorf("%w: session %d: token user: %v", ErrInstallUser, id, err)
	}
	sid := u.User.Sid.String()
	if svc := serviceAccount(sid); svc != "" {
		return nil, nil, fmt.Errorf("%w: session %d's token is %s's; not running it as a service account", ErrInstallUser, id, svc)
	}
	name := sid
	if acct, dom, _, err := u.User.Sid.LookupAccount(""); err == nil {
		name = dom + `\` + acct
	}
	env, err := userEnvironment(tok)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: environment of %s: %v", ErrInstallUser, name, err)
	}
	if err := grantModify(dir, u.User.Sid); err != nil {
		return nil, nil, fmt.Errorf("%w: content folder for %s: %v", ErrInstallUser, name, err)
	}
	return &reap.Credential{Session: id, SID: sid, User: name}, env, nil
}

// listSessions is WTSEnumerateSessions on this server.
func listSessions() ([]userSession, error) {
	var p *windows.WTS_SESSION_INFO
	var n uint32
	if err := windows.WTSEnumerateSessions(0, 0, 1, &p, &n); err != nil {
		return nil, fmt.Errorf("WTSEnumerateSessions: %w", err)
	}
	if p == nil || n == 0 {
		return nil, nil
	}
	defer windows.WTSFreeMemory(uintptr(unsafe.Pointer(p)))
	out := make([]userSession, 0, n)
	for _, s := range unsafe.Slice(p, n) {
		out = append(out, userSession{ID: s.SessionID, State: s.State})
	}
	return out, nil
}

// grantModify adds to dir's DACL an inherited entry giving sid read,
// write and execute (not ownership or permission changes), merged with
// the entries dir has.
func grantModify(dir string, sid *windows.SID) error {
	sd, err := windows.GetNamedSecurityInfo(dir, windows.SE_FILE_OBJECT, windows.DACL_SECURITY_INFORMATION)
	if err != nil {
		return fmt.Errorf("read ACL: %w", err)
	}
	dacl, _, err := sd.DACL()
	if err != nil {
		return fmt.Errorf("read ACL: %w", err)
	}
	acl, err := windows.ACLFromEntries([]windows.EXPLICIT_ACCESS{{
		AccessPermissions: windows.GENERIC_READ | windows.GENERIC_WRITE | windows.GENERIC_EXECUTE | windows.DELETE,
		AccessMode:        windows.GRANT_ACCESS,
		Inheritance:       windows.SUB_CONTAINERS_AND_OBJECTS_INHERIT,
		Trustee: windows.TRUSTEE{
			TrusteeForm:  windows.TRUSTEE_IS_SID,
			TrusteeType:  windows.TRUSTEE_IS_USER,
			TrusteeValue: windows.TrusteeValueFromSID(sid),
		},
	}}, dacl)
	if err != nil {
		return fmt.Errorf("build ACL: %w", err)
	}
	if err := windows.SetNamedSecurityInfo(dir, windows.SE_FILE_OBJECT, windows.DACL_SECURITY_INFORMATION, nil, nil, acl, nil); err != nil {
		return fmt.Errorf("write ACL: %w", err)
	}
	return nil
}

// userEnvironment is the environment block CreateEnvironmentBlock builds
// for tok's user (the system variables and the user's own, none of the
// agent's), read by parseEnvBlock.
func userEnvironment(tok windows.Token) ([]string, error) {
	var block *uint16
	if err := windows.CreateEnvironmentBlock(&block, tok, false); err != nil {
		return nil, fmt.Errorf("CreateEnvironmentBlock: %w", err)
	}
	defer windows.DestroyEnvironmentBlock(block)
	// The block ends with an empty string: two NULs in a row (or one at
	// its start).
	p := unsafe.Pointer(block)
	n := 0
	for prev := uint16(1); ; n++ {
		c := *(*uint16)(unsafe.Add(p, 2*n))
		if c == 0 && prev == 0 || c == 0 && n == 0 {
			break
		}
		prev = c
	}
	return parseEnvBlock(unsafe.Slice(block, n+1)), nil
}
