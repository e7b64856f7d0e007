package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAuditDOPinLines: do pin of something that is no DoFileId is a
// usage error (exit 2) that points at do status; of a FileId the cache
// has no record of, one line with no package name ("peer: unknown
// DoFileId: …") that says where to find the FileIds.
func TestAuditDOPinLines(t *testing.T) {
	root := doRoot(t)
	for _, id := range []string{"../x", ".hidden", ""} {
		code, stdout, stderr := runCLI(t, "do", "pin", "--root", root, id)
		if code != 2 || stdout != "" || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "is not a DoFileId") || strings.Contains(stderr, "peer:") {
			t.Errorf("pin %q: exit %d, stdout %q, stderr %q; want 2 and one line", id, code, stdout, stderr)
		}
	}
	code, stdout, stderr := runCLI(t, "do", "unpin", "--root", root, "zzzz")
	want := "imepipe do: zzzz: no DO record of that FileId in " + filepath.Join(root, "DOCache") + " (imepipe do status --root " + shellWord(root) + " lists them)\n"
	if code != 1 || stdout != "" || stderr != want {
		t.Errorf("unpin zzzz: exit %d, stdout %q, stderr %q; want 1 and %q", code, stdout, stderr, want)
	}
}

// TestAuditDOStatusNoCache: an agent root whose DOCache is gone (deleted
// to free space, or never made) has no DO records: do status lists none
// (--json: []), as Get-DeliveryOptimizationStatus does on an empty cache,
// instead of failing with "open …/DOCache: no such file or directory".
func TestAuditDOStatusNoCache(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "state.db"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, "do", "status", "--root", root, "--json")
	if code != 0 || strings.TrimSpace(stdout) != "[]" || stderr != "" {
		t.Fatalf("--json: exit %d, stdout %q, stderr %q; want [] and exit 0", code, stdout, stderr)
	}
	for _, args := range [][]string{{"--table"}, {}} {
		code, stdout, stderr := runCLI(t, append([]string{"do", "status", "--root", root}, args...)...)
		if code != 0 || stdout != "" || stderr != "" {
			t.Errorf("do status %v: exit %d, stdout %q, stderr %q; want nothing and exit 0", args, code, stdout, stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "DOCache")); err == nil {
		t.Error("do status created DOCache")
	}
}

// TestDOStatusDamagedRecord: a DO record that cannot be read is left out
// of do status with one warning line naming it, as
// Get-DeliveryOptimizationStatus lists what it can; the others are
// listed (it failed with "peer: PATH: invalid character …").
func TestDOStatusDamagedRecord(t *testing.T) {
	root := doRoot(t)
	bad, err := filepath.Glob(filepath.Join(root, "DOCache", "bbbb.*"))
	if err != nil || len(bad) != 1 {
		t.Fatalf("the record of bbbb: %v %v", bad, err)
	}
	if err := os.WriteFile(bad[0], []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, "do", "status", "--root", root, "--json")
	if code != 0 || !strings.Contains(stdout, `"FileId": "aaaa"`) || strings.Contains(stdout, "bbbb") {
		t.Errorf("exit %d, stdout %s; want aaaa alone", code, stdout)
	}
	if !strings.HasPrefix(stderr, "imepipe do status: warning: "+bad[0]+" left out: not a readable DO record (") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("stderr %q; want one warning naming %s", stderr, bad[0])
	}
}
