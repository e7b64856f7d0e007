// Package linkfile puts a name for an existing file at a new path without
// copying it when the system allows: a symbolic link, else a hard link, else a
// copy. Windows refuses symbolic links to processes without
// SeCreateSymbolicLinkPrivilege (and Wine 8 makes ones that do not resolve),
// so the service's apps folders laid out by the benchmarks and tests fall back
// to a hard link there. It does not replace an existing dst.
package linkfile

import (
	"fmt"
	"io"
	"os"
)

// Make makes dst name the regular file src. It tries a symbolic link (checked
// to resolve to a regular file), then a hard link, then a copy; it removes
// what a failed try left at dst, and never touches src.
func Make(src, dst string) error {
	// Checked first: Wine 8's symlink call "succeeds" over an existing file.
	if _, err := os.Lstat(dst); err == nil {
		return fmt.Errorf("linkfile: %s: %w", dst, os.ErrExist)
	}
	if err := os.Symlink(src, dst); err == nil {
		if st, err := os.Stat(dst); err == nil && st.Mode().IsRegular() {
			return nil
		}
		os.Remove(dst) // the link just made, which does not resolve
	}
	if err := os.Link(src, dst); err == nil {
		return nil
	}
	return copyFile(src, dst)
}

// copyFile copies src to a new dst; a failed copy leaves no dst.
func copyFile(src, dst string) (err error) {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("linkfile: %w", err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("linkfile: %w", err)
	}
	defer func() {
		if cerr := out.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("linkfile: %w", cerr)
		}
		if err != nil {
			os.Remove(dst)
		}
	}()
	if _, err := io.Copy(out, in); err != nil {
		return fmt.Errorf("linkfile: copy %s: %w", src, err)
	}
	return nil
}
