//go:build unix

package stage

import (
	"io/fs"
	"os"
	"syscall"
	"testing"
)

// chownNobody gives p to nobody (65534:65534) when the test runs as root,
// so that keeping the owner is seen to be done, not inherited.
func chownNobody(t *testing.T, p string) {
	t.Helper()
	if os.Geteuid() != 0 {
		return
	}
	if err := os.Lchown(p, 65534, 65534); err != nil {
		t.Fatal(err)
	}
}

func sameOwner(t *testing.T, before, after fs.FileInfo) {
	t.Helper()
	b, a := before.Sys().(*syscall.Stat_t), after.Sys().(*syscall.Stat_t)
	if a.Uid != b.Uid || a.Gid != b.Gid {
		t.Errorf("owner %d:%d, want %d:%d", a.Uid, a.Gid, b.Uid, b.Gid)
	}
}
