package orchestrate

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/orchestrate/state"
)

// AppStatus is one app revision as `imepipe status` shows it.
type AppStatus struct {
	AppID            string                  `json:"appId"`
	Version          string                  `json:"version"`
	User             string                  `json:"user"`
	DisplayName      string                  `json:"displayName,omitempty"`
	Intent           imeapi.Intent           `json:"intent"`
	IntentName       string                  `json:"intentName"`
	Request          string                  `json:"request,omitempty"` // install / uninstall asked by the user
	EnforcementState imeapi.EnforcementState `json:"enforcementState"`
	ComplianceState  imeapi.ComplianceState  `json:"complianceState"`
	ErrorCode        int64                   `json:"errorCode"`
	ErrorCodeHex     string                  `json:"errorCodeHex,omitempty"`
	ErrorMessage     string                  `json:"errorMessage,omitempty"`
	// InstallerLog is the installer's own log (Logs/Win32AppInstaller-
	// APPID_REV.log) when the error is the installer's (an exit code, a
	// timeout) and the log is there.
	InstallerLog string `json:"installerLog,omitempty"`
	Attempts     int    `json:"attempts"`
	MaxAttempts  int    `json:"maxAttempts"`
	LastError    string `json:"lastError,omitempty"`
	// LastAttempt and NextAttempt: when a failed app was last tried and
	// when it may be tried again (retry gap or GRS window).
	LastAttempt   *time.Time `json:"lastAttempt,omitempty"`
	NextAttempt   *time.Time `json:"nextAttempt,omitempty"`
	InGRS         bool       `json:"inGRS"`
	GRSSince      *time.Time `json:"grsSince,omitempty"`
	RebootPending string     `json:"rebootPending,omitempty"`
	Reported      bool       `json:"reported"`
	ReportedAt    *time.Time `json:"reportedAt,omitempty"`
	Persisted     bool       `json:"persisted"`
	// WaitingForSync: nothing has been done with this revision yet (new,
	// or reset by grs reset); the next sync processes it.
	WaitingForSync bool `json:"waitingForSync,omitempty"`
	// NotInPolicies: the last policy answer did not name this revision
	// (the service no longer serves or assigns the app, or serves another
	// content version of it); its record is kept.
	NotInPolicies bool `json:"notInLastPolicies,omitempty"`
	// DOStatus is the DO record of the last download (as reported).
	DOStatus json.RawMessage `json:"doStatus,omitempty"`
}

// Times of Status.Times: the last successful sync of each kind, and the
// last attempt of either kind whatever its result (Status.LastResult).
const (
	TimeLastAppSync        = "LastAppSyncTime"
	TimeLastComplianceSync = "LastComplianceSyncTime"
	TimeLastSyncAttempt    = "LastSyncAttemptTime"
)

// Status is the agent's state as `imepipe status` shows it.
type Status struct {
	Root       string               `json:"root"`
	ServiceURL string               `json:"serviceUrl,omitempty"`
	DeviceID   string               `json:"deviceId,omitempty"`
	Enrolled   bool                 `json:"enrolled"`
	Times      map[string]time.Time `json:"times"`
	// LastResult is the result of the last sync attempt (at
	// Times[TimeLastSyncAttempt], of kind LastKind): ResultOK,
	// ResultInterrupted or what failed.
	LastResult   string                   `json:"lastSyncResult,omitempty"`
	LastKind     string                   `json:"lastSyncKind,omitempty"` // SyncApp or SyncCompliance
	Settings     map[string]string        `json:"settings"`
	Apps         []AppStatus              `json:"apps"`
	Persisted    []state.Persisted        `json:"persisted"`
	Requests     map[string]imeapi.Intent `json:"requests,omitempty"`
	AgentRunning bool                     `json:"agentRunning"`
}

// Status reads the agent's state.
func (a *Agent) Status(context.Context) (Status, error) {
	st := Status{Root: a.layout.Root, Settings: map[string]string{}, AgentRunning: a.ln != nil}
	id, ok, err := a.store.Identity()
	if err != nil {
		return st, err
	}
	if ok {
		st.Enrolled, st.ServiceURL, st.DeviceID = true, id.ServiceURL, id.DeviceID
	}
	if st.Times, err = a.store.Times(); err != nil {
		return st, fmt.Errorf("orchestrate: %w", err)
	}
	st.LastResult, _ = a.store.Value("LastSyncResult")
	st.LastKind, _ = a.store.Value("LastSyncKind")
	for _, n := range []string{"SyncInterval", "RetryInterval", "GRSWindow", "MaxAttempts", "DownloadMode", "CacheHost", "PeerAddr"} {
		if v, _ := a.store.Value(n); v != "" {
			st.Settings[n] = v
		}
	}
	st.Settings["SyncInterval"] = a.cfg.SyncInterval.String()
	st.Settings["RetryInterval"] = a.cfg.RetryInterval.String()
	st.Settings["GRSWindow"] = a.cfg.GRSWindow.String()
	st.Settings["MaxAttempts"] = fmt.Sprint(a.cfg.MaxAttempts)
	if st.Persisted, err = a.store.Persisted(); err != nil {
		return st, fmt.Errorf("orchestrate: %w", err)
	}
	if st.Requests, err = a.store.Requests(); err != nil {
		return st, fmt.Errorf("orchestrate: %w", err)
	}
	apps, err := a.store.Apps()
	if err != nil {
		return st, fmt.Errorf("orchestrate: %w", err)
	}
	v, _ := a.store.Value(policyAppsKey)
	served, byKey := strings.CutPrefix(v, "keys:")
	known := byKey
	if !byKey {
		served, known = strings.CutPrefix(v, "ids:") // an older agent's record
	}
	inPolicies := map[string]bool{}
	for _, id := range strings.Split(served, ",") {
		inPolicies[id] = true
	}
	for _, ap := range apps {
		s := a.statusOf(ap, st.Persisted, st.Requests)
		name := s.AppID
		if byKey {
			name = ap.Key
		}
		s.NotInPolicies = known && !inPolicies[strings.ToLower(name)] // not known before the first answer
		st.Apps = append(st.Apps, s)
	}
	return st, nil
}

func (a *Agent) appStatus(key string) (AppStatus, error) {
	ap, err := a.store.App(state.DeviceUser, key)
	if err != nil {
		return AppStatus{}, fmt.Errorf("orchestrate: %w", err)
	}
	kept, _ := a.store.Persisted()
	reqs, _ := a.store.Requests()
	return a.statusOf(ap, kept, reqs), nil
}

func (a *Agent) statusOf(ap state.App, kept []state.Persisted, reqs map[string]imeapi.Intent) AppStatus {
	appID, ver, _ := strings.Cut(ap.Key, "_")
	s := AppStatus{AppID: appID, Version: ver, User: ap.User, MaxAttempts: a.cfg.MaxAttempts, Attempts: ap.Attempts.Count, LastError: ap.Attempts.LastError}
	if p := ap.Policy; p != nil {
		s.DisplayName, s.Intent, s.RebootPending = p.DisplayName, p.Intent, p.RebootPending
	}
	s.IntentName = s.Intent.String()
	switch reqs[appID] {
	case imeapi.IntentAvailable:
		s.Request = "install"
	case imeapi.IntentUninstall:
		s.Request = "uninstall"
	}
	s.WaitingForSync = ap.Compliance == nil && ap.Enforcement == nil && ap.Attempts.Count == 0
	if c := ap.Compliance; c != nil {
		s.ComplianceState = c.ComplianceState
	}
	if e := ap.Enforcement; e != nil {
		s.EnforcementState, s.ErrorCode, s.ErrorMessage = e.EnforcementState, e.ErrorCode, e.ErrorMessage
		s.ErrorCodeHex = imeapi.CodeHex(e.ErrorCode) // as the report and the console show it
		if e.EnforcementState == imeapi.EnforcementError && installerCode(e.ErrorCode) {
			if p, err := under(a.layout.Logs, "Win32AppInstaller-"+ap.Key+".log"); err == nil && exists(p) {
				s.InstallerLog = p
			}
		}
	}
	if ap.Attempts.Count > 0 {
		last := ap.Attempts.Last
		next := last.Add(a.cfg.RetryInterval)
		s.LastAttempt, s.NextAttempt = &last, &next
	}
	if !ap.GRS.IsZero() {
		since, until := ap.GRS, ap.GRS.Add(a.cfg.GRSWindow)
		s.InGRS, s.GRSSince, s.NextAttempt = true, &since, &until
	}
	if r := ap.Report; r != nil {
		s.Reported = r.Sent
		if r.Sent {
			at := r.SentAt
			s.ReportedAt = &at
		}
		var rep imeapi.Report
		if json.Unmarshal(r.Body, &rep) == nil && len(rep.DOStatus) > 0 {
			s.DOStatus = rep.DOStatus
		}
	}
	for _, p := range kept {
		if p.Key == ap.Key {
			s.Persisted = true
		}
	}
	return s
}

// installerCode: code is the installer's result (its exit code, a Win32
// error code as imeapi.HResult takes one, or its timeout), so its log
// says why.
func installerCode(code int64) bool {
	return code > 0 && code <= 0xFFFF || code == CodeTimeout
}

// Failed reports whether the app did not come to rest as wanted: its
// enforcement ended in an error or is unknown, detection failed, or it
// is still in progress (an installer that asked for a retry, or one still
// running). Installed, not applicable (requirements not met), not
// attempted (available, not asked for), uninstalled as intended and not
// yet processed (waiting for its start or for the next sync) are at rest.
func (s AppStatus) Failed() bool {
	switch s.EnforcementState {
	case imeapi.EnforcementError, imeapi.EnforcementUnknown, imeapi.EnforcementInProgress:
		return true
	}
	return s.ComplianceState == imeapi.ComplianceError
}
