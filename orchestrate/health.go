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
	Checks       []Check   `json:"checks"`
	CheckedAt    time.Time `json:"checkedAt"`
}

// Health checks the root's folders, enrollment, the last sync and the
// reaper binary.
func (a *Agent) Health(ctx context.Context) (Health, error) {
	h := Health{Healthy: true, AgentRunning: a.ln != nil}
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
	add("enrollment", st.Enrolled, "run imepipe agent --service URL --enrollment-secret-file FILE on this root", "device %q at %q", st.DeviceID, st.ServiceURL)
	last, ok := st.Times["LastAppSyncTime"]
	switch {
	case !ok:
		add("last sync", false, syncFix, "never synced")
	default:
		age := a.cfg.Clock.Now().Sub(last)
		fresh := age <= 2*a.cfg.SyncInterval+time.Minute
		add("last sync", fresh && st.LastResult == "ok", syncFix, "%s ago (%s), result %q", age.Round(time.Second), last.Format(time.RFC3339), st.LastResult)
	}
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

// syncFix is the remediation of a missing, stale or failed sync.
const syncFix = "start the agent (imepipe agent) or run imepipe sync; on a failed sync read Logs/IntuneManagementExtension.log and check that the service is reachable"

// HealthReportName is the file in Logs that Health writes its result to,
// as the IME writes HealthReport.json.
const HealthReportName = "HealthReport.json"
