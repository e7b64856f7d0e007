// Package privdir creates folders private to the agent: the agent's
// content folders (Content/Incoming, Content/Staging, IMECache with
// plaintext installers, DOCache). On Unix they are 0700 for the current
// user. On Windows, where mode bits mean nothing, they get a protected
// DACL (no inheritance from the parent) for SYSTEM and Administrators, as
// the IME sets, plus the agent's own user when that is neither (SDDL).
// It does not change the owner, nor the ACLs of files already inside.
package privdir

import "os"

// Make creates dir and its missing parents 0700, then tightens dir: on
// Windows it sets dir's DACL to SDDL("FA", true) (an existing dir too);
// on Unix an existing dir with group or other permission bits is chmod-ed
// to drop them: os.MkdirAll leaves an existing folder's mode as it is,
// which is how a cache that "asks for 0700" kept the 0755 an earlier
// MkdirAll gave it.
func Make(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return tighten(dir)
}
