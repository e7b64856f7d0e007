package orchestrate

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/imepipe/imepipe/fetch"
	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/orchestrate/imelog"
	"github.com/imepipe/imepipe/orchestrate/state"
)

// ErrRequiredApp: a user asked to uninstall a required app (it would be
// reinstalled at the next sync), or to install an app assigned for uninstall.
var ErrRequiredApp = errors.New("app assignment does not allow that")

// Sync kinds, as the IME's URL monikers name them.
const (
	SyncApp        = "app"
	SyncCompliance = "compliance"
)

// mode is how one app is processed this time.
type mode string

const (
	modeInstall   mode = "DetectInstall"
	modeUninstall mode = "DetectUninstall"
	modeDetect    mode = "Detect"
)

// modeFor: required installs, uninstall uninstalls, available only
// detects unless the user asked (imepipe install / uninstall).
func modeFor(intent, request imeapi.Intent) mode {
	switch {
	case intent == imeapi.IntentRequired:
		return modeInstall
	case intent == imeapi.IntentUninstall:
		return modeUninstall
	case request == imeapi.IntentAvailable:
		return modeInstall
	case request == imeapi.IntentUninstall:
		return modeUninstall
	}
	return modeDetect
}

// Sync is one app sync: enroll if needed, read policies, process every
// app (detection, requirements, download, install, report), send pending
// reports. Per-app failures are recorded in state and reported, not
// returned; the error is for the sync itself (enrollment, policies).
func (a *Agent) Sync(ctx context.Context) error { return a.SyncKind(ctx, SyncApp) }

// SyncKind runs an app sync, or a compliance sync (detection and reports
// only, nothing installed). Each sync records its attempt (the time
// TimeLastSyncAttempt, the result LastSyncResult: ResultOK,
// ResultInterrupted or the error) apart from the time of the last
// successful one (TimeLastAppSync, TimeLastComplianceSync), and a failed
// one is logged on its poller's thread. It does not retry: the daemon
// (Run) syncs again at its next wake-up.
func (a *Agent) SyncKind(ctx context.Context, kind string) (err error) {
	if kind != SyncApp && kind != SyncCompliance {
		return fmt.Errorf("orchestrate: sync kind %q: want %s or %s", kind, SyncApp, SyncCompliance)
	}
	if err := a.lock(); err != nil {
		return err
	}
	defer a.mu.Unlock()
	defer a.metrics.sync(a.cfg.Clock, kind, a.cfg.Clock.Now(), &err)
	request := "required"
	if kind == SyncCompliance {
		request = ""
	}
	t, stop := a.poller(request)
	defer stop()
	logged := false // policies logs its own failures
	defer func() { a.endSync(ctx, t, kind, err, logged) }()
	pols, err := a.policies(ctx, t)
	if err != nil {
		logged = true
		return err
	}
	a.notePolicyApps(pols)
	reqs, err := a.store.Requests()
	if err != nil {
		return fmt.Errorf("orchestrate: %w", err)
	}
	a.related = newRelated(pols)
	defer func() { a.related = relatedSet{} }()
	targeted := 0
	for _, p := range pols {
		if p.Intent != imeapi.IntentNotTargeted {
			targeted++
		}
	}
	t.log(imelog.ProcessingSubgraphs, targeted)
	a.processApps(ctx, pols, func(p imeapi.Policy) (mode, bool) {
		if p.Intent == imeapi.IntentNotTargeted {
			return "", false // served only as a dependency or superseded app of another
		}
		m := modeFor(p.Intent, reqs[p.AppID])
		if kind == SyncCompliance {
			m = modeDetect
		}
		if by := a.supersededBy(p); by != "" && m == modeInstall {
			t.log(imelog.SupersededDetectOnly, p.AppID, by)
			m = modeDetect
		}
		return m, true
	})
	if ctx.Err() != nil {
		return ctx.Err()
	}
	t.log(imelog.DoneSubgraphs, targeted)
	a.adoptLeft(ctx, t)
	a.flushReports(ctx, t)
	return nil
}

// Sync results, as Status.LastResult holds them (else the error's text).
const (
	ResultOK          = "ok"
	ResultInterrupted = "interrupted"
)

// endSync records a sync's attempt: its time and result, and the time of
// success; a stopped sync is logged as a warning, a failed one as an
// error (unless logged says it is already).
func (a *Agent) endSync(ctx context.Context, t *tracer, kind string, err error, logged bool) {
	now := a.cfg.Clock.Now()
	result := ResultOK
	switch {
	case err == nil:
		name := TimeLastAppSync
		if kind == SyncCompliance {
			name = TimeLastComplianceSync
		}
		_ = a.store.SetTime(name, now)
	case ctx.Err() != nil:
		result = ResultInterrupted
		t.log(imelog.SyncInterrupted, context.Cause(ctx))
	default:
		result = err.Error()
		if !logged {
			t.log(imelog.SyncFailed, err)
		}
	}
	_ = a.store.SetTime(TimeLastSyncAttempt, now)
	_ = a.store.SetValue("LastSyncResult", result)
	_ = a.store.SetValue("LastSyncKind", kind)
}

// policyAppsKey holds the revisions (APPID_VERSION) the last policy
// answer named, so that status can tell a revision the service no longer
// serves (the app dropped, or a newer content version served instead)
// from one it does; the store keeps every revision's record, as the IME
// keeps its registry keys.
const policyAppsKey = "LastPolicyApps"

// notePolicyApps records pols' revisions under policyAppsKey, as
// "keys:" and their lower-case keys ("keys:" alone: an answer naming no
// app, not a root never synced). An older agent wrote "ids:" and the app
// ids; Status reads both.
func (a *Agent) notePolicyApps(pols []imeapi.Policy) {
	keys := make([]string, 0, len(pols))
	for _, p := range pols {
		keys = append(keys, strings.ToLower(appKey(p)))
	}
	_ = a.store.SetValue(policyAppsKey, "keys:"+strings.Join(keys, ","))
}

func (a *Agent) lock() error {
	a.mu.Lock()
	if a.closed.Load() {
		a.mu.Unlock()
		return fmt.Errorf("orchestrate: %w", ErrClosed)
	}
	return nil
}

// policies enrolls if needed and fetches the device's policies. A
// failure is logged (the IME's "Failed to get policies") unless ctx
// ended; the service's are *ServiceError.
func (a *Agent) policies(ctx context.Context, t *tracer) ([]imeapi.Policy, error) {
	pols, err := a.fetchPolicies(ctx, t)
	if err != nil && ctx.Err() == nil {
		t.log(imelog.PoliciesFailed, err)
	}
	return pols, err
}

func (a *Agent) fetchPolicies(ctx context.Context, t *tracer) ([]imeapi.Policy, error) {
	if err := a.enroll(ctx, t); err != nil {
		return nil, err
	}
	pol, err := a.client.Policies(ctx)
	if err != nil {
		return nil, a.serviceError(ctx, "policies", err)
	}
	t.log(imelog.GetPolicies, policiesJSON(pol.Policies))
	t.log(imelog.GotApps, len(pol.Policies), state.DeviceUser, 0)
	return pol.Policies, nil
}

// serviceError words a failed enrollment, policy request or Array leave
// (op "enroll", "policies" or "leave") as a *ServiceError, by the
// errors' types: no HTTP answer (*url.Error), the scheme the port does
// not speak, a refused certificate, or the service's error answer
// (*imeapi.APIError). A request that ctx stopped is no fault of the
// service's: it is only wrapped.
func (a *Agent) serviceError(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("orchestrate: %s: %w", op, err)
	}
	se := &ServiceError{Op: op, URL: a.client.BaseURL, Problem: ServiceBadAnswer, Err: err}
	var (
		te *imeapi.TrustError
		ae *imeapi.APIError
		ue *url.Error
	)
	switch {
	case errors.As(err, &te):
		se.Problem = ServiceUntrusted
	case errors.Is(err, http.ErrSchemeMismatch):
		se.Problem = ServiceWantsHTTP
	case errors.As(err, &ae):
		switch {
		case op == "enroll" && ae.StatusCode == http.StatusUnauthorized:
			se.Problem = ServiceSecretRejected
		case ae.StatusCode == http.StatusBadRequest && speaksTLS(ctx, a.client.BaseURL):
			se.Problem = ServiceWantsHTTPS
		default:
			se.Problem, se.Reason = ServiceRefused, apiReason(ae)
		}
	case errors.As(err, &ue):
		se.Problem, se.Reason = ServiceUnreachable, (&fetch.RequestError{Err: ue}).Reason()
	}
	return se
}

// apiReason is an error answer without APIError's "service: " (the
// ServiceError names the service).
func apiReason(e *imeapi.APIError) string {
	if e.Field != "" && e.Message == "" {
		return fmt.Sprintf("HTTP %d: field %s", e.StatusCode, e.Field)
	}
	return fmt.Sprintf("HTTP %d: %s", e.StatusCode, e.Message)
}

// speaksTLS reports whether the port of an http:// service URL speaks
// TLS: whether a TLS handshake with it gets a certificate, one this agent
// trusts or not. Only the handshake is made, no request is sent; it is
// asked only after a 400 to a plain-HTTP request, the answer Go's TLS
// server gives one (whose text "Client sent an HTTP request to an HTTPS
// server" the client does not read).
func speaksTLS(ctx context.Context, service string) bool {
	u, err := url.Parse(service)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return false
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "80")
	}
	ctx, cancel := context.WithTimeout(ctx, tlsProbeTimeout)
	defer cancel()
	d := tls.Dialer{Config: &tls.Config{MinVersion: tls.VersionTLS12, ServerName: u.Hostname()}}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err == nil {
		c.Close()
		return true
	}
	var cve *tls.CertificateVerificationError
	return errors.As(err, &cve)
}

// tlsProbeTimeout bounds speaksTLS's handshake.
const tlsProbeTimeout = 5 * time.Second

// policy finds one app among the policies, and keeps them all for its
// relationships (Agent.related).
func (a *Agent) policy(ctx context.Context, t *tracer, appID string) (imeapi.Policy, error) {
	pols, err := a.policies(ctx, t)
	if err != nil {
		return imeapi.Policy{}, err
	}
	a.related = newRelated(pols)
	for _, p := range pols {
		if p.AppID == appID {
			return p, nil
		}
	}
	return imeapi.Policy{}, fmt.Errorf("orchestrate: %s: %w", appID, ErrUnknownApp)
}

// Install installs an app now at the user's request (an available app, as
// from the Company Portal; a required one is simply enforced now). The
// request is kept: later syncs keep the app installed. Attempts and GRS
// of the app are reset first.
func (a *Agent) Install(ctx context.Context, appID string) (AppStatus, error) {
	return a.onDemand(ctx, appID, imeapi.IntentAvailable)
}

// Uninstall removes an app now at the user's request (not a required one).
func (a *Agent) Uninstall(ctx context.Context, appID string) (AppStatus, error) {
	return a.onDemand(ctx, appID, imeapi.IntentUninstall)
}

func (a *Agent) onDemand(ctx context.Context, appID string, request imeapi.Intent) (AppStatus, error) {
	if err := a.lock(); err != nil {
		return AppStatus{}, err
	}
	defer a.mu.Unlock()
	t, stop := a.poller("selected")
	defer stop()
	p, err := a.policy(ctx, t, appID)
	defer func() { a.related = relatedSet{} }()
	if err != nil {
		return AppStatus{}, err
	}
	if request == imeapi.IntentUninstall && p.Intent == imeapi.IntentRequired {
		return AppStatus{}, fmt.Errorf("orchestrate: %s is required on this device: %w", appID, ErrRequiredApp)
	}
	if request == imeapi.IntentUninstall {
		if err := userUninstall(p); err != nil {
			t.log(imelog.UninstallRefused, err)
			return AppStatus{}, err
		}
	}
	if request == imeapi.IntentAvailable && p.Intent == imeapi.IntentUninstall {
		return AppStatus{}, fmt.Errorf("orchestrate: %s is assigned for uninstall: %w", appID, ErrRequiredApp)
	}
	if err := a.store.SetRequest(appID, request); err != nil {
		return AppStatus{}, fmt.Errorf("orchestrate: %w", err)
	}
	if _, err := a.store.ResetApp(appID); err != nil && !errors.Is(err, state.ErrNotFound) {
		return AppStatus{}, fmt.Errorf("orchestrate: %w", err)
	}
	m := modeFor(p.Intent, request)
	if p.Intent == imeapi.IntentRequired {
		m = modeInstall
	}
	a.processApp(ctx, p, m, true)
	a.flushReports(ctx, t)
	return a.appStatus(appKey(p))
}

// ResetGRS forgets an app's attempts, GRS entry and reports (what an
// admin does by deleting its registry keys), so the next sync tries it
// again at once; its policy stays, and status lists it as waiting for the
// next sync. appID is APPID (every revision) or APPID_REV (one). It
// returns how many entries were removed; an app the agent never saw is
// ErrUnknownApp.
func (a *Agent) ResetGRS(_ context.Context, appID string) (int, error) {
	if appID == "" {
		return 0, fmt.Errorf("orchestrate: empty app id: %w", ErrUnknownApp)
	}
	n, err := a.store.ResetApp(appID)
	if errors.Is(err, state.ErrNotFound) {
		return 0, fmt.Errorf("orchestrate: %s: %w", appID, ErrUnknownApp)
	}
	if err != nil {
		return n, fmt.Errorf("orchestrate: %w", err)
	}
	a.agentTracer().log(imelog.GRSReset, appID, n)
	return n, nil
}

// poller opens an application poller (under a.mu): its banner and user
// session lines on a thread of its own, which every app it processes
// shares (a.flow), as the IME's poller thread does. request names the
// apps requested ("required" for an app sync, "selected" for a user's
// request; "" for a compliance check). stop closes the poller.
func (a *Agent) poller(request string) (t *tracer, stop func()) {
	t = a.tracer()
	a.flow = t
	t.log(imelog.PollerStart)
	t.log(imelog.ActiveUserSessions, 1)
	t.log(imelog.UserSessionStart, 0, state.DeviceUser, "")
	t.log(imelog.ComgtWorkload, "False")
	t.log(imelog.EspPhase, "NotInEsp")
	if request == "" {
		t.log(imelog.ComplianceOnly)
	} else {
		t.log(imelog.RequestingApps, request)
	}
	return t, func() {
		t.log(imelog.UserSessionDone, 0, state.DeviceUser, "")
		t.log(imelog.PollerStop)
		a.flow = nil
	}
}
