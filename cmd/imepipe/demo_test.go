package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imepipe/imepipe/internal/clocktest"
	"github.com/imepipe/imepipe/orchestrate/cmtrace"
	"github.com/imepipe/imepipe/orchestrate/imelog"
)

// TestDemo runs the first-run demo end to end on loopback: pack, inspect,
// tamper check, service, five agents installing with a chained
// installer, the second and third taking the content from LAN peers, the
// fourth (another LAN, same group) from a Group peer and the fifth
// (another LAN and group, mode 3) from an Internet peer; the DO table
// shows LAN, Group and Internet bytes.
//
// Acceptance 3: the seeding agent's `do status`, printed while it still
// runs, has 28 fields per record, Status Caching (it has just served
// the LAN round; the agents' DO clock is a manual one here, so the
// CachingWindow cannot pass under a loaded machine) and non-zero
// BytesToLanPeers.
func TestDemo(t *testing.T) {
	skipAgentsOnWindows(t)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	demoDOClock = clocktest.New(time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC))
	t.Cleanup(func() { demoDOClock = nil })
	code, stdout, stderr := runCLI(t, "demo", "--size", "2MiB", "--keep")
	if code != 0 {
		t.Fatalf("demo exit %d: %s\n%s", code, stderr, stdout)
	}
	for _, want := range []string{"tampered copy refused, nothing written to tampered/: ", "at https://127.0.0.1:", "TLS: certificate", "[4/4]", "BytesFromLanPeers", "done;",
		"waited for its whole process tree (1 more processes reaped)"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("demo output lacks %q:\n%s", want, stdout)
		}
	}
	for _, name := range []string{"DEMO-PC-1", "DEMO-PC-2", "DEMO-PC-3", "DEMO-PC-4", "DEMO-PC-5"} {
		if !strings.Contains(stdout, name+" Contoso Demo: EnforcementState 1000, ComplianceState 1;") {
			t.Errorf("demo output lacks %s's install:\n%s", name, stdout)
		}
	}
	// B or C took bytes from a LAN peer: "…; 2.0 MiB: 0 B HTTP, 2.0 MiB LAN peers".
	peered := regexp.MustCompile(`DEMO-PC-[23] .*: \S+ \S+ HTTP, ([1-9][0-9.]* \S+) LAN peers`)
	if !peered.MatchString(stdout) {
		t.Errorf("neither B nor C got bytes from LAN peers:\n%s", stdout)
	}
	// The DO table: PC-4's BytesFromGroupPeers and PC-5's
	// BytesFromInternetPeers (the 3rd and 4th byte counts) are not zero.
	for _, c := range []struct {
		name string
		col  int
	}{{"DEMO-PC-4", 2}, {"DEMO-PC-5", 3}} {
		row := regexp.MustCompile(`(?m)^  ` + c.name + `  .*$`).FindString(stdout)
		f := regexp.MustCompile(`\d+(?:\.\d+)? [KMGT]?i?B`).FindAllString(row, -1)
		if len(f) < 4 || strings.HasPrefix(f[c.col], "0 ") {
			t.Errorf("DO row of %s: %q (byte counts %q), want count %d not zero", c.name, row, f, c.col+1)
		}
	}
	for _, col := range []string{"BytesFromGroupPeers", "BytesFromInternetPeers"} {
		if !strings.Contains(stdout, col) {
			t.Errorf("DO table lacks %s", col)
		}
	}
	rec := seederRecord(t, stdout)
	if len(rec) != 28 {
		t.Errorf("the seeder's do status record has %d fields, want 28: %v", len(rec), rec)
	}
	if rec["Status"] != "Caching" || rec["PredefinedCallerApplication"] == "" || rec["ExpireOn"] == "" || rec["IsPinned"] != "False" {
		t.Errorf("the seeder's record while it serves: %v", rec)
	}
	if n, err := strconv.ParseInt(rec["BytesToLanPeers"], 10, 64); err != nil || n <= 0 {
		t.Errorf("the seeder's BytesToLanPeers while it runs: %q", rec["BytesToLanPeers"])
	}
	demoLogSpeaksIME(t, tmp)
}

// seederRecord is the first Format-List record printed after the demo's
// "imepipe do status" line: name → value, every line checked to be
// "Name<padding> : value" with the names padded to one width.
func seederRecord(t *testing.T, stdout string) map[string]string {
	t.Helper()
	_, after, ok := strings.Cut(stdout, "imepipe do status --root ")
	if !ok {
		t.Fatalf("demo output lacks the seeder's do status:\n%s", stdout)
	}
	lines := strings.Split(after, "\n")[1:]
	if len(lines) == 0 || lines[0] != "" {
		t.Fatalf("do status does not start with a blank line: %q", lines[:min(3, len(lines))])
	}
	rec := map[string]string{}
	width := -1
	for _, l := range lines[1:] {
		if l == "" {
			break
		}
		i := strings.Index(l, " : ")
		if i < 0 || (width >= 0 && i != width) {
			t.Fatalf("not a Format-List line (or another name width): %q", l)
		}
		width = i
		rec[strings.TrimRight(l[:i], " ")] = l[i+3:]
	}
	return rec
}

// demoLogSpeaksIME: every record of every demo agent's
// IntuneManagementExtension.log is a phrase of the IME vocabulary, and
// the phases the analyzers look for are there.
func demoLogSpeaksIME(t *testing.T, tmp string) {
	t.Helper()
	logs, _ := filepath.Glob(filepath.Join(tmp, "imepipe-demo-*", "DEMO-PC-*", "Logs", imelog.FileIME))
	if len(logs) != 5 {
		t.Fatalf("demo logs %v, want 5", logs)
	}
	for _, path := range logs {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		entries, err := cmtrace.Parse(strings.NewReader(string(data)))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		seen := map[string]bool{}
		for _, e := range entries {
			p, ok := imelog.Match(e.Message)
			if !ok {
				t.Errorf("%s: %q is not an imelog phrase", path, e.Message)
			}
			seen[p.ID] = true
		}
		for _, p := range []imelog.Phrase{imelog.EMSAgentStarted, imelog.PollerStart, imelog.GetPolicies, imelog.SubgraphStart, imelog.ResponseFromIntune,
			imelog.DOProgress, imelog.DecryptionDone, imelog.CreateInstallerOK, imelog.ExitCodeDefinedAs, imelog.CleaningUp, imelog.PollerStop} {
			if !seen[p.ID] {
				t.Errorf("%s: no %s line", path, p.ID)
			}
		}
	}
}
