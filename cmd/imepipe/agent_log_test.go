package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imepipe/imepipe/orchestrate"
	"github.com/imepipe/imepipe/orchestrate/cmtrace"
)

// TestLogFlags: --log-max-size and --log-max-files reach
// orchestrate.Config; the defaults are the IME's LogMaxSize (2 MB) and
// LogMaxHistory (1); bad values are usage errors naming the flag.
func TestLogFlags(t *testing.T) {
	for _, c := range []struct {
		args  []string
		size  int64
		files int
		bad   string
	}{
		{nil, 2 << 20, 1, ""},
		{[]string{"--log-max-size", "4MiB", "--log-max-files", "4"}, 4 << 20, 4, ""},
		{[]string{"--log-max-size", "big"}, 0, 0, "--log-max-size"},
		{[]string{"--log-max-size", "100"}, 0, 0, "--log-max-size"},
		{[]string{"--log-max-files", "0"}, 0, 0, "--log-max-files"},
	} {
		fs := newFlags(&env{}, "agent")
		apply := logFlags(fs)
		if _, err := parseFlags(fs, c.args); err != nil {
			t.Fatalf("%v: %v", c.args, err)
		}
		var cfg orchestrate.Config
		err := apply(&cfg)
		if c.bad != "" {
			if err == nil || !strings.Contains(err.Error(), c.bad) {
				t.Errorf("%v: err %v, want a usage error naming %s", c.args, err, c.bad)
			}
			continue
		}
		if err != nil || cfg.LogMaxSize != c.size || cfg.LogKeep != c.files {
			t.Errorf("%v: %v, size %d files %d; want %d and %d", c.args, err, cfg.LogMaxSize, cfg.LogKeep, c.size, c.files)
		}
	}
	if code, _, stderr := runCLI(t, "agent", "--log-max-files", "-1"); code != 2 || !strings.Contains(stderr, "--log-max-files") {
		t.Errorf("agent --log-max-files -1: exit %d, stderr %q", code, stderr)
	}
}

// TestAgentLogRotation: an agent run with a small --log-max-size rotates
// IntuneManagementExtension.log into IntuneManagementExtension-<stamp>.log
// files as the IME does, keeps --log-max-files of them, and every file
// still parses as CMTrace (no record is split across files).
func TestAgentLogRotation(t *testing.T) {
	skipAgentsOnWindows(t)
	url, secret, _ := testService(t, false)
	root := filepath.Join(t.TempDir(), "a")
	if code, _, stderr := runCLI(t, "agent", "--once", "-q", "--root", root, "--service", url, "--enrollment-secret-file", secret,
		"--peer-addr", "off", "--log-max-size", "4KiB", "--log-max-files", "2"); code != 0 {
		t.Fatalf("agent: %d %s", code, stderr)
	}
	logs := filepath.Join(root, "Logs")
	rotated, _ := filepath.Glob(filepath.Join(logs, "IntuneManagementExtension-*.log"))
	if len(rotated) != 2 {
		names, _ := os.ReadDir(logs)
		t.Fatalf("rotated logs %v (Logs holds %v), want the 2 kept", rotated, names)
	}
	for _, f := range append(rotated, filepath.Join(logs, "IntuneManagementExtension.log")) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		entries, err := cmtrace.Parse(strings.NewReader(string(data)))
		if err != nil || len(entries) == 0 {
			t.Fatalf("%s: %d records, %v", f, len(entries), err)
		}
		if len(data) > 4<<10 && len(entries) > 1 {
			t.Errorf("%s: %d bytes in %d records, past --log-max-size", f, len(data), len(entries))
		}
	}
}
