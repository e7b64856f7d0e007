package main

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/json"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/imepipe/imepipe/fetch"
	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/orchestrate"
	"github.com/imepipe/imepipe/service"
)

func TestMain(m *testing.M) {
	// Agents of these tests peer by default as they do on 7680, on a
	// free loopback port instead.
	defaultPeerAddr = "127.0.0.1:0"
	os.Exit(m.Run())
}

// failAppID is the id of testService's failing app.
const failAppID = "0b5c7c3e-6f0d-4a8e-9d3b-1c2e3f4a5b6d"

// testService serves the demo app (and, with failing, a second app whose
// installer exits 3) over plain HTTP on loopback; it returns the URL,
// the enrollment secret file and the server.
func testService(t *testing.T, failing bool) (string, string, *service.Server) {
	t.Helper()
	dir := t.TempDir()
	apps := filepath.Join(dir, "apps")
	add := func(name, appJSON string, extra map[string]string) {
		src := filepath.Join(dir, "src-"+name)
		if err := writeSample(src, 256<<10); err != nil {
			t.Fatal(err)
		}
		for f, body := range extra {
			if err := os.WriteFile(filepath.Join(src, f), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		out := filepath.Join(apps, name)
		var b bytes.Buffer
		if err := runPack(context.Background(), &env{stdout: &b, stderr: &b}, []string{"-q", "-c", src, "-s", "install.sh", "-o", out}); err != nil {
			t.Fatalf("pack: %v: %s", err, b.String())
		}
		if err := os.WriteFile(filepath.Join(out, "app.json"), []byte(appJSON), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	add("demo", demoAppJSON, nil)
	if failing {
		j := strings.NewReplacer(demoAppID, failAppID, `"Contoso Demo"`, `"Contoso Broken"`,
			`"sh install.sh"`, `"sh fail.sh"`, `\\Contoso\\Demo`, `\\Contoso\\Broken`).Replace(demoAppJSON)
		add("broken", j, map[string]string{"fail.sh": "exit 3\n"})
	}
	srv, err := service.NewContext(context.Background(), service.Config{AppsDir: apps, DataDir: filepath.Join(dir, "data")})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() { hs.Close(); srv.Close() })
	return hs.URL, srv.EnrollmentSecretPath(), srv
}

// TestAgentNotEnrolled: an agent with no flags on a root that is not
// enrolled exits 2 with one line saying what to pass, and creates nothing.
func TestAgentNotEnrolled(t *testing.T) {
	skipAgentsOnWindows(t)
	root := filepath.Join(t.TempDir(), "fresh")
	t.Setenv("IMEPIPE_ROOT", root)
	for _, args := range [][]string{{"agent"}, {"agent", "--once"}} {
		code, _, stderr := runCLI(t, args...)
		if code != 2 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "pass --service URL and --enrollment-secret-file FILE") {
			t.Fatalf("%v: exit %d, stderr %q; want 2 and the hint", args, code, stderr)
		}
		if _, err := os.Stat(root); !os.IsNotExist(err) {
			t.Fatalf("%v created %s", args, root)
		}
	}
	// A root that exists but was never enrolled (a failed first run) too.
	code, _, stderr := runCLI(t, "agent", "--once", "-q", "--service", "http://127.0.0.1:1", "--enrollment-secret-file", writeSecret(t))
	if code != 1 {
		t.Fatalf("unreachable service: exit %d %s", code, stderr)
	}
	if code, _, stderr = runCLI(t, "agent", "--once"); code != 2 || !strings.Contains(stderr, "is not enrolled") {
		t.Fatalf("un-enrolled root: exit %d, stderr %q", code, stderr)
	}
}

func writeSecret(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(p, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestAgentOnceExitCodes: --once exits 0 when every app is installed,
// 1 with one line naming the failing app when one fails; the status it
// prints says nothing of a running agent.
func TestAgentOnceExitCodes(t *testing.T) {
	skipAgentsOnWindows(t)
	url, secret, _ := testService(t, false)
	code, stdout, stderr := runCLI(t, "agent", "--once", "-q", "--root", filepath.Join(t.TempDir(), "r"), "--service", url, "--enrollment-secret-file", secret)
	if code != 0 || stderr != "" {
		t.Fatalf("all installed: exit %d, stderr %q", code, stderr)
	}
	if strings.Contains(stdout, "running") || !strings.Contains(stdout, "1000 Success") {
		t.Fatalf("status of --once:\n%s", stdout)
	}

	url, secret, _ = testService(t, true)
	code, stdout, stderr = runCLI(t, "agent", "--once", "-q", "--root", filepath.Join(t.TempDir(), "r"), "--service", url, "--enrollment-secret-file", secret)
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if code != 1 || len(lines) != 2 || !strings.HasPrefix(lines[0], "imepipe agent: failed "+failAppID+"_1 (Contoso Broken): enforcement 5000") ||
		lines[1] != "imepipe agent: 1 of 2 apps failed" {
		t.Fatalf("one failing: exit %d, stderr %q\n%s", code, stderr, stdout)
	}
}

// agentStatus reads root's status as JSON.
func agentStatus(t *testing.T, root string) orchestrate.Status {
	t.Helper()
	code, stdout, stderr := runCLI(t, "status", "--json", "--root", root)
	if code != 0 {
		t.Fatalf("status %s: %d %s", root, code, stderr)
	}
	var st orchestrate.Status
	if err := json.Unmarshal([]byte(stdout), &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// doOf is the DO record of root's only app.
func doOf(t *testing.T, root string) fetch.Status {
	t.Helper()
	st := agentStatus(t, root)
	if len(st.Apps) != 1 || st.Apps[0].EnforcementState != imeapi.EnforcementSuccess {
		t.Fatalf("%s: apps %+v", root, st.Apps)
	}
	var do fetch.Status
	if err := json.Unmarshal(st.Apps[0].DOStatus, &do); err != nil {
		t.Fatalf("%s: DOStatus %s: %v", root, st.Apps[0].DOStatus, err)
	}
	return do
}

// startDaemon runs agent (no --once, not -q: its log tells when the
// first sync is over) with args until the test ends or
// stop is called, and returns once its first sync is over.
func startDaemon(t *testing.T, args ...string) func() {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	log := &lineWriter{wrote: make(chan struct{}, 1)}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, &env{stdout: &bytes.Buffer{}, stderr: log}, append([]string{"agent"}, args...))
	}()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("agent exited %d: %s", code, log.String())
			}
		case <-time.After(30 * time.Second):
			t.Error("agent did not stop")
		}
	}
	t.Cleanup(stop)
	deadline := time.After(60 * time.Second)
	synced := func() bool { // the app sync's end, not the compliance check's
		l := log.String()
		i := strings.Index(l, "[Win32App] Requesting required apps")
		return i >= 0 && strings.Contains(l[i:], "application poller stopped")
	}
	for !synced() {
		select {
		case <-log.wrote:
		case code := <-done:
			t.Fatalf("agent exited %d: %s", code, log.String())
		case <-deadline:
			t.Fatalf("agent did not sync: %s", log.String())
		}
	}
	return stop
}

// arrayPeers asks the Array, as a device of its own in mode 1 on the
// agents' LAN (loopback's /24), which peers hold the service's only file.
func arrayPeers(t *testing.T, url, secretFile string, srv *service.Server) []imeapi.Peer {
	t.Helper()
	secret, err := os.ReadFile(secretFile)
	if err != nil {
		t.Fatal(err)
	}
	c := imeapi.NewClient(url, nil)
	priv, _ := ecdh.X25519().GenerateKey(rand.Reader)
	ctx := context.Background()
	if _, err := c.Enroll(ctx, "probe", strings.TrimSpace(string(secret)), priv.PublicKey()); err != nil {
		t.Fatal(err)
	}
	resp, err := c.Array(ctx, imeapi.ArrayRequest{DoFileID: srv.Apps()[0].DoFileID, PeerID: "probe", DownloadMode: imeapi.ModeLAN})
	if err != nil {
		t.Fatal(err)
	}
	return resp.Peers
}

// TestAgentDefaultPeering: two agents in mode 1 with no --peer-addr
// share content (the second takes it from the first, a LAN peer); the
// --once agent's registration is gone once it exits, the daemon's stays
// while it runs and goes when it stops.
func TestAgentDefaultPeering(t *testing.T) {
	skipAgentsOnWindows(t)
	url, secret, srv := testService(t, false)
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	probe := func() []imeapi.Peer { return arrayPeers(t, url, secret, srv) }
	if p := probe(); len(p) != 0 {
		t.Fatalf("peers before any agent: %+v", p)
	}
	stopA := startDaemon(t, "--root", a, "--service", url, "--enrollment-secret-file", secret)
	if p := probe(); len(p) != 1 {
		log, _ := os.ReadFile(filepath.Join(a, "Logs", "IntuneManagementExtension.log"))
		t.Fatalf("with agent A running, the Array lists %+v; want A\n%s", p, log)
	}
	if code, _, stderr := runCLI(t, "agent", "--once", "-q", "--root", b, "--service", url, "--enrollment-secret-file", secret); code != 0 {
		t.Fatalf("agent B: %d %s", code, stderr)
	}
	if do := doOf(t, b); do.BytesFromLanPeers == 0 || do.BytesFromHttp != 0 {
		t.Fatalf("B's DO record: %d bytes from LAN peers, %d from HTTP; want all from A", do.BytesFromLanPeers, do.BytesFromHttp)
	}
	if p := probe(); len(p) != 1 {
		t.Fatalf("after B --once exited, the Array lists %+v; want A alone", p)
	}
	if st := agentStatus(t, b); st.Settings["PeerAddr"] != "" {
		t.Fatalf("the default peer address was stored: %q", st.Settings["PeerAddr"])
	}
	stopA()
	if p := probe(); len(p) != 0 {
		t.Fatalf("after A stopped, the Array lists %+v", p)
	}
}

// TestAgentGroupAndInternetPeers: a loopback fleet standing for three
// LANs (--lan-id) and two groups (--group-id): a mode 2 agent in another
// LAN of the seeder's group takes its bytes from a Group peer, a mode 3
// agent in another LAN and group from an Internet peer.
func TestAgentGroupAndInternetPeers(t *testing.T) {
	skipAgentsOnWindows(t)
	url, secret, _ := testService(t, false)
	dir := t.TempDir()
	startDaemon(t, "--root", filepath.Join(dir, "seed"), "--service", url, "--enrollment-secret-file", secret,
		"--download-mode", "3", "--peer-addr", "127.0.0.1:0", "--lan-id", "lan-a", "--group-id", "g1")
	cases := []struct {
		name, mode, lan, group string
		bytes                  func(fetch.Status) int64
	}{
		{"group", "2", "lan-b", "g1", func(s fetch.Status) int64 { return s.BytesFromGroupPeers }},
		{"internet", "3", "lan-c", "g2", func(s fetch.Status) int64 { return s.BytesFromInternetPeers }},
	}
	for _, c := range cases {
		root := filepath.Join(dir, c.name)
		code, _, stderr := runCLI(t, "agent", "--once", "-q", "--root", root, "--service", url, "--enrollment-secret-file", secret,
			"--download-mode", c.mode, "--peer-addr", "127.0.0.1:0", "--lan-id", c.lan, "--group-id", c.group)
		if code != 0 {
			t.Fatalf("%s: exit %d %s", c.name, code, stderr)
		}
		do := doOf(t, root)
		if c.bytes(do) == 0 || do.BytesFromHttp != 0 || c.bytes(do) != do.TotalBytesDownloaded {
			t.Fatalf("%s (mode %s): %+v; want every byte from the %s peer", c.name, c.mode, do, c.name)
		}
	}
}

// TestAgentPeerPortBusy: a taken peer port is one warning and the agent
// installs all the same (from HTTP, serving nobody); --peer-addr off
// starts no piece server and is kept for later runs.
func TestAgentPeerPortBusy(t *testing.T) {
	skipAgentsOnWindows(t)
	url, secret, _ := testService(t, false)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	code, _, stderr := runCLI(t, "agent", "--once", "--root", filepath.Join(t.TempDir(), "r"), "--service", url, "--enrollment-secret-file", secret, "--peer-addr", ln.Addr().String())
	if code != 0 || strings.Count(stderr, "Peer port "+ln.Addr().String()+" is in use") != 1 || strings.Contains(stderr, "Sharing DOCache") {
		t.Fatalf("busy port: exit %d, stderr:\n%s", code, stderr)
	}
	root := filepath.Join(t.TempDir(), "off")
	for _, args := range [][]string{{"--service", url, "--enrollment-secret-file", secret, "--peer-addr", "off"}, nil} {
		code, _, stderr = runCLI(t, append([]string{"agent", "--once", "--root", root}, args...)...)
		if code != 0 || strings.Contains(stderr, "Sharing DOCache") {
			t.Fatalf("--peer-addr off %v: exit %d, stderr:\n%s", args, code, stderr)
		}
	}
	if code, _, stderr = runCLI(t, "agent", "--once", "-q", "--peer-addr", "nope", "--root", root); code != 2 || !strings.Contains(stderr, "HOST:PORT or off") {
		t.Fatalf("--peer-addr nope: exit %d %q", code, stderr)
	}
}

// TestGRSReset: grs reset takes APPID and APPID_REV (the form status
// prints), fails for an app the agent never saw, and the reset app stays
// in status as waiting for the next sync.
func TestGRSReset(t *testing.T) {
	root := failedRoot(t)
	for id, want := range map[string]int{"nope": 2, failAppID + "_7": 1} { // not an app id: usage
		if code, stdout, stderr := runCLI(t, "grs", "reset", id, "--root", root); code != want || stdout != "" || strings.Count(stderr, "\n") != 1 {
			t.Fatalf("grs reset %s: exit %d, stdout %q, stderr %q", id, code, stdout, stderr)
		}
	}
	code, stdout, stderr := runCLI(t, "grs", "reset", failAppID+"_1", "--root", root)
	if code != 0 || !strings.Contains(stdout, "entries removed") {
		t.Fatalf("grs reset APPID_1: exit %d %q %q", code, stdout, stderr)
	}
	if code, _, stderr = runCLI(t, "grs", "reset", demoAppID, "--root", root); code != 0 {
		t.Fatalf("grs reset APPID: exit %d %q", code, stderr)
	}
	_, stdout, _ = runCLI(t, "status", "--root", root)
	if strings.Count(stdout, "waiting for next sync") != 2 {
		t.Fatalf("status after the resets:\n%s", stdout)
	}
	st := agentStatus(t, root)
	if len(st.Apps) != 2 || !st.Apps[0].WaitingForSync || st.Apps[0].Attempts != 0 {
		t.Fatalf("status JSON after the resets: %+v", st.Apps)
	}
}

// TestReadCommandsRefuseNonRoot: every command that reads or acts on an
// agent's state refuses a folder that is not an agent root, with one
// line, and writes nothing there.
func TestReadCommandsRefuseNonRoot(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"status"}, {"health"}, {"sync"}, {"grs", "reset", demoAppID}, {"install", demoAppID}, {"uninstall", demoAppID},
		{"do", "status"}, {"reg", "query", `HKLM\SOFTWARE`},
	} {
		code, stdout, stderr := runCLI(t, append(args, "--root", dir)...)
		if code != 1 || stdout != "" || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "not an agent root") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("the commands wrote %v", ents)
	}
}

// TestHealthReport: health on an agent root prints its checks and writes
// them to Logs/HealthReport.json, as the IME does.
func TestHealthReport(t *testing.T) {
	root := installedRoot(t)
	code, stdout, stderr := runCLI(t, "health", "--root", root)
	if code != 0 || !strings.Contains(stdout, "enrollment") {
		t.Fatalf("health: exit %d, %q %q", code, stdout, stderr)
	}
	data, err := os.ReadFile(filepath.Join(root, "Logs", orchestrate.HealthReportName))
	if err != nil {
		t.Fatal(err)
	}
	var h orchestrate.Health
	if err := json.Unmarshal(data, &h); err != nil || !h.Healthy || len(h.Checks) < 5 || h.CheckedAt.IsZero() {
		t.Fatalf("HealthReport.json: %+v %v", h, err)
	}
	// Every check has its result and remediation, in the file as written.
	var raw struct {
		Checks []map[string]any `json:"checks"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	for _, c := range raw.Checks {
		if c["result"] != orchestrate.CheckPassed || c["ok"] != true || c["remediation"] == "" || c["name"] == "" || c["detail"] == nil {
			t.Errorf("HealthReport.json check %v: want name, ok, result %q, detail and a remediation", c, orchestrate.CheckPassed)
		}
	}

	// Failing checks say so and how to fix them: a root the agent opened
	// once (state.db) but that never enrolled nor synced.
	fresh := filepath.Join(t.TempDir(), "fresh")
	a, err := orchestrate.Open(orchestrate.Config{Root: fresh})
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	code, stdout, _ = runCLI(t, "health", "--root", fresh)
	if code != 1 || !strings.Contains(stdout, "FAIL enrollment") || !strings.Contains(stdout, "remediation: run imepipe agent --service") {
		t.Fatalf("health of an unenrolled root: exit %d\n%s", code, stdout)
	}
	if data, err = os.ReadFile(filepath.Join(fresh, "Logs", orchestrate.HealthReportName)); err != nil {
		t.Fatal(err)
	}
	h = orchestrate.Health{}
	if err := json.Unmarshal(data, &h); err != nil || h.Healthy {
		t.Fatalf("HealthReport.json of an unenrolled root: %+v %v", h, err)
	}
	var failed []string
	for _, c := range h.Checks {
		if c.Result == orchestrate.CheckFailed {
			failed = append(failed, c.Name)
			if c.OK || c.Remediation == "" {
				t.Errorf("failed check %+v", c)
			}
		} else if c.Result != orchestrate.CheckPassed || !c.OK {
			t.Errorf("check %+v", c)
		}
	}
	if strings.Join(failed, ",") != "enrollment,last sync" {
		t.Errorf("failed checks %v, want enrollment and last sync", failed)
	}
}

// TestHealthRefusesNonRoot: health --root on a folder that is not an
// agent root (one that looks like the IME's, with Logs but no state.db;
// one that does not exist) exits 1 with one line and writes nothing: no
// HealthReport.json, no layout, no folder.
func TestHealthRefusesNonRoot(t *testing.T) {
	lookalike := t.TempDir()
	if err := os.Mkdir(filepath.Join(lookalike, "Logs"), 0o755); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "nowhere")
	for _, dir := range []string{lookalike, missing} {
		for _, json := range [][]string{nil, {"--json"}} {
			args := append([]string{"health", "--root", dir}, json...)
			code, stdout, stderr := runCLI(t, args...)
			if code != 1 || stdout != "" || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, dir) {
				t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
			}
		}
	}
	if ents, _ := os.ReadDir(filepath.Join(lookalike, "Logs")); len(ents) != 0 {
		t.Errorf("health wrote %v into Logs", ents)
	}
	if ents, _ := os.ReadDir(lookalike); len(ents) != 1 {
		t.Errorf("health wrote %v", ents)
	}
	if _, err := os.Stat(missing); err == nil {
		t.Errorf("health created %s", missing)
	}
}

// TestAgentProgressBars: agent --once and install draw a bar per download
// on a terminal (here a buffer the env calls one), ending complete, and
// none when stdout is not a terminal.
func TestAgentProgressBars(t *testing.T) {
	skipAgentsOnWindows(t)
	url, secret, _ := testService(t, false)
	runTTY := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := run(context.Background(), &env{stdout: &out, stderr: &errb, tty: true}, args)
		return code, out.String(), errb.String()
	}
	root := filepath.Join(t.TempDir(), "r")
	code, stdout, stderr := runTTY("agent", "--once", "--root", root, "--service", url, "--enrollment-secret-file", secret)
	if code != 0 || !strings.Contains(stdout, demoAppID[:8]+"…_1 ") || !strings.Contains(stdout, "100 %") {
		t.Fatalf("agent --once on a terminal: exit %d, stdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "imepipe agent: [Win32App]") {
		t.Errorf("the log lines are not printed above the bars:\n%s", stdout)
	}
	// install of the (removed) app, with no agent running: a bar again.
	if err := os.RemoveAll(filepath.Join(root, "Drive", "C", "Program Files", "Contoso")); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = runTTY("install", demoAppID, "--root", root)
	if code != 0 || !strings.Contains(stdout, "100 %") {
		t.Fatalf("install on a terminal: exit %d, stdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	code, stdout, _ = runCLI(t, "agent", "--once", "-q", "--root", filepath.Join(t.TempDir(), "plain"), "--service", url, "--enrollment-secret-file", secret)
	if code != 0 || strings.Contains(stdout, "%") {
		t.Fatalf("not a terminal: exit %d, stdout:\n%s", code, stdout)
	}
}

// skipAgentsOnWindows skips a test that runs CLI agents on the demo app
// when the tests run on Windows (under Wine): its installer is install.sh
// (/bin/sh), and a CLI agent there detects in the real %ProgramFiles%,
// which the parallel tests would share. The Windows agent is tested by
// orchestrate's scenarios (.cmd installers) and scripts/windows/e2e-msi.sh
// (imepipe.exe agent --once with an MSI).
func skipAgentsOnWindows(t *testing.T) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("runs CLI agents on the demo app, whose installer is install.sh (/bin/sh); the Windows agent is tested by orchestrate's .cmd scenarios and e2e-msi.sh")
	}
}

// TestSyncSaysWhere: imepipe sync with no agent running on the root syncs
// in this process and says so, in one line on stdout.
func TestSyncSaysWhere(t *testing.T) {
	root := installedRoot(t)
	code, stdout, stderr := runCLI(t, "sync", "--root", root)
	if want := "app sync done in this process: no agent is running on " + root; code != 0 || !strings.HasPrefix(stdout, want) || strings.Count(stdout, "\n") != 1 || stderr != "" {
		t.Fatalf("sync: exit %d, stdout %q, stderr %q; want one line starting %q", code, stdout, stderr, want)
	}
}

// installedRoot is an agent root that enrolled with a test service and
// installed its apps in one agent --once (no agent runs on it after).
func installedRoot(t *testing.T) string { return syncedRoot(t, false) }

// failedRoot is a root that agent --once synced with testService's
// broken app among its apps (exit 1: that app failed).
func failedRoot(t *testing.T) string { return syncedRoot(t, true) }

// syncedRoot is installedRoot, or failedRoot with broken.
func syncedRoot(t *testing.T, broken bool) string {
	t.Helper()
	skipAgentsOnWindows(t)
	url, secret, _ := testService(t, broken)
	root := filepath.Join(t.TempDir(), "r")
	want := 0
	if broken {
		want = 1
	}
	if code, _, stderr := runCLI(t, "agent", "--once", "-q", "--root", root, "--service", url, "--enrollment-secret-file", secret); code != want {
		t.Fatalf("agent: exit %d, want %d: %s", code, want, stderr)
	}
	return root
}
