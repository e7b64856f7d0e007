//go:build !windows

package privdir

// protect is Windows' ACL step; Unix has the mode bits.
func protect(string) error { return nil }
