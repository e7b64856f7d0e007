//go:build unix

package stage

import (
	"io/fs"
	"os"
	"syscall"
)

// keepDirAttrs gives dst, the root of a tree about to replace a folder,
// that folder's mode bits (old is its Lstat), setuid, setgid and sticky
// included, and, when the process runs as root, its owner and group. Run
// as another user it tries the group alone, which the system allows when
// the user is a member of it, and keeps its own group otherwise (then
// Linux also drops setgid). ACLs and extended attributes are not copied.
func keepDirAttrs(old fs.FileInfo, dst string) error {
	if st, ok := old.Sys().(*syscall.Stat_t); ok {
		root := os.Geteuid() == 0
		uid := -1
		if root {
			uid = int(st.Uid)
		}
		if err := os.Lchown(dst, uid, int(st.Gid)); err != nil && root {
			return err
		}
	}
	return os.Chmod(dst, old.Mode()&(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky))
}
