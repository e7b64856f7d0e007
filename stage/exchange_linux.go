package stage

import sys "golang.org/x/sys/unix"

// exchange swaps the names a and b atomically (renameat2 with
// RENAME_EXCHANGE), so that a replaced destination is never missing for a
// moment; an error (an old kernel, a file system without it) makes the
// caller rename in two steps.
func exchange(a, b string) error {
	return sys.Renameat2(sys.AT_FDCWD, a, sys.AT_FDCWD, b, sys.RENAME_EXCHANGE)
}
