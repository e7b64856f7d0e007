//go:build !windows

package privdir

import (
	"os"
	"path/filepath"
	"testing"
)

func TestMake(t *testing.T) {
	root := t.TempDir()
	fresh := filepath.Join(root, "a", "b")
	loose := filepath.Join(root, "loose")
	if err := os.Mkdir(loose, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(loose, 0o777); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{fresh, filepath.Dir(fresh), loose} {
		if d != filepath.Dir(fresh) {
			if err := Make(d); err != nil {
				t.Fatal(err)
			}
		}
		fi, err := os.Stat(d)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != 0o700 {
			t.Errorf("%s: mode %o, want 700", d, got)
		}
	}
}
