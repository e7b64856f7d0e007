package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAuditBenchValuesCheckedFirst: a bench flag value that cannot work
// is a usage error (exit 2, one line naming the flag) before anything is
// generated: --out is not even created. --only used to be checked after
// the dataset was generated and packed (exit 1, "e2e: no run named");
// --install-seconds NaN or Inf passed "< 0" and ran a sync whose
// installers all failed; a DO policy past a DWORD overflowed once turned
// into bytes per second.
func TestAuditBenchValuesCheckedFirst(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	small := []string{"--size", "64KiB", "--out", out}
	for _, c := range []struct {
		args []string
		flag string
	}{
		{append([]string{"bench", "--runs", "1", "--only", "imepipe,bogus"}, small...), "--only"},
		{append([]string{"bench", "sync", "--apps", "1", "--runs", "1", "--install-seconds", "NaN"}, small...), "--install-seconds"},
		{append([]string{"bench", "sync", "--apps", "1", "--runs", "1", "--install-seconds", "Inf"}, small...), "--install-seconds"},
		{append([]string{"bench", "sync", "--apps", "1", "--runs", "1", "--install-seconds", "1e300"}, small...), "--install-seconds"},
		{append([]string{"bench", "fleet", "--agents", "1", "--baseline=false", "--do-min-background-qos", "99999999999999"}, small...), "--do-min-background-qos"},
		// bench fleet took any size of at least 1 B, then failed generating
		// its dataset ("bench: dataset size too small", exit 1).
		{[]string{"bench", "fleet", "--agents", "1", "--baseline=false", "--size", "100", "--out", out}, "--size"},
		{append([]string{"bench", "fleet", "--agents", "1", "--baseline=false", "--do-max-upload-bandwidth", "9007199254740993"}, small...), "--do-max-upload-bandwidth"},
	} {
		args := c.args
		code, stdout, stderr := runCLI(t, args...)
		if code != 2 || stdout != "" || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, c.flag) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want 2 and one line naming %s", args, code, stdout, stderr, c.flag)
		}
		if _, err := os.Stat(out); err == nil {
			t.Fatalf("%v created %s before refusing", args, out)
		}
	}
	if got, err := parseRuns(" imepipe , imepipe-lan,imepipe"); err != nil || strings.Join(got, ",") != "imepipe,imepipe-lan" {
		t.Errorf("parseRuns: %q, %v; want the two names once each", got, err)
	}
	if got, err := parseRuns(""); err != nil || got != nil {
		t.Errorf("parseRuns(\"\"): %q, %v; want every run (nil)", got, err)
	}
	if _, err := parseRuns("imepipe,"); err == nil {
		t.Error("parseRuns took an empty name")
	}
}

// TestAuditBenchInterrupted: a benchmark Ctrl-C stopped says so in one
// line and exits 130, not with what its killed child or cancelled
// request reported ("e2e: imepipe-mcc: bench: run failed: …: signal:
// killed").
func TestAuditBenchInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	stop := &stopSignal{sig: os.Interrupt}
	cancel(stop)
	var out, errb bytes.Buffer
	dir := filepath.Join(t.TempDir(), "out")
	code := run(ctx, &env{stdout: &out, stderr: &errb}, []string{"bench", "local", "--size", "64KiB", "--runs", "1", "--no-tools", "--out", dir})
	// The log lines of what ran before the stop come first, on stderr.
	if want := "\nimepipe bench: interrupted; no report written\n"; code != stop.exitStatus() || !strings.HasSuffix(errb.String(), want) ||
		strings.Count(errb.String(), "imepipe bench:") != 1 || out.Len() != 0 {
		t.Fatalf("interrupted bench local: exit %d, stdout %q, stderr %q; want %d and %q", code, out.String(), errb.String(), stop.exitStatus(), want)
	}
	if _, err := os.Stat(filepath.Join(dir, "report.json")); err == nil {
		t.Error("an interrupted bench wrote its report")
	}
	// Errors of a run nobody stopped pass unchanged.
	if err := benchFailed(context.Background(), io.ErrUnexpectedEOF); err != io.ErrUnexpectedEOF {
		t.Errorf("benchFailed changed an error of a run not stopped: %v", err)
	}
}

// fakeReport is a bench.Reporter with a fixed text.
type fakeReport struct{ Name string }

func (fakeReport) WriteText(w io.Writer) error { _, err := io.WriteString(w, "report\n"); return err }
func (fakeReport) WriteSVG(w io.Writer) error  { _, err := io.WriteString(w, "<svg/>"); return err }

// TestAuditBenchReportPaths: where the report went is one line of paths
// separated by commas, not a Go slice ("[a b c]").
func TestAuditBenchReportPaths(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	if err := reportBench(&env{stdout: &out, stderr: &errb}, dir, false, fakeReport{}); err != nil {
		t.Fatal(err)
	}
	line := errb.String()
	want := "bench: report written to " + filepath.Join(dir, "report.json") + ", "
	if !strings.HasPrefix(line, want) || strings.ContainsAny(line, "[]") || strings.Count(line, "\n") != 1 || out.String() != "report\n" {
		t.Fatalf("stderr %q, stdout %q; want a line starting %q", line, out.String(), want)
	}
}

// TestAuditBenchFleetBanned: bench fleet's summary names the banned
// peers only when there are some ("banned peers: 0", not "0 []").
func TestAuditBenchFleetBanned(t *testing.T) {
	if got := bannedText(0, nil); got != "0" {
		t.Errorf("none banned: %q", got)
	}
	if got := bannedText(2, []string{"agent03", "agent07"}); got != "2 (agent03, agent07)" {
		t.Errorf("two banned: %q", got)
	}
}

// TestAuditBenchHelpPlaceholders: every bench help names its values as
// the README does (SIZE, RATE, DIR, …), never the flag package's VALUE.
func TestAuditBenchHelpPlaceholders(t *testing.T) {
	for _, cmd := range [][]string{{"bench"}, {"bench", "local"}, {"bench", "fleet"}, {"bench", "service"}, {"bench", "sync"}, {"mcc"}} {
		code, stdout, _ := runCLI(t, append(cmd, "--help")...)
		if code != 0 || strings.Contains(stdout, "VALUE") {
			t.Errorf("%v --help: exit %d, a VALUE placeholder:\n%s", cmd, code, stdout)
		}
	}
	_, stdout, _ := runCLI(t, "bench", "--help")
	for _, want := range []string{"--size SIZE", "--origin-rate RATE", "--out DIR", "--only RUNS"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("bench --help lacks %q", want)
		}
	}
}

// TestAuditBenchOutIsAFile: an --out that is a file, or lies under one,
// is a usage error naming --out before anything is generated, not
// "e2e: unlinkat FILE/installer-65536-s1-g1.partial: not a directory"
// once the dataset is under way.
func TestAuditBenchOutIsAFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{file, filepath.Join(file, "sub", "dir")} {
		for _, cmd := range [][]string{
			{"bench", "--runs", "1"}, {"bench", "local", "--runs", "1", "--no-tools"}, {"bench", "sync", "--apps", "1", "--runs", "1"},
			{"bench", "fleet", "--agents", "1", "--baseline=false"}, {"bench", "service", "--agents", "1", "--rounds", "1", "--store", "bbolt"},
		} {
			args := append(cmd, "--out", out)
			if cmd[1] != "service" {
				args = append(args, "--size", "64KiB")
			}
			code, stdout, stderr := runCLI(t, args...)
			if code != 2 || stdout != "" || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "for --out: "+file+" is a file, not a folder") {
				t.Errorf("%v: exit %d, stdout %q, stderr %q; want 2 and one line naming --out", args, code, stdout, stderr)
			}
		}
	}
	if ents, _ := os.ReadDir(filepath.Dir(file)); len(ents) != 1 {
		t.Errorf("refused benches left %d entries beside the file", len(ents)-1)
	}
}
