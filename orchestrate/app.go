package orchestrate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/imepipe/imepipe/fetch"
	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/orchestrate/imelog"
	"github.com/imepipe/imepipe/orchestrate/reap"
	"github.com/imepipe/imepipe/orchestrate/rules"
	"github.com/imepipe/imepipe/orchestrate/state"
)

// result is the outcome of one app's processing, as recorded and reported.
type result struct {
	enforcement   imeapi.EnforcementState
	compliance    imeapi.ComplianceState
	code          int64
	message       string
	applicability int
	reboot        string
	do            *fetch.Status
	failed        bool // counts as a failed attempt
	// attempt is the number of a recorded run's attempt (state.Install):
	// a failure is counted only while the stored count is below it.
	attempt int
	// detached: the agent stopped while the installer runs on; the attempt
	// is not finished (nothing recorded or reported) until it is re-adopted.
	detached bool
}

// errNoDetection is the report's message for an app without a detection rule.
const errNoDetection = "the application has no detection rule: it cannot be detected, so its installer is not run"

// processApp runs the IME flow for one app. onDemand skips the retry and
// GRS gates (a user asked) and the install schedule.
func (a *Agent) processApp(ctx context.Context, p imeapi.Policy, m mode, onDemand bool) {
	a.processChain(ctx, p, m, onDemand, nil)
}

// processChain is processApp for an app that chain's apps (outermost
// first) depend on or supersede.
func (a *Agent) processChain(ctx context.Context, p imeapi.Policy, m mode, onDemand bool, chain []string) {
	if s := a.prepare(ctx, p, m, onDemand, chain); s != nil {
		a.complete(ctx, s)
	}
}

// staged is one app's flow up to its install command: the gates it
// passed and its content in IMECache, or the result that ends it. The
// guard of the app's flow (begin) is held until complete releases it.
type staged struct {
	p       imeapi.Policy
	app     imeapi.Win32LobApp
	m       mode
	key     string
	t       *tracer
	release func()
	final   *result // the flow ends with this result: nothing to run
	dir     string  // the content, when final is nil
	do      fetch.Status
	// overlapped: prepared ahead, on a thread of its own, while another
	// app installed (a prefetch, prepareAhead). In its turn the flow
	// continues on the poller's thread (resume), where its subgraph
	// opens, and detection is evaluated again before the install.
	overlapped bool
	reporting  reporting // overlapped: the reporting state loaded as its preparation began
	// serial: not prepared ahead; the consumer runs the whole flow
	// (processApp) in its turn (apps with relationships, or no room).
	serial bool
	slot   bool // holds one of processApps' content slots
	// endSubgraph logs the end of a top-level flow's subgraph (the
	// V3Processor's "Done processing subgraph."), once the flow ends; nil
	// while no subgraph is open for it (an overlapped flow before resume).
	endSubgraph func()
}

// end makes r the flow's result.
func (s *staged) end(r result) *staged {
	s.final = &r
	return s
}

// prepare runs p's flow up to the install command: checks, guard,
// retry and GRS gates, detection, schedule, requirements, dependencies
// and supersedence, then the content (download and unpack). It returns
// nil when the flow stops without a result to record.
func (a *Agent) prepare(ctx context.Context, p imeapi.Policy, m mode, onDemand bool, chain []string) *staged {
	t := a.flowTracer()
	if chain == nil {
		// A subgraph of its own, on the poller's thread, with reporting
		// state of its own. Nothing else is logged on that thread
		// meanwhile: an app prepared while another installs is prepared
		// on a thread of its own (prepareAhead).
		t = t.fork()
	}
	if err := checkPolicy(p); err != nil {
		a.refuse(ctx, t, p, err)
		return nil
	}
	var endSub func()
	if chain == nil {
		endSub = t.subgraph(p)
	}
	st := a.prepareGated(ctx, t, p, m, onDemand, chain)
	if st == nil {
		if endSub != nil {
			endSub()
		}
		return nil
	}
	st.endSubgraph = endSub
	return st
}

// prepareGated is prepare past the policy check, on t.
func (a *Agent) prepareGated(ctx context.Context, t *tracer, p imeapi.Policy, m mode, onDemand bool, chain []string) *staged {
	user, key := state.DeviceUser, appKey(p)
	app, err := p.Win32LobApp()
	if err != nil {
		t.log(imelog.PolicyUndecodable, p.AppID, err)
		return nil
	}
	t.log(imelog.ProcessingApp, p.AppID, app.DisplayName, m)
	release, ok := a.begin(ctx, t, p)
	if !ok {
		return nil
	}
	s := &staged{p: p, app: app, m: m, key: key, t: t, release: release}
	_ = a.store.PutPolicy(user, key, withSettings(state.Policy{AppID: p.AppID, Version: p.Version, DisplayName: app.DisplayName, Intent: p.Intent, UpdatedAt: a.cfg.Clock.Now()}, p, app))
	if m != modeDetect && !onDemand && !a.due(t, user, key, p.AppID) {
		release()
		return nil
	}

	if m == modeInstall {
		if c := a.related.dependencyCycle(p.AppID); c != nil {
			msg := fmt.Sprintf("dependency cycle: %s", strings.Join(c, " -> "))
			t.log(imelog.DependencyCycle, p.AppID, strings.Join(c, " -> "))
			return s.end(result{enforcement: imeapi.EnforcementError, compliance: imeapi.ComplianceError, code: CodeDependency, message: msg})
		}
	}
	if len(rules.Detection(app)) == 0 {
		// Graph lets a body without one be loaded (apps check warns): the
		// IME could never detect the app, so its installer is not run.
		t.log(imelog.NoDetectionRule, p.AppID)
		return s.end(result{enforcement: imeapi.EnforcementError, compliance: imeapi.ComplianceError, code: CodeNotDetected, message: errNoDetection})
	}
	detected, err := a.detect(ctx, t, app)
	if err != nil {
		return s.end(result{enforcement: imeapi.EnforcementError, compliance: imeapi.ComplianceError, code: CodeFailure, message: err.Error(), failed: true})
	}
	if m == modeInstall && !detected && !onDemand && !a.scheduled(t, p) {
		return s.end(result{enforcement: imeapi.EnforcementNotAttempted, compliance: imeapi.ComplianceNotInstalled})
	}
	switch {
	case m == modeDetect, m == modeInstall && detected, m == modeUninstall && !detected:
		t.log(imelog.NoActionRequired, p.AppID)
	}
	switch {
	case m == modeDetect:
		r := result{enforcement: imeapi.EnforcementNotAttempted, compliance: imeapi.ComplianceNotInstalled}
		if detected {
			r = result{enforcement: imeapi.EnforcementSuccess, compliance: imeapi.ComplianceInstalled}
		}
		return s.end(r)
	case m == modeInstall && detected:
		t.log(imelog.AlreadyDetected, p.AppID)
		return s.end(result{enforcement: imeapi.EnforcementSuccess, compliance: imeapi.ComplianceInstalled})
	case m == modeUninstall && !detected:
		t.log(imelog.NothingToUninstall, p.AppID)
		return s.end(result{enforcement: imeapi.EnforcementSuccess, compliance: imeapi.ComplianceNotInstalled})
	}
	if m == modeUninstall {
		t.log(imelog.FoundIntent, 1, "uninstall", p.AppID)
	}
	if m == modeInstall {
		t.log(imelog.ApplicabilityStep)
		why, err := a.applicability(ctx, app, t)
		if err != nil {
			return s.end(result{enforcement: imeapi.EnforcementError, compliance: imeapi.ComplianceError, code: CodeFailure, message: err.Error(), failed: true})
		}
		t.applicability(p.AppID, why == "")
		if why != "" {
			t.notApplicable = true
			t.log(imelog.RequirementsNotMet, p.AppID, why)
			return s.end(result{enforcement: imeapi.EnforcementRequirementsNotMet, compliance: imeapi.ComplianceNotInstalled, applicability: 1, message: "requirements not met: " + why})
		}
		t.log(imelog.RequirementMet)
		t.log(imelog.FoundIntent, 1, "install", p.AppID)
		if err := a.dependencies(ctx, t, app, append(slices.Clone(chain), p.AppID)); err != nil {
			return s.end(result{enforcement: imeapi.EnforcementError, compliance: imeapi.ComplianceError, code: CodeDependency, message: err.Error(), failed: true})
		}
		if err := a.supersede(ctx, t, app, append(slices.Clone(chain), p.AppID)); err != nil {
			return s.end(result{enforcement: imeapi.EnforcementError, compliance: imeapi.ComplianceError, code: CodeFailure, message: err.Error(), failed: true})
		}
	}
	return a.stage(ctx, s)
}

// stage gets s's content into IMECache: persisted content, else
// content (download, verify, decrypt, extract).
func (a *Agent) stage(ctx context.Context, s *staged) *staged {
	t := s.t
	_ = a.store.PutEnforcement(state.DeviceUser, s.key, state.EnforcementStateMessage{EnforcementState: imeapi.EnforcementInProgress})
	if _, err := under(a.layout.IMECache, s.key); err != nil {
		return s.end(failure(t, err)) // checkPolicy let a bad identifier through
	}
	if kept := a.keptDir(t, s.key); kept != "" {
		t.log(imelog.PersistedUsed, kept)
		s.dir = kept
		return s
	}
	dir, do, err := a.content(ctx, t, s.p, s.key)
	if err != nil && ctx.Err() != nil {
		// An operator's stop (Ctrl-C, the service stopping), not a failed
		// attempt: nothing is recorded or reported, the journal keeps what
		// arrived, and the next sync resumes the download.
		t.log(imelog.DownloadPaused, s.p.AppID, do.FileSizeInCache, do.FileSize, context.Cause(ctx))
		s.release()
		if s.endSubgraph != nil {
			s.endSubgraph()
		}
		return nil
	}
	if err != nil {
		r := failure(t, err)
		if do.FileId != "" {
			r.do = &do
		}
		return s.end(r)
	}
	s.dir, s.do = dir, do
	return s
}

// complete ends a prepared flow: for a prefetched app, its hand-over to
// the poller's thread (resume) and detection again (an install before it
// may have changed it), then the install command, detection and cleanup
// (install), then the record and report.
func (a *Agent) complete(ctx context.Context, s *staged) {
	if s.overlapped {
		a.resume(s)
	}
	if s.endSubgraph != nil {
		defer s.endSubgraph() // after the guard's release, as the flow's last line
	}
	defer s.release()
	if s.final == nil && s.overlapped {
		a.recheck(ctx, s)
	}
	if s.final != nil {
		a.finish(ctx, s.t, s.p, s.app, s.m, *s.final)
		return
	}
	a.finish(ctx, s.t, s.p, s.app, s.m, a.install(ctx, s))
}

// install runs the install or uninstall command of s's staged content,
// detects again and cleans up.
func (a *Agent) install(ctx context.Context, s *staged) result {
	t, p, app, m, key, dir, do := s.t, s.p, s.app, s.m, s.key, s.dir, s.do
	failed := func(err error) result { return failure(t, err) }
	detached := false // the agent stops while the installer runs on: keep its folder
	defer func() {
		if !detached {
			a.cleanup(t, app, key, dir, m)
		}
	}()
	cmdline := app.InstallCommandLine
	if m == modeUninstall {
		cmdline = app.UninstallCommandLine
	}
	if st, err := a.store.App(state.DeviceUser, key); err == nil {
		t.log(imelog.ExecuteRetry, st.Attempts.Count)
	} else {
		t.log(imelog.ExecuteRetry, 0)
	}
	t.log(imelog.InstallBehavior, p.Intent, cmdline)
	t.log(imelog.RestartSettings, restartSummary(p, app))
	code, err := a.execute(ctx, t, p, app, m, key, dir, cmdline)
	if errors.Is(err, reap.ErrDetached) {
		detached = true
		return result{detached: true}
	}
	if err != nil {
		r := failed(err)
		r.do = &do
		return r
	}
	r := a.judge(ctx, t, p, app, m, code, &do)
	t.log(imelog.ExecutionReport, p.AppID, delta("EnforcementState", imeapi.EnforcementInProgress.String(), r.enforcement.String()))
	return r
}

func restartBehavior(app imeapi.Win32LobApp) string {
	if app.InstallExperience != nil && app.InstallExperience.DeviceRestartBehavior != "" {
		return app.InstallExperience.DeviceRestartBehavior
	}
	return "basedOnReturnCode"
}

// cleanup runs once the installer's whole process tree is gone: it clears
// Incoming and, unless the app's content is persisted, IMECache/<key>.
func (a *Agent) cleanup(t *tracer, app imeapi.Win32LobApp, key, dir string, m mode) {
	if bin, err := under(a.layout.Incoming, key+".bin"); err == nil {
		removeBin(bin)
	}
	if !inside(a.layout.IMECache, dir) {
		t.log(imelog.CleanupRefused, dir, a.layout.IMECache)
		return
	}
	if m == modeInstall && a.persistFor(app) {
		a.persist(t, key, dir)
		return
	}
	if m == modeUninstall {
		a.unpersist(key)
	}
	t.log(imelog.CleaningUp, dir)
	if err := os.RemoveAll(dir); err != nil {
		t.log(imelog.CleanupFailed, dir, err)
	}
}

// detect evaluates every detection rule (all must hold).
func (a *Agent) detect(ctx context.Context, t *tracer, app imeapi.Win32LobApp) (bool, error) {
	t.log(imelog.DetectionStep)
	detect := rules.Detection(app)
	if len(detect) == 0 {
		return false, fmt.Errorf("orchestrate: app %s has no detection rule: %w", app.ID, ErrRule)
	}
	detected := true
	for i, r := range detect {
		ok, detail, err := a.scriptRules(t).Eval(ctx, r, true)
		if err != nil {
			return false, fmt.Errorf("orchestrate: detection rule %d: %w", i, err)
		}
		t.log(imelog.DetectionRule, i, rules.Kind(r.ODataType), detail)
		t.log(imelog.DetectionManager, detectionManager(rules.Kind(r.ODataType)), trueFalse(ok))
		if !ok {
			detected = false
			break
		}
	}
	t.log(imelog.ApplicationDetected, trueFalse(detected))
	t.detection(app.ID, detected)
	return detected, nil
}

// finish records the attempt, writes the state messages and reports.
func (a *Agent) finish(ctx context.Context, t *tracer, p imeapi.Policy, app imeapi.Win32LobApp, m mode, r result) {
	user, key := state.DeviceUser, appKey(p)
	if r.detached {
		a.runs.mark(key, false) // the record stays in state.db
		return
	}
	a.recordAttempt(t, user, key, p.AppID, r)
	a.metrics.result(m, r)
	a.endInstall(t, key)
	desired := 2
	if m == modeUninstall {
		desired = 1
	}
	ctxNum := 2
	if runAs(app) == "user" {
		ctxNum = 1
	}
	cm := state.ComplianceStateMessage{Applicability: r.applicability, ComplianceState: r.compliance, DesiredState: desired, ErrorCode: r.code, InstallContext: ctxNum, TargetType: 2}
	if r.compliance == imeapi.ComplianceInstalled && app.DisplayVersion != "" {
		v := app.DisplayVersion
		cm.ProductVersion = &v
	}
	em := state.EnforcementStateMessage{EnforcementState: r.enforcement, ErrorCode: r.code, ErrorMessage: r.message}
	t.log(imelog.ComplianceStep)
	cmJSON, _ := json.Marshal(cm)
	t.log(imelog.ComplianceMessage, cmJSON)
	_ = a.store.PutCompliance(user, key, cm)
	t.log(imelog.EnforcementStep)
	emJSON, _ := json.Marshal(em)
	t.log(imelog.EnforcementMessage, emJSON)
	_ = a.store.PutEnforcement(user, key, em)
	if r.reboot != "" {
		if st, err := a.store.App(user, key); err == nil && st.Policy != nil {
			pol := *st.Policy
			pol.RebootPending = r.reboot
			_ = a.store.PutPolicy(user, key, pol)
		}
	}
	status, _ := json.Marshal(struct {
		ApplicationId    string
		EnforcementState string
		ComplianceState  string
		ErrorCode        int64
	}{p.AppID, r.enforcement.String(), r.compliance.String(), r.code})
	t.log(imelog.SendingStatus, status)
	rep := imeapi.Report{AppID: p.AppID, Version: p.Version, EnforcementState: r.enforcement, ComplianceState: r.compliance, ErrorCode: r.code, ErrorMessage: r.message}
	a.retryState(user, key, &rep)
	a.report(ctx, t, user, key, rep, r.do)
}
