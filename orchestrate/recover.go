package orchestrate

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/orchestrate/imelog"
	"github.com/imepipe/imepipe/orchestrate/reap"
	"github.com/imepipe/imepipe/orchestrate/state"
)

// DefaultOrphanPoll is how often an agent looks again at an installer
// run it re-adopted (Config.OrphanPoll).
const DefaultOrphanPoll = time.Second

// orphanGrace is how long a re-adopted reaper asked to kill its tree
// (past the deadline) may take before what is left is killed outright.
const orphanGrace = 5 * time.Second

// inflight is the in-process guard: the apps (by app id, any revision)
// whose flow runs now, and the revisions whose run this process recorded
// in state.db (state.Install), to delete when their attempt is finished.
type inflight struct {
	mu       sync.Mutex
	apps     map[string]bool
	recorded map[string]bool
}

// claim takes app's in-process guard; false when another flow of the same
// app runs in this process (a sync and an on-demand install racing).
func (g *inflight) claim(appID string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.apps == nil {
		g.apps = map[string]bool{}
	}
	if g.apps[appID] {
		return false
	}
	g.apps[appID] = true
	return true
}

func (g *inflight) release(appID string) {
	g.mu.Lock()
	delete(g.apps, appID)
	g.mu.Unlock()
}

// mark notes (on) or forgets (off) that key's run is recorded.
func (g *inflight) mark(key string, on bool) (was bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.recorded == nil {
		g.recorded = map[string]bool{}
	}
	was = g.recorded[key]
	if on {
		g.recorded[key] = true
	} else {
		delete(g.recorded, key)
	}
	return was
}

// installRecord is the state.Install of a run about to start.
func (a *Agent) installRecord(p imeapi.Policy, m mode, key, dir string, timeout time.Duration) state.Install {
	st, _ := a.store.App(state.DeviceUser, key)
	pol, _ := json.Marshal(p)
	now := a.cfg.Clock.Now()
	return state.Install{
		User: state.DeviceUser, Key: key, AppID: p.AppID, Version: p.Version, Mode: string(m),
		// One job name per run: a Job Object can outlive its last process
		// for a while (Wine keeps it), and a reaper never joins a job of
		// that name that is still there (reap: ERROR_ALREADY_EXISTS).
		ReaperJob:  `Local\imepipe-` + key + "-" + rand.Text()[:12],
		Dir:        dir,
		ResultPath: filepath.Join(a.layout.Staging, key+".reap.json"),
		CodeFile:   filepath.Join(a.layout.Staging, key+".exitcode"),
		Attempt:    st.Attempts.Count + 1,
		Started:    now, Deadline: now.Add(timeout), Policy: pol,
	}
}

// beginInstall records a run before its installer starts.
func (a *Agent) beginInstall(rec state.Install) error {
	if err := a.store.BeginInstall(rec); err != nil {
		return err
	}
	a.runs.mark(rec.Key, true)
	return nil
}

// endInstall deletes key's run record once its attempt is finished, if
// this process holds one.
func (a *Agent) endInstall(t *tracer, key string) {
	if !a.runs.mark(key, false) {
		return
	}
	if err := a.store.DeleteInstall(key); err != nil {
		t.log(imelog.RecoverWarn, err)
	}
}

// begin guards one flow of p's app: it takes the in-process guard and
// finishes every run of the app (any revision) that an earlier agent
// process left recorded. It returns false, with the guard released or
// never taken, when this flow must not go on: another flow of the app
// runs in this process, the re-adopted run was of this very revision (its
// attempt is this sync's), or ctx ended while waiting for it.
func (a *Agent) begin(ctx context.Context, t *tracer, p imeapi.Policy) (release func(), ok bool) {
	if !a.runs.claim(p.AppID) {
		t.log(imelog.AlreadyProcessing, p.AppID)
		return nil, false
	}
	release = func() { a.runs.release(p.AppID) }
	recs, err := a.store.Installs()
	if err != nil {
		t.log(imelog.RecoverFailed, err, p.AppID)
		release()
		return nil, false
	}
	for _, rec := range recs {
		if rec.AppID != p.AppID {
			continue
		}
		done := a.adopt(ctx, t, rec)
		if !done || rec.Key == appKey(p) {
			release()
			return nil, false
		}
	}
	return release, true
}

// adoptLeft finishes the recorded runs of apps no flow of this sync
// claimed (no longer among the policies): their trees are still waited
// for, killed past their deadline, cleaned up and reported.
func (a *Agent) adoptLeft(ctx context.Context, t *tracer) {
	recs, err := a.store.Installs()
	if err != nil {
		t.log(imelog.RecoverError, err)
		return
	}
	for _, rec := range recs {
		if ctx.Err() != nil || !a.runs.claim(rec.AppID) {
			continue
		}
		a.adopt(ctx, t, rec)
		a.runs.release(rec.AppID)
	}
}

// adopt finishes a run an earlier agent process recorded: while its
// reaper lives it waits (polling every OrphanPoll, since the reaper is
// not this process's child), past the run's deadline it has the tree
// killed; then it reads the reaper's Result and finishes the attempt as
// enforce would (return code, detection, state, report), the attempt
// counted once (state.Install.Attempt), and cleans the content folder
// only then. A reaper gone without a Result is one failed attempt. It
// returns false, leaving the record, when ctx ends first.
func (a *Agent) adopt(ctx context.Context, t *tracer, rec state.Install) bool {
	h := reap.Handle{PID: rec.ReaperPID, Start: rec.ReaperStart, Job: rec.ReaperJob}
	if h.PID == 0 {
		if found, ok := reap.Find(rec.ResultPath); ok {
			h.PID, h.Start = found.PID, found.Start
		}
	}
	var p imeapi.Policy
	if err := json.Unmarshal(rec.Policy, &p); err != nil || p.AppID == "" {
		p = imeapi.Policy{AppID: rec.AppID, Version: rec.Version}
	}
	app, appErr := p.Win32LobApp()
	m := mode(rec.Mode)
	t.log(imelog.RecoverFound,
		rec.AppID, rec.Key, rec.Started.Format(time.RFC3339), h.PID, rec.Attempt)
	timedOut, killAt := false, time.Time{}
	for h.Running() {
		now := a.cfg.Clock.Now()
		switch {
		case !h.Alive():
			h.Kill() // the reaper died: nothing waits for what is left of its tree
		case !timedOut && !now.Before(rec.Deadline):
			t.log(imelog.RecoverTimedOut, rec.AppID, rec.Deadline.Format(time.RFC3339))
			timedOut, killAt = true, now.Add(orphanGrace)
			if err := h.Stop(); err != nil {
				t.log(imelog.RecoverStopReaper, h.PID, err)
			}
		case timedOut && !now.Before(killAt):
			h.Kill()
		}
		select {
		case <-ctx.Done():
			t.log(imelog.RecoverStopped, rec.AppID, ctx.Err())
			return false
		case <-a.cfg.Clock.After(a.cfg.OrphanPoll):
		}
	}
	res, err := reap.ReadResult(rec.ResultPath)
	_ = os.Remove(rec.ResultPath)
	var r result
	switch {
	case timedOut:
		r = failure(t, &StepError{Step: "install", Code: CodeTimeout, Err: fmt.Errorf("installer ran past its deadline %s", rec.Deadline.Format(time.RFC3339))})
	case err != nil:
		t.log(imelog.RecoverReaperGone, h.PID)
		r = failure(t, &StepError{Step: "install", Code: CodeFailure, Err: err})
	case appErr != nil:
		r = failure(t, &StepError{Step: "install", Code: CodeFailure, Err: appErr})
	default:
		code := exitCode(res, rec.CodeFile)
		t.log(imelog.ProcessTreeDone, res.PID, res.Reaped)
		t.log(imelog.LpExitCode, code)
		r = a.judge(ctx, t, p, app, m, code, nil)
	}
	_ = os.Remove(rec.CodeFile)
	r.attempt = rec.Attempt
	a.cleanup(t, app, rec.Key, rec.Dir, m)
	a.runs.mark(rec.Key, true) // finish deletes the record
	a.finish(ctx, t, p, app, m, r)
	return true
}
