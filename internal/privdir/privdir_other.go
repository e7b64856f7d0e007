//go:build !windows

package privdir

import "os"

// tighten drops an existing dir's group and other permission bits.
func tighten(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return os.Chmod(dir, perm&^0o077)
	}
	return nil
}
