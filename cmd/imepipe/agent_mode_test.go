package main

import (
	"encoding/json"
	"path/filepath"
	"testing"
)

// TestAgentKeepsDownloadMode: --download-mode is kept in the root like
// --peer-addr and --lan-id (DODownloadMode is a policy that stays set): a
// later run without the flag keeps mode 0 instead of peering again in
// the flag's default mode 1; a fresh root without it gets mode 1.
func TestAgentKeepsDownloadMode(t *testing.T) {
	skipAgentsOnWindows(t)
	url, secret, _ := testService(t, false)
	dir := t.TempDir()
	mode := func(root string) string {
		t.Helper()
		code, stdout, stderr := runCLI(t, "status", "--json", "--root", root)
		var st struct {
			Settings map[string]string `json:"settings"`
		}
		if err := json.Unmarshal([]byte(stdout), &st); code != 0 || err != nil {
			t.Fatalf("status: exit %d, %v, %s", code, err, stderr)
		}
		return st.Settings["DownloadMode"]
	}
	once := func(root string, args ...string) {
		t.Helper()
		args = append([]string{"agent", "--once", "-q", "--peer-addr", "off", "--root", root, "--service", url, "--enrollment-secret-file", secret}, args...)
		if code, _, stderr := runCLI(t, args...); code != 0 {
			t.Fatalf("agent %v: exit %d, %s", args, code, stderr)
		}
	}
	kept := filepath.Join(dir, "kept")
	once(kept, "--download-mode", "0")
	once(kept)
	if m := mode(kept); m != "0" {
		t.Errorf("after a run without --download-mode: DownloadMode %q, want the stored 0", m)
	}
	fresh := filepath.Join(dir, "fresh")
	once(fresh)
	if m := mode(fresh); m != "1" {
		t.Errorf("a fresh root without --download-mode: DownloadMode %q, want 1", m)
	}
}
