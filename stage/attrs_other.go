//go:build !unix

package stage

import "io/fs"

// keepDirAttrs does nothing here. On Windows a folder's access is its
// ACL, which is not copied: a folder that replaces another gets the ACL
// it inherits from its parent, as any new folder does (a folder filled in
// place, inplace.go, keeps its own). Its one mode bit, read-only, means
// nothing for a folder.
func keepDirAttrs(fs.FileInfo, string) error { return nil }
