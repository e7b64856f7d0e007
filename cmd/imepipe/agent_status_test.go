package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// A second agent on a root whose agent runs says so, and what to use
// instead.
func TestAgentSecondOnRoot(t *testing.T) {
	skipAgentsOnWindows(t)
	url, secret, _ := testService(t, false)
	root := filepath.Join(t.TempDir(), "r2")
	startDaemon(t, "--peer-addr", "off", "--root", root, "--service", url, "--enrollment-secret-file", secret)
	code, _, stderr := runCLI(t, "agent", "--once", "-q", "--root", root)
	if code != 1 {
		t.Errorf("second agent: exit %d", code)
	}
	oneLine(t, "second agent", stderr, "imepipe agent: an agent is already running on "+root+" (use imepipe sync to ask it to sync)")
}

// grs reset refuses what is not an app id as a usage error, and says of
// an app the agent never saw that it has no such app, without a Go
// package's name.
func TestGRSResetArguments(t *testing.T) {
	skipAgentsOnWindows(t)
	url, secret, _ := testService(t, false)
	root := filepath.Join(t.TempDir(), "r")
	if code, _, stderr := agentOnce(t, root, url, secret); code != 0 {
		t.Fatalf("agent: exit %d %s", code, stderr)
	}
	code, _, stderr := runCLI(t, "grs", "reset", "nonsense", "--root", root)
	if code != 2 {
		t.Errorf("grs reset nonsense: exit %d", code)
	}
	oneLine(t, "not an app id", stderr, "imepipe grs: nonsense is not an app id: want APPID or APPID_REV, APPID a GUID (imepipe status lists them)")
	code, _, stderr = runCLI(t, "grs", "reset", failAppID, "--root", root)
	if code != 1 {
		t.Errorf("grs reset of an unknown app: exit %d", code)
	}
	oneLine(t, "unknown app", stderr, "imepipe grs: "+failAppID+": the agent has no such app (imepipe status lists those it has)")
}

// status on a folder that is no agent root names it once, without the
// system call's text or a Go package's name.
func TestStatusRootMessages(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nothere")
	code, _, stderr := runCLI(t, "status", "--root", missing)
	if code != 1 {
		t.Errorf("missing root: exit %d", code)
	}
	oneLine(t, "missing root", stderr, "imepipe status: agent root "+missing+" does not exist (start the agent there first, or give --root DIR of an agent, or set IMEPIPE_ROOT)")
	empty := t.TempDir()
	code, _, stderr = runCLI(t, "status", "--root", empty)
	if code != 1 || strings.Contains(stderr, "orchestrate") {
		t.Errorf("empty folder: exit %d", code)
	}
	oneLine(t, "empty folder", stderr, "imepipe status: "+empty+" is not an agent root: it has no state.db (give --root DIR of an agent, or set IMEPIPE_ROOT)")
}
