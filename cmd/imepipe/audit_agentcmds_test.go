package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAuditAppCmdArguments: install and uninstall check their APPID
// before asking the agent or the service: APPID_REV (the form status
// prints) says to leave out the revision, anything else is no app id;
// both exit 2 with one line.
func TestAuditAppCmdArguments(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "state.db"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ arg, want string }{
		{"banana", "banana is not an app id"},
		{demoAppID + "_1", "takes the APPID alone: imepipe %s " + demoAppID + " (without _1"},
		{"_1", "_1 is not an app id"},
	} {
		for _, name := range []string{"install", "uninstall"} {
			code, stdout, stderr := runCLI(t, name, c.arg, "--root", root)
			want := strings.ReplaceAll(c.want, "%s", name)
			if code != 2 || stdout != "" || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, want) {
				t.Errorf("%s %s: exit %d, stdout %q, stderr %q; want 2 and %q", name, c.arg, code, stdout, stderr, want)
			}
		}
	}
}

// TestAuditAgentCommandLines runs the commands that act on an enrolled
// agent root (no agent running on it) the wrong ways a user tries first,
// and checks each answer is one line in the user's words, with no Go
// package name in it, and the exit status the README gives.
func TestAuditAgentCommandLines(t *testing.T) {
	root := installedRoot(t)
	noLayer := func(t *testing.T, what, stderr string) {
		t.Helper()
		for _, p := range []string{"orchestrate:", "state:", "imeapi:", "context canceled"} {
			if strings.Contains(stderr, p) {
				t.Errorf("%s: %q in %q", what, p, stderr)
			}
		}
	}

	t.Run("install an app the service does not assign", func(t *testing.T) {
		code, stdout, stderr := runCLI(t, "install", failAppID, "--root", root)
		want := "imepipe install: " + failAppID + ": the service assigns no such app to this device (imepipe status lists those it has)\n"
		if code != 1 || stdout != "" || stderr != want {
			t.Errorf("exit %d, stdout %q, stderr %q; want 1 and %q", code, stdout, stderr, want)
		}
		noLayer(t, "install", stderr)
	})
	t.Run("uninstall a required app", func(t *testing.T) {
		code, stdout, stderr := runCLI(t, "uninstall", demoAppID, "--root", root)
		if code != 1 || stdout != "" || strings.Count(stderr, "\n") != 1 ||
			!strings.HasPrefix(stderr, "imepipe uninstall: "+demoAppID+": its assignment does not allow uninstalling it on request") {
			t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
		}
		noLayer(t, "uninstall", stderr)
	})
	t.Run("reg", func(t *testing.T) {
		for _, args := range [][]string{
			{"add", `HKLM\SOFTWARE\Audit`, "/v", "N", "/t", "REG_DWORD", "/d", "16"},
			{"add", `HKLM\SOFTWARE\Audit`, "/v", "Q", "/t", "REG_QWORD", "/d", "0x1F"},
			{"add", `HKLM\SOFTWARE\Audit`, "/v", "B", "/t", "REG_BINARY", "/d", "0a0b"},
		} {
			if code, _, stderr := runCLI(t, append(append([]string{"reg"}, args...), "--root", root)...); code != 0 {
				t.Fatalf("reg %v: exit %d, %s", args, code, stderr)
			}
		}
		// reg.exe query prints numbers in hex and binary data upper case.
		_, stdout, _ := runCLI(t, "reg", "query", `HKLM\SOFTWARE\Audit`, "--root", root)
		for _, want := range []string{"    N    REG_DWORD    0x10\n", "    Q    REG_QWORD    0x1f\n", "    B    REG_BINARY    0A0B\n"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("reg query lacks %q:\n%s", want, stdout)
			}
		}
		// --json keeps the data as stored.
		if _, stdout, _ := runCLI(t, "reg", "query", `HKLM\SOFTWARE\Audit`, "--root", root, "--json"); !strings.Contains(stdout, `"data": "16"`) {
			t.Errorf("reg query --json:\n%s", stdout)
		}
		for _, c := range []struct {
			args []string
			code int
			want string
		}{
			{[]string{"query", `HKLM\SOFTWARE\Nope`}, 1, `imepipe reg: registry key HKEY_LOCAL_MACHINE\SOFTWARE\Nope: not found` + "\n"},
			{[]string{"delete", `HKLM\SOFTWARE\Audit`, "/v", "Nope", "/f"}, 1, `imepipe reg: registry value HKEY_LOCAL_MACHINE\SOFTWARE\Audit\Nope: not found` + "\n"},
			{[]string{"add", `HKXX\SOFTWARE\Audit`}, 2, "unknown root (want HKLM, HKCU, HKCR, HKU or HKCC)"},
			{[]string{"add", `HKLM\SOFTWARE\Audit`, "/v", "N", "/t", "REG_DWORD", "/d", "banana"}, 2, `REG_DWORD data "banana"`},
			{[]string{"add", `HKLM\SOFTWARE\Audit`, "/v", "N", "/t", "REG_FOO", "/d", "1"}, 2, `unknown type "REG_FOO"`},
		} {
			code, stdout, stderr := runCLI(t, append(append([]string{"reg"}, c.args...), "--root", root)...)
			if code != c.code || stdout != "" || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, c.want) {
				t.Errorf("reg %v: exit %d, stdout %q, stderr %q; want %d and %q", c.args, code, stdout, stderr, c.code, c.want)
			}
			noLayer(t, "reg", stderr)
		}
	})
	t.Run("interrupted", func(t *testing.T) {
		// Ctrl-C before the service answers: one line saying what did
		// not finish, exit 130, not the HTTP client's chain of
		// "orchestrate: policies: imeapi: GET …: interrupt signal received".
		for _, c := range []struct {
			args []string
			want string
		}{
			{[]string{"sync"}, "imepipe sync: interrupted; the app sync did not finish (the next sync takes it up)\n"},
			{[]string{"sync", "compliance"}, "imepipe sync: interrupted; the compliance sync did not finish (the next sync takes it up)\n"},
			{[]string{"install", demoAppID}, "imepipe install: interrupted; install of " + demoAppID + " not finished (imepipe status shows where it stopped)\n"},
		} {
			ctx, cancel := context.WithCancelCause(context.Background())
			cancel(&stopSignal{sig: os.Interrupt})
			var out, errb bytes.Buffer
			code := run(ctx, &env{stdout: &out, stderr: &errb}, append(c.args, "--root", root))
			if code != (&stopSignal{sig: os.Interrupt}).exitStatus() || out.Len() != 0 || errb.String() != c.want {
				t.Errorf("%v: exit %d, stdout %q, stderr %q; want 130 and %q", c.args, code, out.String(), errb.String(), c.want)
			}
		}
	})
}

// TestAuditAppCmdNotEnrolled: install and uninstall on a root that was
// never enrolled say what to run, as sync does, not "device not enrolled
// (no service URL and enrollment secret given)", which they take no
// flags for.
func TestAuditAppCmdNotEnrolled(t *testing.T) {
	skipAgentsOnWindows(t)
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "state.db"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"install", "uninstall", "sync"} {
		args := []string{name, demoAppID, "--root", root}
		if name == "sync" {
			args = []string{name, "--root", root}
		}
		code, stdout, stderr := runCLI(t, args...)
		want := "imepipe " + name + ": " + root + " is not enrolled (run imepipe agent --service URL --enrollment-secret-file FILE --root " + root + ")\n"
		if code != 1 || stdout != "" || stderr != want {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want 1 and %q", name, code, stdout, stderr, want)
		}
	}
}

// TestAuditInstallJSONExitStatus: an install that fails exits 1 with
// --json as without it (the document on stdout, the line on stderr); it
// used to print the document and exit 0.
func TestAuditInstallJSONExitStatus(t *testing.T) {
	root := failedRoot(t)
	for _, jsonOut := range []bool{false, true} {
		args := []string{"install", failAppID, "--root", root}
		if jsonOut {
			args = append(args, "--json")
		}
		code, stdout, stderr := runCLI(t, args...)
		if code != 1 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "was not installed") {
			t.Errorf("%v: exit %d, stderr %q; want 1 and the line", args, code, stderr)
		}
		var st struct {
			EnforcementState int `json:"enforcementState"`
		}
		if jsonOut && (json.Unmarshal([]byte(stdout), &st) != nil || st.EnforcementState != 5000) {
			t.Errorf("--json: stdout %q; want the app's state as one document", stdout)
		}
	}
}

// TestAuditAppCmdServiceDown: install with the service down says what to
// check, as sync does ("; is imepipe serve running?").
func TestAuditAppCmdServiceDown(t *testing.T) {
	skipAgentsOnWindows(t)
	_, secret, srv := testService(t, false)
	hs := closableService(t, srv)
	root := filepath.Join(t.TempDir(), "r")
	if code, _, stderr := runCLI(t, "agent", "--once", "-q", "--root", root, "--service", hs.URL, "--enrollment-secret-file", secret); code != 0 {
		t.Fatalf("agent: exit %d, %s", code, stderr)
	}
	hs.Close()
	for _, name := range []string{"install", "uninstall"} {
		code, stdout, stderr := runCLI(t, name, demoAppID, "--root", root)
		if code != 1 || stdout != "" || strings.Count(stderr, "\n") != 1 || !strings.HasSuffix(stderr, "; is imepipe serve running?\n") {
			t.Errorf("%s, service down: exit %d, stdout %q, stderr %q", name, code, stdout, stderr)
		}
	}
}

// TestAuditUntrustedServiceHint: sync and install on a root that does
// not trust the service's CA (enrolled with it, then its kept copy gone,
// as on the demo's roots) say how to trust it, not only "certificate
// signed by unknown authority".
func TestAuditUntrustedServiceHint(t *testing.T) {
	skipAgentsOnWindows(t)
	url, data := startTLSServe(t)
	root := filepath.Join(t.TempDir(), "r")
	code, _, stderr := runCLI(t, "agent", "--once", "-q", "--root", root, "--service", url,
		"--ca-file", filepath.Join(data, "ca.pem"), "--enrollment-secret-file", filepath.Join(data, "enrollment-secret"))
	if code != 0 {
		t.Fatalf("agent: exit %d, %s", code, stderr)
	}
	if err := os.Remove(filepath.Join(root, storedCAName)); err != nil {
		t.Fatal(err)
	}
	want := "certificate signed by unknown authority (trust its CA once: imepipe agent --root " + root + " --ca-file DIR/ca.pem --once, DIR the service's --data)\n"
	for _, args := range [][]string{{"sync"}, {"install", demoAppID}} {
		code, stdout, stderr := runCLI(t, append(args, "--root", root)...)
		if code != 1 || stdout != "" || strings.Count(stderr, "\n") != 1 || !strings.HasSuffix(stderr, want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want 1 and a line ending %q", args, code, stdout, stderr, want)
		}
	}
	// What the hint says to run mends it.
	if code, _, stderr := runCLI(t, "agent", "--once", "-q", "--root", root, "--ca-file", filepath.Join(data, "ca.pem")); code != 0 {
		t.Fatalf("agent --ca-file on the enrolled root: exit %d, %s", code, stderr)
	}
	if code, _, stderr := runCLI(t, "sync", "--root", root); code != 0 {
		t.Fatalf("sync after the hint: exit %d, %s", code, stderr)
	}
}

// TestAuditRegFlagWords: reg, which parses its own arguments, words a
// bad flag as every other command does ("unknown flag --x", "--root
// needs a value"), not as the flag package ("flag provided but not
// defined").
func TestAuditRegFlagWords(t *testing.T) {
	for _, c := range []struct {
		reg, other []string
	}{
		{[]string{"reg", "query", `HKLM\X`, "--bogus"}, []string{"status", "--bogus"}},
		{[]string{"reg", "query", `HKLM\X`, "--root"}, []string{"status", "--root"}},
	} {
		code, _, stderr := runCLI(t, c.reg...)
		_, _, other := runCLI(t, c.other...)
		want := strings.Replace(strings.TrimPrefix(other, "imepipe status: "), "imepipe status --help", "imepipe reg --help", 1)
		if code != 2 || stderr != "imepipe reg: "+want {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.reg, code, stderr, "imepipe reg: "+want)
		}
	}
}

// TestAuditInterruptedWithAgentRunning: Ctrl-C of a command while an
// agent runs on the root is one line saying it was interrupted, with
// exit 130, not "state.db is in use by another process" (the cancelled
// dial falls back to opening state.db, which the agent holds).
func TestAuditInterruptedWithAgentRunning(t *testing.T) {
	skipAgentsOnWindows(t)
	url, secret, _ := testService(t, false)
	root := filepath.Join(t.TempDir(), "r")
	startDaemon(t, "--root", root, "--service", url, "--enrollment-secret-file", secret, "--peer-addr", "off")
	for _, args := range [][]string{{"sync"}, {"install", demoAppID}, {"grs", "reset", demoAppID}, {"reg", "query", `HKLM\SOFTWARE`}} {
		ctx, cancel := context.WithCancelCause(context.Background())
		cancel(&stopSignal{sig: os.Interrupt})
		var out, errb bytes.Buffer
		code := run(ctx, &env{stdout: &out, stderr: &errb}, append(args, "--root", root))
		want := "imepipe " + args[0] + ": interrupted before reaching the agent of " + root + "\n"
		if code != (&stopSignal{sig: os.Interrupt}).exitStatus() || out.Len() != 0 || errb.String() != want {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want 130 and %q", args, code, out.String(), errb.String(), want)
		}
	}
}
