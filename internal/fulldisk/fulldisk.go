// Package fulldisk gives tests a small file system of its own, to run out
// of space for real: a tmpfs of a given size mounted on a temp directory.
// It needs Linux and root; elsewhere the test is skipped.
package fulldisk

import "testing"

// Dir returns an empty directory on a file system of size bytes, removed
// when t ends; it skips t where that cannot be had.
func Dir(t testing.TB, size int64) string {
	t.Helper()
	dir := t.TempDir()
	if err := mount(dir, size); err != nil {
		t.Skipf("no small file system for a full-disk test: %v", err)
	}
	t.Cleanup(func() {
		if err := unmount(dir); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}
