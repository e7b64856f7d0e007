package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPackWarning: a Downloads-like setup folder (another installer
// beside the setup file, or far more bytes than it) gets one warning
// line on stderr and is still packed (exit 0); -q silences it; an
// ordinary folder gets none.
func TestPackWarning(t *testing.T) {
	root := t.TempDir()
	mk := func(dir string, files map[string]int) string {
		d := filepath.Join(root, dir)
		os.MkdirAll(d, 0o755)
		for n, size := range files {
			if err := os.WriteFile(filepath.Join(d, n), make([]byte, size), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return d
	}
	downloads := mk("Downloads", map[string]int{"setup.exe": 1000, "zoom.exe": 10, "readme.txt": 5})
	many := mk("stuff", map[string]int{"install.cmd": 1000, "a.exe": 10, "b.msi": 10})
	plain := mk("app", map[string]int{"setup.exe": 1000, "config.ini": 10, "redist.exe": 10})
	for _, c := range []struct {
		folder, setup string
		quiet, warn   bool
	}{
		{downloads, "setup.exe", false, true},
		{downloads, "setup.exe", true, false},
		{many, "install.cmd", false, true},
		{plain, "setup.exe", false, false}, // one extra installer outside a Downloads-like folder: prerequisites
	} {
		args := []string{"pack", "-c", c.folder, "-s", c.setup, "-o", t.TempDir()}
		if c.quiet {
			args = append(args, "-q")
		}
		code, stdout, stderr := runCLI(t, args...)
		if code != 0 || !strings.HasPrefix(stdout, "packed ") {
			t.Fatalf("%v: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
		}
		if got := strings.Contains(stderr, "warning:"); got != c.warn || strings.Count(stderr, "\n") > 1 {
			t.Errorf("%v: stderr %q, want warning %v in at most one line", args, stderr, c.warn)
		}
	}
}

// TestPackWarningSize: the size rule alone (no other installer).
func TestPackWarningSize(t *testing.T) {
	d := t.TempDir()
	os.WriteFile(filepath.Join(d, "setup.exe"), make([]byte, 4<<20), 0o644)
	if w := packWarning(d, "setup.exe", 15<<30); !strings.Contains(w, "15 GiB for a 4.0 MiB setup file") {
		t.Errorf("15 GiB folder: %q", w)
	}
	if w := packWarning(d, "setup.exe", 30<<20); w != "" {
		t.Errorf("30 MiB folder, 4 MiB setup: %q, want no warning (under 100 MiB)", w)
	}
	if w := packWarning(d, "setup.exe", 200<<20); !strings.Contains(w, "200 MiB") {
		t.Errorf("200 MiB folder, 4 MiB setup: %q, want a warning (over 10× and 100 MiB)", w)
	}
}
