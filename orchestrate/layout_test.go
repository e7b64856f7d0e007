package orchestrate

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// TestLayoutModes: the folders holding content (Content, Incoming,
// Staging, IMECache, DOCache) are created 0700, and ones left 0755/0777 by
// an older agent are tightened when the agent starts, with the DO cache
// open (peering) too; the root and Logs stay 0755.
func TestLayoutModes(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("mode bits mean nothing on Windows")
	}
	h := newHarness(t, []testApp{fileApp("Modes", "required")}, func(c *Config) { c.PeerAddr = "127.0.0.1:0" })
	l := h.agent.layout
	private := []string{filepath.Dir(l.Incoming), l.Incoming, l.Staging, l.IMECache, l.DOCache}
	check := func(when string) {
		t.Helper()
		for _, d := range private {
			if fi, err := os.Stat(d); err != nil || fi.Mode().Perm() != 0o700 {
				t.Errorf("%s: %s mode %v (%v), want 0700", when, d, fi.Mode().Perm(), err)
			}
		}
		for _, d := range []string{l.Root, l.Logs} {
			if fi, err := os.Stat(d); err != nil || fi.Mode().Perm() != 0o755 {
				t.Errorf("%s: %s mode %v (%v), want 0755", when, d, fi.Mode().Perm(), err)
			}
		}
	}
	check("fresh root")
	h.agent.Close()
	for i, d := range private {
		must(t, os.Chmod(d, []os.FileMode{0o755, 0o777}[i%2]))
	}
	h.open()
	check("reopened root")
}
