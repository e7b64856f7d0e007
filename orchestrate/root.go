package orchestrate

import (
	"errors"
	"fmt"
	"os"
	"path"
	"strings"
)

// ErrNotRoot: a folder given to a command that reads an agent's state is
// not an agent root (it has no state.db).
var ErrNotRoot = errors.New("orchestrate: not an agent root")

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
// saying what to give.
func CheckRoot(root string) error {
	if _, err := os.Stat(LayoutOf(root).State); err != nil {
		if _, derr := os.Stat(root); derr != nil {
			return fmt.Errorf("agent root %s: %w (start the agent there first, or give --root or set IMEPIPE_ROOT)", root, derr)
		}
		return fmt.Errorf("%w: %s has no state.db (give --root DIR of an agent, or set IMEPIPE_ROOT)", ErrNotRoot, root)
	}
	return nil
}
