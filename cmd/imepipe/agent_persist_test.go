package main

import (
	"strings"
	"testing"

	"github.com/imepipe/imepipe/orchestrate"
)

// TestPersistFlags: --persist-max-size and --persist-max-apps reach
// orchestrate.Config; the defaults are the agent's 10 GiB and 20 apps;
// bad values are usage errors naming the flag.
func TestPersistFlags(t *testing.T) {
	for _, c := range []struct {
		args  []string
		bytes int64
		apps  int
		bad   string
	}{
		{nil, 10 << 30, 20, ""},
		{[]string{"--persist-max-size", "20GiB", "--persist-max-apps", "40"}, 20 << 30, 40, ""},
		{[]string{"--persist-max-size", "lots"}, 0, 0, "--persist-max-size"},
		{[]string{"--persist-max-size", "10KiB"}, 0, 0, "--persist-max-size"},
		{[]string{"--persist-max-apps", "0"}, 0, 0, "--persist-max-apps"},
	} {
		fs := newFlags(&env{}, "agent")
		apply := persistFlags(fs)
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
		if err != nil || cfg.PersistMaxBytes != c.bytes || cfg.PersistMaxApps != c.apps {
			t.Errorf("%v: %v, bytes %d apps %d; want %d and %d", c.args, err, cfg.PersistMaxBytes, cfg.PersistMaxApps, c.bytes, c.apps)
		}
	}
	// And through the whole command: a bad value is exit 2 before anything runs.
	if code, _, stderr := runCLI(t, "agent", "--persist-max-apps", "-1"); code != 2 || !strings.Contains(stderr, "--persist-max-apps") {
		t.Errorf("agent --persist-max-apps -1: exit %d, stderr %q", code, stderr)
	}
}
