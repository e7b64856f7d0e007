package orchestrate

import (
	"context"
	"fmt"
	"strings"

	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/orchestrate/imelog"
	"github.com/imepipe/imepipe/orchestrate/rules"
)

// applicability checks an app's requirements: free disk, memory, CPUs,
// CPU speed, architecture, then every requirement rule. It returns the
// first unmet requirement ("" when all are met).
func (a *Agent) applicability(ctx context.Context, app imeapi.Win32LobApp, t *tracer) (string, error) {
	si, err := a.cfg.System()
	if err != nil {
		return "", fmt.Errorf("orchestrate: system info: %w", err)
	}
	check := func(name string, min *int, have int64) string {
		if min == nil || *min <= 0 {
			return ""
		}
		if have > 0 && have < int64(*min) {
			return fmt.Sprintf("%s: need %d, have %d", name, *min, have)
		}
		if have <= 0 {
			t.log(imelog.RequirementUnknown, name, *min)
		}
		return ""
	}
	for _, c := range []string{
		check("MinimumFreeDiskSpaceInMB", app.MinimumFreeDiskSpaceInMB, si.FreeDiskMB),
		check("MinimumMemoryInMB", app.MinimumMemoryInMB, si.MemoryMB),
		check("MinimumNumberOfProcessors", app.MinimumNumberOfProcessors, int64(si.CPUs)),
		check("MinimumCpuSpeedInMHz", app.MinimumCpuSpeedInMHz, int64(si.CPUSpeedMHz)),
	} {
		if c != "" {
			return c, nil
		}
	}
	if !app.AllowsArchitecture(si.Arch) {
		return fmt.Sprintf("architecture %s not in %q", si.Arch, strings.Join(app.EffectiveArchitectures(), ",")), nil
	}
	if why, err := a.osRequirement(app, si, t); err != nil || why != "" {
		return why, err
	}
	t.log(imelog.RequirementStep)
	for i, r := range rules.Requirements(app) {
		ok, detail, err := a.scriptRules(t).Eval(ctx, r, false)
		if err != nil {
			return "", fmt.Errorf("orchestrate: requirement rule %d: %w", i, err)
		}
		t.log(imelog.RequirementRule, i, rules.Kind(r.ODataType), detail)
		if !ok {
			return fmt.Sprintf("requirement rule %d (%s): %s", i, rules.Kind(r.ODataType), detail), nil
		}
	}
	return "", nil
}

// osRequirement checks the app's OS minimums against the device's build
// (Config.OSVersion, else SystemInfo.OSVersion, else DefaultOSVersion).
func (a *Agent) osRequirement(app imeapi.Win32LobApp, si SystemInfo, t *tracer) (string, error) {
	need, name, unknown := app.MinimumBuild()
	for _, u := range unknown {
		t.log(imelog.OSReleaseUnknown, u)
	}
	if need == 0 {
		return "", nil
	}
	v := a.cfg.OSVersion
	if v == "" {
		v = si.OSVersion
	}
	if v == "" {
		v = DefaultOSVersion
	}
	have, err := imeapi.OSBuild(v)
	if err != nil {
		return "", fmt.Errorf("orchestrate: device OS version: %w", err)
	}
	if have < need {
		return fmt.Sprintf("OS version %s (build %d) is older than the minimum %s (build %d)", v, have, name, need), nil
	}
	t.log(imelog.OSVersionMet, v, have, name, need)
	return "", nil
}
