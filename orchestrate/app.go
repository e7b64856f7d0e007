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
	t := a.flowTracer()
	if err := checkPolicy(p); err != nil {
		a.refuse(ctx, t, p, err)
		return
	}
	if chain == nil {
		end := t.subgraph(p)
		defer end()
	}
	user, key := state.DeviceUser, appKey(p)
	app, err := p.Win32LobApp()
	if err != nil {
		t.log(imelog.PolicyUndecodable, p.AppID, err)
		return
	}
	t.log(imelog.ProcessingApp, p.AppID, app.DisplayName, m)
	release, ok := a.begin(ctx, t, p)
	if !ok {
		return
	}
	defer release()
	_ = a.store.PutPolicy(user, key, withSettings(state.Policy{AppID: p.AppID, Version: p.Version, DisplayName: app.DisplayName, Intent: p.Intent, UpdatedAt: a.cfg.Clock.Now()}, p, app))
	if m != modeDetect && !onDemand && !a.due(t, user, key, p.AppID) {
		return
	}

	if m == modeInstall {
		if c := a.related.dependencyCycle(p.AppID); c != nil {
			msg := fmt.Sprintf("dependency cycle: %s", strings.Join(c, " -> "))
			t.log(imelog.DependencyCycle, p.AppID, strings.Join(c, " -> "))
			a.finish(ctx, t, p, app, m, result{enforcement: imeapi.EnforcementError, compliance: imeapi.ComplianceError, code: CodeDependency, message: msg})
			return
		}
	}
	if len(rules.Detection(app)) == 0 {
		// Graph lets a body without one be loaded (apps check warns): the
		// IME could never detect the app, so its installer is not run.
		t.log(imelog.NoDetectionRule, p.AppID)
		a.finish(ctx, t, p, app, m, result{enforcement: imeapi.EnforcementError, compliance: imeapi.ComplianceError, code: CodeNotDetected, message: errNoDetection})
		return
	}
	detected, err := a.detect(ctx, t, app)
	if err != nil {
		a.finish(ctx, t, p, app, m, result{enforcement: imeapi.EnforcementError, compliance: imeapi.ComplianceError, code: CodeFailure, message: err.Error(), failed: true})
		return
	}
	if m == modeInstall && !detected && !onDemand && !a.scheduled(t, p) {
		a.finish(ctx, t, p, app, m, result{enforcement: imeapi.EnforcementNotAttempted, compliance: imeapi.ComplianceNotInstalled})
		return
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
		a.finish(ctx, t, p, app, m, r)
		return
	case m == modeInstall && detected:
		t.log(imelog.AlreadyDetected, p.AppID)
		a.finish(ctx, t, p, app, m, result{enforcement: imeapi.EnforcementSuccess, compliance: imeapi.ComplianceInstalled})
		return
	case m == modeUninstall && !detected:
		t.log(imelog.NothingToUninstall, p.AppID)
		a.finish(ctx, t, p, app, m, result{enforcement: imeapi.EnforcementSuccess, compliance: imeapi.ComplianceNotInstalled})
		return
	}
	if m == modeUninstall {
		t.log(imelog.FoundIntent, 1, "uninstall", p.AppID)
	}
	if m == modeInstall {
		t.log(imelog.ApplicabilityStep)
		why, err := a.applicability(ctx, app, t)
		if err != nil {
			a.finish(ctx, t, p, app, m, result{enforcement: imeapi.EnforcementError, compliance: imeapi.ComplianceError, code: CodeFailure, message: err.Error(), failed: true})
			return
		}
		t.applicability(p.AppID, why == "")
		if why != "" {
			t.notApplicable = true
			t.log(imelog.RequirementsNotMet, p.AppID, why)
			a.finish(ctx, t, p, app, m, result{enforcement: imeapi.EnforcementRequirementsNotMet, compliance: imeapi.ComplianceNotInstalled, applicability: 1, message: "requirements not met: " + why})
			return
		}
		t.log(imelog.RequirementMet)
		t.log(imelog.FoundIntent, 1, "install", p.AppID)
		if err := a.dependencies(ctx, t, app, append(slices.Clone(chain), p.AppID)); err != nil {
			a.finish(ctx, t, p, app, m, result{enforcement: imeapi.EnforcementError, compliance: imeapi.ComplianceError, code: CodeDependency, message: err.Error(), failed: true})
			return
		}
		if err := a.supersede(ctx, t, app, append(slices.Clone(chain), p.AppID)); err != nil {
			a.finish(ctx, t, p, app, m, result{enforcement: imeapi.EnforcementError, compliance: imeapi.ComplianceError, code: CodeFailure, message: err.Error(), failed: true})
			return
		}
	}
	a.finish(ctx, t, p, app, m, a.enforce(ctx, t, p, app, m, key))
}

// enforce downloads, unpacks, runs the install or uninstall command,
// detects again and cleans up.
func (a *Agent) enforce(ctx context.Context, t *tracer, p imeapi.Policy, app imeapi.Win32LobApp, m mode, key string) result {
	_ = a.store.PutEnforcement(state.DeviceUser, key, state.EnforcementStateMessage{EnforcementState: imeapi.EnforcementInProgress})
	failed := func(err error) result { return failure(t, err) }
	var dir string
	var do fetch.Status
	var err error
	if _, err := under(a.layout.IMECache, key); err != nil {
		return failed(err) // checkPolicy let a bad identifier through
	}
	if kept := a.keptDir(t, key); kept != "" {
		t.log(imelog.PersistedUsed, kept)
		dir = kept
	} else {
		dir, do, err = a.content(ctx, t, p, key)
		if err != nil {
			r := failed(err)
			if do.FileId != "" {
				r.do = &do
			}
			return r
		}
	}
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
		ok, detail, err := a.rules.Eval(ctx, r, true)
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
