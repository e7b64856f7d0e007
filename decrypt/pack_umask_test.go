//go:build unix

package decrypt

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestPackRespectsUmask: the package is 0666 less the umask, as
// Microsoft's tool leaves it (it used to be os.CreateTemp's 0600).
func TestPackRespectsUmask(t *testing.T) {
	src := packFolder(t)
	for _, mask := range []int{0o022, 0o077} {
		old := syscall.Umask(mask)
		out := filepath.Join(t.TempDir(), "setup.intunewin")
		_, err := Pack(context.Background(), src, "setup.exe", out, PackOptions{})
		syscall.Umask(old)
		if err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(out)
		if err != nil {
			t.Fatal(err)
		}
		if want := os.FileMode(0o666 &^ mask); st.Mode().Perm() != want {
			t.Errorf("umask %03o: mode %v, want %v", mask, st.Mode().Perm(), want)
		}
	}
}
