// Package privdir creates folders private to the current user: the
// agent's content folders (Content/Incoming, Content/Staging, IMECache
// with plaintext installers, DOCache). It does not set ACLs on Windows,
// where the mode bits mean nothing and a folder inherits its parent's ACL.
package privdir

import (
	"os"
	"runtime"
)

// Make creates dir and its missing parents 0700. On Unix an existing dir
// with group or other permission bits is chmod-ed to drop them:
// os.MkdirAll leaves an existing folder's mode as it is, which is how a
// cache that "asks for 0700" kept the 0755 an earlier MkdirAll gave it.
func Make(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if runtime.GOOS == "windows" {
		return nil
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return os.Chmod(dir, perm&^0o077)
	}
	return nil
}
