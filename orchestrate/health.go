package orchestrate

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/imepipe/imepipe/internal/atomicfile"
	"github.com/imepipe/imepipe/orchestrate/imelog"
)

// Check is one health check: what was checked, its result, what was
// found, and the remediation that fixes a failure (the agent does not
// apply it itself).
type Check struct {
	Name        string `json:"name"`
	OK          bool   `json:"ok"`
	Result      string `json:"result"` // CheckPassed or CheckFailed
	Detail      string `json:"detail"`
	Remediation string `json:"remediation"`
}

// Check results, as Check.Result spells them.
const (
	CheckPassed = "Passed"
	CheckFailed = "Failed"
)

// Health is the agent's health (like the IME's HealthReport.json): every
// check with its result and remediation, and whether all passed.
type Health struct {
	Healthy      bool      `json:"healthy"`
	AgentRunning bool      `json:"agentRunning"`
	Root         string    `json:"root"`
	Enrolled     bool      `json:"enrolled"`
	Checks       []Check   `json:"checks"`
	CheckedAt    time.Time `json:"checkedAt"`
}

// Health checks the root's folders, enrollment, the last sync and the
// reaper binary.
func (a *Agent) Health(ctx context.Context) (Health, error) {
	h := Health{Healthy: true, AgentRunning: a.ln != nil, Root: a.layout.Root}
	add := func(name string, ok bool, fix string, format string, args ...any) {
		res := CheckPassed
		if !ok {
			res = CheckFailed
		}
		h.Checks = append(h.Checks, Check{Name: name, OK: ok, Result: res, Detail: fmt.Sprintf(format, args...), Remediation: fix})
		h.Healthy = h.Healthy && ok
	}
	for _, d := range []string{a.layout.Incoming, a.layout.Staging, a.layout.IMECache, a.layout.DOCache, a.layout.Logs} {
		f, err := os.CreateTemp(d, ".health-*")
		if err == nil {
			f.Close()
			os.Remove(f.Name())
		}
		rel, _ := filepath.Rel(a.layout.Root, d)
		add("folder "+rel, err == nil, "make "+d+" a folder the agent's user can write (owner and mode), with free space", "%s writable: %v", d, err == nil)
	}
	st, err := a.Status(ctx)
	if err != nil {
		return h, err
	}
	h.Enrolled = st.Enrolled
	if st.Enrolled {
		add("enrollment", true, enrollFix, "device %s at %s", st.DeviceID, st.ServiceURL)
	} else {
		add("enrollment", false, enrollFix, "not enrolled")
	}
	ok, detail := a.lastSync(st)
	add("last sync", ok, syncFix, "%s", detail)
	exe := a.cfg.Reaper
	if exe == "" {
		exe, err = os.Executable()
	}
	_, serr := os.Stat(exe)
	add("reaper", err == nil && serr == nil, "reinstall imepipe: the agent re-runs its own executable as the installers' reaper, and it is gone", "%s", exe)
	h.CheckedAt = a.cfg.Clock.Now().UTC()
	data, err := json.MarshalIndent(h, "", "  ")
	if err == nil {
		err = atomicfile.Write(filepath.Join(a.layout.Logs, HealthReportName), append(data, '\n'), 0o644)
	}
	if err != nil {
		a.agentTracer().log(imelog.HealthWriteFailed, HealthReportName, err)
	}
	return h, nil
}

// lastSync judges the last sync by its last attempt: it passed if it
// succeeded within two sync intervals (and a minute). The detail says
// when it was, its result and, after a failure, the last success. A root
// synced before attempts were recorded is judged by its last success.
func (a *Agent) lastSync(st Status) (bool, string) {
	now := a.cfg.Clock.Now()
	ago := func(t time.Time) string {
		return fmt.Sprintf("%s ago (%s)", now.Sub(t).Round(time.Second), t.Format(time.RFC3339))
	}
	fresh := func(t time.Time) bool { return now.Sub(t) <= 2*a.cfg.SyncInterval+time.Minute }
	attempt, tried := st.Times[TimeLastSyncAttempt]
	success, synced := st.Times[TimeLastAppSync]
	switch {
	case tried && st.LastResult == ResultOK:
		return fresh(attempt), "last attempt " + ago(attempt) + " succeeded"
	case tried:
		detail := "last attempt " + ago(attempt)
		if st.LastResult == ResultInterrupted {
			detail += " was interrupted"
		} else {
			detail += " failed: " + st.LastResult
		}
		if synced {
			return false, detail + "; last success " + ago(success)
		}
		return false, detail + "; never succeeded"
	case synced:
		return fresh(success) && st.LastResult == ResultOK, fmt.Sprintf("%s, result %q", ago(success), st.LastResult)
	}
	return false, "never synced"
}

// enrollFix is the remediation of a root that is not enrolled.
const enrollFix = "run imepipe agent --service URL --enrollment-secret-file FILE on this root"

// syncFix is the remediation of a missing, stale or failed sync.
const syncFix = "start the agent (imepipe agent) or run imepipe sync; on a failed sync read Logs/IntuneManagementExtension.log and check that the service is reachable"

// HealthReportName is the file in Logs that Health writes its result to,
// as the IME writes HealthReport.json.
const HealthReportName = "HealthReport.json"
