package main

import (
	"encoding/json"
	"path/filepath"
	"testing"
)

// `imepipe agent --download-mode 0` after `--download-mode 1` stores 0
// (0 was the "unset" value once, and the stored 1 stayed).
func TestAgentDownloadModeZeroAfterOne(t *testing.T) {
	root := filepath.Join(t.TempDir(), "r")
	secret := writeSecret(t)
	stored := func() string {
		t.Helper()
		code, stdout, stderr := runCLI(t, "status", "--json", "--root", root)
		if code != 1 { // not enrolled: exit 1, the document printed all the same
			t.Fatalf("status: %d %s", code, stderr)
		}
		var st struct{ Settings map[string]string }
		if err := json.Unmarshal([]byte(stdout), &st); err != nil {
			t.Fatal(err)
		}
		return st.Settings["DownloadMode"]
	}
	for _, mode := range []string{"1", "0"} {
		// The service cannot be reached: the run fails after storing its settings.
		if code, _, stderr := runCLI(t, "agent", "--once", "-q", "--root", root, "--download-mode", mode, "--service", "http://127.0.0.1:1", "--enrollment-secret-file", secret); code != 1 {
			t.Fatalf("agent --download-mode %s: exit %d, %s", mode, code, stderr)
		}
		if got := stored(); got != mode {
			t.Fatalf("after --download-mode %s the stored mode is %q", mode, got)
		}
	}
	if code, _, stderr := runCLI(t, "agent", "--once", "-q", "--root", root, "--download-mode", "7", "--service", "http://127.0.0.1:1", "--enrollment-secret-file", secret); code != 2 || stored() != "0" {
		t.Fatalf("--download-mode 7: exit %d (%s), stored %q; want a usage error and 0 kept", code, stderr, stored())
	}
}
