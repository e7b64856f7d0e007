package orchestrate

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
)

// ErrNotRoot: a folder given to a command that reads an agent's state is
// not an agent root (it has no state.db). Its text stands in CheckRoot's
// one-line message, which the CLI prints as it is.
var ErrNotRoot = errors.New("not an agent root")

// DefaultRoot is the agent root every command uses when --root is not
// given: $IMEPIPE_ROOT when set (installers see it), else one folder per
// OS, laid out as LayoutOf says (Content\Incoming, Content\Staging, Logs,
// IMECache, DOCache, state.db):
//
//   - Windows: %ProgramData%\imepipe, beside the IME's
//     %ProgramData%\Microsoft\IntuneManagementExtension;
//   - elsewhere, run as root: /var/lib/imepipe;
//   - elsewhere, as a user: $XDG_STATE_HOME/imepipe, or
//     ~/.local/state/imepipe when XDG_STATE_HOME is unset.
//
// It does not create the folder.
func DefaultRoot() string {
	home, _ := os.UserHomeDir()
	return defaultRoot(goos, os.Getenv, os.Geteuid(), home)
}

// defaultRoot is DefaultRoot for an OS, environment, effective user id
// and home folder (a test's).
func defaultRoot(goos string, getenv func(string) string, euid int, home string) string {
	if r := getenv("IMEPIPE_ROOT"); r != "" {
		return r
	}
	if goos == "windows" {
		pd := getenv("ProgramData")
		if pd == "" {
			pd = `C:\ProgramData`
		}
		return pd + `\imepipe`
	}
	if euid == 0 {
		return "/var/lib/imepipe"
	}
	// Unix paths, whatever OS builds them (tests run this for linux on Windows).
	if x := getenv("XDG_STATE_HOME"); strings.HasPrefix(x, "/") {
		return path.Join(x, "imepipe")
	}
	return path.Join(home, ".local", "state", "imepipe")
}

// CheckRoot reports whether root is an agent root (it holds state.db):
// commands that read or act on an agent's state refuse any other folder
// rather than creating the agent layout there. The error is one line
// naming root once and saying what to give; it wraps ErrNotRoot, or the
// reason root cannot be read (fs.ErrNotExist, fs.ErrPermission, …).
func CheckRoot(root string) error {
	const give = "give --root DIR of an agent, or set IMEPIPE_ROOT"
	if _, err := os.Stat(LayoutOf(root).State); err != nil {
		_, derr := os.Stat(root)
		switch {
		case errors.Is(derr, fs.ErrNotExist):
			return &rootError{fmt.Sprintf("agent root %s does not exist (start the agent there first, or %s)", root, give), derr}
		case derr != nil:
			return &rootError{fmt.Sprintf("agent root %s: %v (%s)", root, pathReason(derr), give), derr}
		}
		return fmt.Errorf("%s is %w: it has no state.db (%s)", root, ErrNotRoot, give)
	}
	return nil
}

// rootError is CheckRoot's error for a root it cannot read: its own
// message, the file system's error below it.
type rootError struct {
	msg string
	err error
}

func (e *rootError) Error() string { return e.msg }
func (e *rootError) Unwrap() error { return e.err }

// pathReason is a file system error without the operation and path that
// *fs.PathError repeats ("permission denied").
func pathReason(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
