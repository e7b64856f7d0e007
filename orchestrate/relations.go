package orchestrate

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/orchestrate/imelog"
	"github.com/imepipe/imepipe/orchestrate/state"
)

// Relationships (Graph mobileAppDependency and mobileAppSupersedence an
// app names as child), processed as the IME does: before an app is
// installed, its dependencies are, recursively (autoInstall installs a
// missing one, detect only checks it), and the apps it supersedes with
// replace are uninstalled; update installs over them. A superseded app
// that is still assigned is not installed again. The policies of the
// sync (related) hold every app the service serves this device, the
// relationships' targets included (imeapi.Policy.DependencyOf).

// CodeDependency is the error code of an app whose dependency is not met
// (0x87D300D9, the code this agent reports for it; the IME's own value
// is not publicly documented).
const CodeDependency = imeapi.CodeDependency

// relatedSet is the policies of one sync, by folded app id, and which
// apps assigned ones supersede.
type relatedSet struct {
	byID       map[string]imeapi.Policy
	supersedes map[string][]string // superseded id → ids of the assigned apps superseding it
}

func foldAppID(id string) string { return strings.ToLower(id) }

// newRelated indexes pols.
func newRelated(pols []imeapi.Policy) relatedSet {
	r := relatedSet{byID: map[string]imeapi.Policy{}, supersedes: map[string][]string{}}
	for _, p := range pols {
		r.byID[foldAppID(p.AppID)] = p
	}
	for _, p := range pols {
		if p.Intent == imeapi.IntentNotTargeted || p.Intent == imeapi.IntentUninstall {
			continue
		}
		app, err := p.Win32LobApp()
		if err != nil {
			continue
		}
		for _, rel := range children(app, imeapi.TypeSupersedence) {
			id := foldAppID(rel.TargetID)
			r.supersedes[id] = append(r.supersedes[id], p.AppID)
		}
	}
	return r
}

// children are app's relationships of type kind it names as child.
func children(app imeapi.Win32LobApp, kind string) []imeapi.Relationship {
	var out []imeapi.Relationship
	for _, rel := range app.Relationships {
		if rel.ODataType == kind && !strings.EqualFold(rel.TargetType, imeapi.TargetParent) {
			out = append(out, rel)
		}
	}
	return out
}

// dependencyCycle returns the ids of a dependency cycle through appID
// (appID first and last), or nil.
func (r relatedSet) dependencyCycle(appID string) []string {
	var walk func(id string, path []string) []string
	done := map[string]bool{}
	walk = func(id string, path []string) []string {
		for i, p := range path {
			if foldAppID(p) == foldAppID(id) {
				return append(slices.Clone(path[i:]), id)
			}
		}
		if done[foldAppID(id)] {
			return nil
		}
		p, ok := r.byID[foldAppID(id)]
		if !ok {
			return nil
		}
		app, err := p.Win32LobApp()
		if err != nil {
			return nil
		}
		path = append(path, id)
		for _, rel := range children(app, imeapi.TypeDependency) {
			if c := walk(rel.TargetID, path); c != nil {
				return c
			}
		}
		done[foldAppID(id)] = true
		return nil
	}
	return walk(appID, nil)
}

// installed reports whether the stored compliance state of p's app is Installed.
func (a *Agent) installed(p imeapi.Policy) bool {
	st, err := a.store.App(state.DeviceUser, appKey(p))
	return err == nil && st.Compliance != nil && st.Compliance.ComplianceState == imeapi.ComplianceInstalled
}

// dependencies processes app's dependencies before it is installed:
// chain is the apps being installed above it (for the log). A missing
// autoInstall dependency is installed (its own dependencies first); a
// missing detect dependency fails the app. The error wraps ErrDependency.
func (a *Agent) dependencies(ctx context.Context, t *tracer, app imeapi.Win32LobApp, chain []string) error {
	deps := children(app, imeapi.TypeDependency)
	if len(deps) == 0 {
		return nil
	}
	t.log(imelog.DependencyStep, app.ID, len(deps))
	for _, rel := range deps {
		dp, ok := a.related.byID[foldAppID(rel.TargetID)]
		if !ok {
			t.log(imelog.DependencyMissing, rel.TargetID, app.ID)
			return fmt.Errorf("%w: dependency app %s of app %s is not available to this device", ErrDependency, rel.TargetID, app.ID)
		}
		dapp, err := dp.Win32LobApp()
		if err != nil {
			return fmt.Errorf("%w: dependency app %s: %v", ErrDependency, rel.TargetID, err)
		}
		detected, err := a.detect(ctx, t, dapp)
		if err != nil {
			return fmt.Errorf("%w: dependency app %s: %v", ErrDependency, rel.TargetID, err)
		}
		if detected {
			t.log(imelog.DependencyDetected, dp.AppID, dapp.DisplayName, rel.DependencyType)
			continue
		}
		if rel.DependencyType != imeapi.DependencyAutoInstall {
			t.log(imelog.DependencyNotMet, dp.AppID, dapp.DisplayName, app.ID)
			return fmt.Errorf("%w: dependency app %s (%s) is not installed (dependency type detect)", ErrDependency, dp.AppID, dapp.DisplayName)
		}
		t.log(imelog.DependencyInstalling, dp.AppID, dapp.DisplayName, app.ID)
		a.processChain(ctx, dp, modeInstall, false, append(slices.Clone(chain), app.ID))
		if !a.installed(dp) {
			t.log(imelog.DependencyFailed, dp.AppID, dapp.DisplayName, app.ID)
			return fmt.Errorf("%w: dependency app %s (%s) failed to install", ErrDependency, dp.AppID, dapp.DisplayName)
		}
		t.log(imelog.DependencyInstalled, dp.AppID, dapp.DisplayName)
	}
	return nil
}

// supersede handles the apps app supersedes before it is installed:
// replace uninstalls a detected one (its uninstall command, then
// detection says it is gone), update installs over it.
func (a *Agent) supersede(ctx context.Context, t *tracer, app imeapi.Win32LobApp, chain []string) error {
	for _, rel := range children(app, imeapi.TypeSupersedence) {
		sp, ok := a.related.byID[foldAppID(rel.TargetID)]
		if !ok {
			t.log(imelog.SupersededMissing, rel.TargetID, app.ID)
			continue
		}
		sapp, err := sp.Win32LobApp()
		if err != nil {
			return fmt.Errorf("orchestrate: superseded app %s: %w", rel.TargetID, err)
		}
		if rel.SupersedenceType != imeapi.SupersedenceReplace {
			t.log(imelog.SupersedesUpdate, app.ID, sp.AppID, sapp.DisplayName)
			continue
		}
		t.log(imelog.SupersedesReplace, app.ID, sp.AppID, sapp.DisplayName)
		a.processChain(ctx, sp, modeUninstall, true, append(slices.Clone(chain), app.ID))
		st, err := a.store.App(state.DeviceUser, appKey(sp))
		if err != nil || st.Compliance == nil || st.Compliance.ComplianceState != imeapi.ComplianceNotInstalled {
			t.log(imelog.SupersededStill, sp.AppID, app.ID)
			return fmt.Errorf("orchestrate: superseded app %s (%s) was not uninstalled", sp.AppID, sapp.DisplayName)
		}
		t.log(imelog.SupersededGone, sp.AppID, sapp.DisplayName)
	}
	return nil
}

// supersededBy returns the assigned apps that supersede p's app ("" when none).
func (a *Agent) supersededBy(p imeapi.Policy) string {
	return strings.Join(a.related.supersedes[foldAppID(p.AppID)], ", ")
}
