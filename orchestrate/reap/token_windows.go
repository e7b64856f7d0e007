package reap

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"

	"golang.org/x/sys/windows"
)

// ErrUserToken: the reaper cannot have the logged-on user's token for a
// Windows Credential (no token for the session, someone else's token, a
// service account's), and starts nothing.
var ErrUserToken = errors.New("user token refused")

// asUser makes cmd start with the primary token of c's session user
// (CreateProcessAsUser, through SysProcAttr.Token): WTSQueryUserToken
// (the reaper must be SYSTEM), DuplicateTokenEx to a primary token, the
// token's user checked to be c.SID and no service account. The reaper is
// in its Job Object already, so the installer is born in the job with
// any token. cmd's environment is set to the reaper's own (the agent's
// Spec.Env, which carries the user's block): left empty, os/exec would
// give it the token's default block and drop the agent's variables. The
// returned release closes the token once cmd has been waited for.
//
// It does not set the new process's desktop (STARTUPINFO.lpDesktop,
// which os/exec does not expose) to the user's winsta0\default: the
// installer shows no window, and whether every installer starts without
// it is not proven off real Windows.
func asUser(cmd *exec.Cmd, c *Credential) (release func(), err error) {
	var imp windows.Token
	if err := windows.WTSQueryUserToken(c.Session, &imp); err != nil {
		return nil, fmt.Errorf("WTSQueryUserToken session %d: %w: %w", c.Session, ErrUserToken, err)
	}
	defer imp.Close()
	var tok windows.Token
	if err := windows.DuplicateTokenEx(imp, windows.MAXIMUM_ALLOWED, nil, windows.SecurityImpersonation, windows.TokenPrimary, &tok); err != nil {
		return nil, fmt.Errorf("DuplicateTokenEx session %d: %w: %w", c.Session, ErrUserToken, err)
	}
	if err := tokenIs(tok, c.SID); err != nil {
		tok.Close()
		return nil, fmt.Errorf("session %d: %w", c.Session, err)
	}
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Token = syscall.Token(tok)
	cmd.Env = os.Environ()
	return func() { tok.Close() }, nil
}

// tokenIs checks that tok's user is sid and not a service account.
func tokenIs(tok windows.Token, sid string) error {
	u, err := tok.GetTokenUser()
	if err != nil {
		return fmt.Errorf("token user: %w: %w", ErrUserToken, err)
	}
	got := u.User.Sid.String()
	for _, svc := range []windows.WELL_KNOWN_SID_TYPE{windows.WinLocalSystemSid, windows.WinLocalServiceSid, windows.WinNetworkServiceSid} {
		if u.User.Sid.IsWellKnown(svc) {
			return fmt.Errorf("the token is the service account %s's: %w", got, ErrUserToken)
		}
	}
	if !strings.EqualFold(got, sid) {
		return fmt.Errorf("the token is %s's, want %s's: %w", got, sid, ErrUserToken)
	}
	return nil
}
