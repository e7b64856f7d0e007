//go:build linux

package orchestrate

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/orchestrate/reap"
	"github.com/imepipe/imepipe/orchestrate/state"
)

// crashRig is an app whose installer the test holds: install.sh appends
// "start PID" to M/starts.log, lists every file of its content folder,
// writes M/started (a fifo: the write returns once the test reads), then
// waits for a line on M/go (a fifo the test writes) and checks that every
// listed file is still there (M/result), creates its detection file,
// appends "end PID" and exits 0 (1 if a file went missing).
type crashRig struct {
	t      *testing.T
	marker string
	app    testApp
	h      *harness
	polled chan struct{} // closed at the agent's first OrphanPoll wait
	agent  *exec.Cmd     // the agent process, while it runs
	stderr *bytes.Buffer
	// agentExited receives the agent process's Wait result.
	agentExited chan error
}

const crashPoll = 3 * time.Millisecond

func newCrashRig(t *testing.T, advance time.Duration) *crashRig {
	if runtime.GOOS != "linux" {
		t.Skip("crash recovery tests need Linux (/proc, child subreaper)")
	}
	r := &crashRig{t: t, marker: t.TempDir(), polled: make(chan struct{})}
	for _, f := range []string{"started", "go"} {
		must(t, syscall.Mkfifo(filepath.Join(r.marker, f), 0o600))
	}
	m := r.marker
	app := fileApp("Crashy", "required")
	name := app.name
	app = app.script("install.sh", `M=`+m+`
echo "start $$" >> $M/starts.log
find . -type f | sort > $M/files.$$
echo started > $M/started
read line < $M/go
missing=0
while read f; do [ -e "$f" ] || { echo "missing $f" >> $M/result; missing=1; }; done < $M/files.$$
[ $missing = 0 ] && echo "all $(wc -l < $M/files.$$) files present" >> $M/result
mkdir -p "$ProgramFiles/`+name+`" && echo installed > "$ProgramFiles/`+name+`/app.txt"
echo "end $$" >> $M/starts.log
exit $missing`).script("data/a.txt", "a").script("data/deep/b.txt", "b").script("data/deep/c.bin", strings.Repeat("c", 5000))
	r.app = app
	var once sync.Once
	r.h = newHarness(t, []testApp{app}, func(c *Config) {
		c.OrphanPoll = crashPoll
		tc := c.Clock.(testClock)
		tc.after = func(d time.Duration) <-chan time.Time {
			if d == crashPoll {
				once.Do(func() { close(r.polled) })
				r.h.clock.Advance(advance)
			}
			return time.After(d)
		}
		c.Clock = tc
	})
	r.h.agent.Close()  // the agent process needs state.db
	t.Cleanup(func() { // a failed test leaves no installer behind
		for _, pid := range r.treeProcs() {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	return r
}

func (r *crashRig) key() string { return r.app.id() + "_1" }

// startAgent starts the agent process and returns once its installer
// runs (it wrote M/started).
func (r *crashRig) startAgent() {
	r.t.Helper()
	cfg, _ := json.Marshal(testAgentConfig{Root: r.h.cfg.Root, ServiceURL: r.h.cfg.ServiceURL, Secret: r.h.secret, Now: r.h.clock.Now(), InstallTimeout: 30 * time.Second})
	r.stderr = &bytes.Buffer{}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envTestAgent+"="+string(cfg))
	cmd.Stderr = r.stderr
	must(r.t, cmd.Start())
	r.agent = cmd
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	started := r.installerStarted()
	select {
	case err := <-started:
		must(r.t, err)
	case err := <-exited:
		r.t.Fatalf("agent process exited before its installer started: %v\n%s", err, r.stderr)
	case <-time.After(60 * time.Second):
		r.t.Fatalf("installer did not start\n%s", r.stderr)
	}
	r.agentExited = exited
}

// killAgent SIGKILLs the agent process, the reaper and installer left running.
func (r *crashRig) killAgent() {
	r.t.Helper()
	must(r.t, r.agent.Process.Signal(syscall.SIGKILL))
	<-r.agentExited
}

// release lets the installer finish (it reads a line on M/go).
func (r *crashRig) release() {
	r.t.Helper()
	f, err := os.OpenFile(filepath.Join(r.marker, "go"), os.O_WRONLY, 0)
	must(r.t, err)
	_, err = f.WriteString("go\n")
	must(r.t, err)
	must(r.t, f.Close())
}

// syncAsync opens a new in-process agent on the root and syncs in the background.
func (r *crashRig) syncAsync() <-chan error {
	r.h.open()
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		done <- r.h.agent.Sync(ctx)
	}()
	return done
}

func (r *crashRig) waitSync(done <-chan error) {
	r.t.Helper()
	select {
	case err := <-done:
		must(r.t, err)
	case <-time.After(90 * time.Second):
		r.t.Fatalf("sync did not end\nlog:\n%s", r.h.log())
	}
}

// starts returns M/starts.log's lines.
func (r *crashRig) starts() []string {
	data, _ := os.ReadFile(filepath.Join(r.marker, "starts.log"))
	return strings.Fields(strings.ReplaceAll(strings.TrimSpace(string(data)), " ", "_"))
}

// record returns the one recorded run in state.db.
func (r *crashRig) record() state.Install {
	r.t.Helper()
	st, err := state.Open(r.h.cfg.Root+"/state.db", time.Second)
	must(r.t, err)
	defer st.Close()
	recs, err := st.Installs()
	must(r.t, err)
	if len(recs) != 1 || recs[0].Key != r.key() || recs[0].ReaperPID == 0 || recs[0].Attempt != 1 {
		r.t.Fatalf("install records %+v, want one for %s with its reaper", recs, r.key())
	}
	return recs[0]
}

// treeProcs lists the processes of the app's tree left on this machine:
// those whose environment names this test's agent root (IMEPIPE_ROOT, set
// for the reaper and the installer; unique per test, unlike app ids).
func (r *crashRig) treeProcs() []int {
	want := []byte("IMEPIPE_ROOT=" + r.h.cfg.Root)
	var out []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		env, _ := os.ReadFile("/proc/" + e.Name() + "/environ")
		for _, kv := range bytes.Split(env, []byte{0}) {
			if bytes.Equal(kv, want) {
				out = append(out, pid)
			}
		}
	}
	return out
}

// checkNoOrphan fails if a process of the app's tree is left.
func (r *crashRig) checkNoOrphan() {
	r.t.Helper()
	for _, pid := range r.treeProcs() {
		cmdline, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
		r.t.Errorf("orphan process %d left: %q", pid, bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '}))
	}
}

// finalChecks: the run's record, result file and content folder are gone,

// installerStarted delivers the result of waiting for the installer to start
// (it writes to the "started" fifo the rig reads).
func (r *crashRig) installerStarted() <-chan error {
	started := make(chan error, 1)
	go func() {
		_, err := os.ReadFile(filepath.Join(r.marker, "started"))
		started <- err
	}()
	return started
}

// wantOneRun checks the installer started once, and ended (or was
// killed before its end when !ended).
func (r *crashRig) wantOneRun(t *testing.T, ended bool) {
	t.Helper()
	s := strings.Join(r.starts(), " ")
	if strings.Count(s, "start") != 1 || strings.Contains(s, "end") != ended || (ended && strings.Count(s, "end") != 1) {
		t.Errorf("installer runs %q, want one start and ended=%v", s, ended)
	}
}

// wantAttempts checks the app's recorded runs and failed attempts.
func (r *crashRig) wantAttempts(t *testing.T, runs, failures int) {
	t.Helper()
	if att := r.h.app(r.app.id()).Attempts; att.Runs != runs || att.Count != failures {
		t.Errorf("attempts %+v, want %d runs, %d failures", att, runs, failures)
	}
}

// and reports holds exactly one report of the app, in state enf.
func (r *crashRig) finalChecks(enf imeapi.EnforcementState) {
	r.t.Helper()
	recs, err := r.h.agent.store.Installs()
	must(r.t, err)
	if len(recs) != 0 {
		r.t.Errorf("install records left: %+v", recs)
	}
	for _, p := range []string{filepath.Join(r.h.agent.layout.IMECache, r.key()), filepath.Join(r.h.agent.layout.Staging, r.key()+".reap.json")} {
		if exists(p) {
			r.t.Errorf("%s left behind", p)
		}
	}
	var mine []imeapi.Report
	r.h.logMu.Lock()
	for _, rep := range *r.h.reports {
		if rep.AppID == r.app.id() {
			mine = append(mine, rep)
		}
	}
	r.h.logMu.Unlock()
	if len(mine) != 1 || mine[0].EnforcementState != enf {
		r.t.Errorf("reports of the app: %+v, want exactly one with enforcement state %d", mine, enf)
	}
	r.checkNoOrphan()
}

// Acceptance 2 of issue #11: the agent is SIGKILLed while its installer
// runs and restarted at once. The new agent re-adopts the run: it does
// not start a second installer, does not touch the content folder while
// the installer uses it, waits for the tree, and finishes the attempt
// once with the installer's own exit code.
func TestAgentKilledDuringInstallReadoptsRun(t *testing.T) {
	r := newCrashRig(t, 0)
	r.startAgent()
	r.killAgent()
	rec := r.record()
	if !(reap.Handle{PID: rec.ReaperPID, Start: rec.ReaperStart}).Alive() {
		t.Fatalf("reaper %d did not outlive the killed agent", rec.ReaperPID)
	}
	done := r.syncAsync()
	select {
	case <-r.polled: // the new agent waits for the orphaned tree
	case err := <-done:
		t.Fatalf("sync ended (%v) while the first installer still ran\nlog:\n%s", err, r.h.log())
	case <-time.After(60 * time.Second):
		t.Fatalf("the new agent did not wait for the orphaned run\nlog:\n%s", r.h.log())
	}
	if s := r.starts(); len(s) != 1 {
		t.Fatalf("installer starts while the first runs: %q, want one", s)
	}
	r.release()
	r.waitSync(done)

	r.wantOneRun(t, true)
	res, _ := os.ReadFile(filepath.Join(r.marker, "result"))
	if !strings.HasPrefix(string(res), "all ") || strings.Contains(string(res), "missing") {
		t.Errorf("installer's file check: %q", res)
	}
	r.h.wantState(r.app.id(), imeapi.EnforcementSuccess, imeapi.ComplianceInstalled, 0)
	r.wantAttempts(t, 1, 0)
	if !strings.Contains(r.h.log(), "waiting for its process tree instead of starting another installer") {
		t.Errorf("no re-adoption line in the log:\n%s", r.h.log())
	}
	r.finalChecks(imeapi.EnforcementSuccess)
}

// Past the recorded deadline the re-adopted tree is killed and the
// attempt fails once with the timeout code.
func TestReadoptedRunKilledPastDeadline(t *testing.T) {
	r := newCrashRig(t, 31*time.Second) // each poll moves the clock past the 30 s deadline
	r.startAgent()
	r.killAgent()
	rec := r.record()
	r.waitSync(r.syncAsync())
	if (reap.Handle{PID: rec.ReaperPID, Start: rec.ReaperStart}).Alive() {
		t.Fatal("reaper still alive")
	}
	r.wantOneRun(t, false)
	r.h.wantState(r.app.id(), imeapi.EnforcementError, imeapi.ComplianceError, CodeTimeout)
	r.wantAttempts(t, 1, 1)
	r.finalChecks(imeapi.EnforcementError)
}

// A reaper gone without a Result (killed with the agent) is one failed
// attempt; what is left of its tree is killed before the content folder
// is cleaned; no installer starts in that sync.
func TestReadoptedReaperGoneWithoutResult(t *testing.T) {
	r := newCrashRig(t, 0)
	r.startAgent()
	r.killAgent()
	rec := r.record()
	must(t, syscall.Kill(rec.ReaperPID, syscall.SIGKILL))
	h := reap.Handle{PID: rec.ReaperPID, Start: rec.ReaperStart}
	for i := 0; h.Alive(); i++ { // SIGKILL is asynchronous
		if i > 10000 {
			t.Fatal("reaper survives SIGKILL")
		}
		runtime.Gosched()
	}
	if !h.Running() {
		t.Fatal("the installer should be left running without its reaper")
	}
	r.waitSync(r.syncAsync())
	if h.Running() {
		t.Fatal("the orphaned installer was not killed")
	}
	r.wantOneRun(t, false)
	r.h.wantState(r.app.id(), imeapi.EnforcementError, imeapi.ComplianceError, CodeFailure)
	r.wantAttempts(t, 1, 1)
	if !strings.Contains(r.h.log(), "is gone without a result") {
		t.Errorf("no failure line for the lost reaper:\n%s", r.h.log())
	}
	r.finalChecks(imeapi.EnforcementError)
}

// Within one agent process, a second flow of an app whose installer runs
// (a sync and an on-demand install racing) returns without starting
// another installer or touching the content folder.
func TestGuardOneInstallerPerAppInProcess(t *testing.T) {
	r := newCrashRig(t, 0)
	r.h.open()
	a := r.h.agent
	ctx := context.Background()
	p, err := a.policy(ctx, a.tracer(), r.app.id())
	must(t, err)
	first := make(chan struct{})
	go func() {
		defer close(first)
		a.processApp(ctx, p, modeInstall, false)
	}()
	started := r.installerStarted()
	select {
	case err := <-started:
		must(t, err)
	case <-time.After(60 * time.Second):
		t.Fatalf("installer did not start\nlog:\n%s", r.h.log())
	}
	a.processApp(ctx, p, modeInstall, true) // races the running flow
	if s := r.starts(); len(s) != 1 {
		t.Fatalf("installer starts %q, want one", s)
	}
	if !strings.Contains(r.h.log(), "is already being processed in this agent") {
		t.Errorf("no guard line in the log:\n%s", r.h.log())
	}
	r.release()
	select {
	case <-first:
	case <-time.After(60 * time.Second):
		t.Fatal("first flow did not end")
	}
	res, _ := os.ReadFile(filepath.Join(r.marker, "result"))
	if !strings.HasPrefix(string(res), "all ") {
		t.Errorf("installer's file check: %q", res)
	}
	r.h.wantState(r.app.id(), imeapi.EnforcementSuccess, imeapi.ComplianceInstalled, 0)
	r.finalChecks(imeapi.EnforcementSuccess)
	// The guard is released: the next flow runs (detects, nothing to install).
	a.processApp(ctx, p, modeInstall, false)
	if got := strings.Count(r.h.log(), "is already detected; nothing to install"); got != 1 {
		t.Errorf("after the first flow, a new flow ran %d times, want 1", got)
	}
}

// An agent that stops (its context cancelled, as on SIGTERM) while an
// installer runs detaches: the installer runs on with its folder, nothing
// is counted or reported, and the next agent re-adopts the run.
func TestAgentStopDetachesFromInstaller(t *testing.T) {
	r := newCrashRig(t, 0)
	r.h.open()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.h.agent.Sync(ctx) }()
	started := r.installerStarted()
	select {
	case err := <-started:
		must(t, err)
	case <-time.After(60 * time.Second):
		t.Fatalf("installer did not start\nlog:\n%s", r.h.log())
	}
	cancel()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("stopping agent did not return")
	}
	must(t, r.h.agent.Close())
	rec := r.record()
	if !(reap.Handle{PID: rec.ReaperPID, Start: rec.ReaperStart}).Alive() {
		t.Fatal("installer's reaper did not outlive the stop")
	}
	if !exists(filepath.Join(rec.Dir, "install.sh")) {
		t.Fatal("content folder removed under the running installer")
	}
	r.h.logMu.Lock()
	n := len(*r.h.reports)
	r.h.logMu.Unlock()
	if n != 0 {
		t.Fatalf("%d reports sent for an attempt still running", n)
	}
	sync := r.syncAsync()
	select {
	case <-r.polled:
	case err := <-sync:
		t.Fatalf("sync ended (%v) while the installer ran", err)
	case <-time.After(60 * time.Second):
		t.Fatal("new agent did not wait for the detached run")
	}
	r.release()
	r.waitSync(sync)
	if s := strings.Join(r.starts(), " "); strings.Count(s, "start") != 1 || strings.Count(s, "end") != 1 {
		t.Errorf("installer runs %q, want one start and its end", s)
	}
	r.h.wantState(r.app.id(), imeapi.EnforcementSuccess, imeapi.ComplianceInstalled, 0)
	r.wantAttempts(t, 1, 0)
	r.finalChecks(imeapi.EnforcementSuccess)
}
