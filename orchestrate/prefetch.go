package orchestrate

import (
	"context"
	"strings"

	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/orchestrate/imelog"
)

// DefaultPrefetch is how many apps' content a sync downloads and unpacks
// ahead of the app that installs (Config.Prefetch 0).
const DefaultPrefetch = 1

// prefetch is the sync's look-ahead: 0 means one app after another.
func (a *Agent) prefetch() int {
	switch n := a.cfg.Prefetch; {
	case n < 0:
		return 0
	case n == 0:
		return DefaultPrefetch
	default:
		return n
	}
}

// processApps runs the flows of a sync's apps in their order, installs
// one at a time. With a look-ahead (Config.Prefetch), while an app's
// install command runs, the next apps' flows go as far as their content:
// each passes its own gates (retries, GRS, detection, schedule,
// requirements) before its download, exactly as it would in its turn,
// and is detected again just before its install. Apps in a relationship
// (dependencies, supersedence), apps not to install, and apps there is
// no room on disk for are not prepared ahead: every earlier flow ends
// first, then theirs runs whole in its turn. modeOf says how an app is
// processed, false to leave it out. It returns when every flow has ended,
// or, once ctx ends, when the running one has; content prepared ahead
// stays where it is for the next sync (the download resumes, or the
// complete file is verified again).
func (a *Agent) processApps(ctx context.Context, pols []imeapi.Policy, modeOf func(imeapi.Policy) (mode, bool)) {
	n := a.prefetch()
	if n == 0 {
		for _, p := range pols {
			if ctx.Err() != nil {
				return
			}
			if m, ok := modeOf(p); ok {
				a.processApp(ctx, p, m, false)
			}
		}
		return
	}
	// A content slot for the app that installs and n for apps ahead;
	// flows that ended before their content (a gate, a failed download)
	// hold none.
	slots := make(chan struct{}, n+1)
	stages := make(chan *staged, len(pols))
	completed := make(chan struct{}, len(pols))
	go a.produce(ctx, pols, modeOf, stages, slots, completed)
	for s := range stages {
		switch {
		case ctx.Err() != nil:
			if !s.serial {
				s.release() // nothing recorded: the next sync takes it up again
				if s.endSubgraph != nil {
					s.endSubgraph()
				}
			}
		case s.serial:
			a.processApp(ctx, s.p, s.m, false)
		default:
			a.complete(ctx, s)
		}
		if s.slot {
			<-slots
		}
		completed <- struct{}{}
	}
}

// produce prepares the flows of pols in order for processApps and closes
// stages when done. A flow that may stage content takes a slot first;
// completed gets a value each time processApps has ended a stage.
func (a *Agent) produce(ctx context.Context, pols []imeapi.Policy, modeOf func(imeapi.Policy) (mode, bool), stages chan<- *staged, slots chan struct{}, completed <-chan struct{}) {
	defer close(stages)
	outstanding := 0 // stages sent and not yet ended
	settle := func(all bool) {
		for outstanding > 0 {
			if all {
				<-completed
				outstanding--
				continue
			}
			select {
			case <-completed:
				outstanding--
			default:
				return
			}
		}
	}
	for _, p := range pols {
		if ctx.Err() != nil {
			return
		}
		m, ok := modeOf(p)
		if !ok {
			continue
		}
		settle(false)
		if !a.aheadable(p, m) || (outstanding > 0 && !a.roomFor(p)) {
			settle(true) // every earlier flow ends first …
			stages <- &staged{serial: true, p: p, m: m}
			outstanding++
			settle(true) // … and this one before the next is prepared
			continue
		}
		slots <- struct{}{}
		if ctx.Err() != nil { // stopped while waiting for a slot
			<-slots
			return
		}
		settle(false)
		busy := outstanding > 0
		s := a.prepare(ctx, p, m, false, nil)
		if s == nil || s.final != nil {
			<-slots // no content staged
		}
		if s == nil {
			continue
		}
		s.slot = s.final == nil
		s.overlapped = busy
		stages <- s
		outstanding++
	}
}

// aheadable: p's flow may be prepared while another app installs. Only
// installs of apps in no relationship qualify: a dependency is processed
// inside its dependant's flow, supersedence uninstalls first.
func (a *Agent) aheadable(p imeapi.Policy, m mode) bool {
	if m != modeInstall || len(p.DependencyOf) > 0 || a.supersededBy(p) != "" {
		return false
	}
	app, err := p.Win32LobApp()
	if err != nil || len(app.Relationships) > 0 {
		return false
	}
	for _, q := range a.related.byID {
		qa, err := q.Win32LobApp()
		if err != nil {
			continue
		}
		for _, rel := range qa.Relationships {
			if strings.EqualFold(rel.TargetID, p.AppID) {
				return false
			}
		}
	}
	return true
}

// roomFor: the disk holds p's package and its extracted content (twice
// the app's size) beside what is already staged (free space unknown, or
// no size: yes, the download checks again).
func (a *Agent) roomFor(p imeapi.Policy) bool {
	app, err := p.Win32LobApp()
	if err != nil || app.Size <= 0 {
		return true
	}
	si, err := a.cfg.System()
	if err != nil || si.FreeDiskMB <= 0 {
		return true
	}
	return si.FreeDiskMB<<20 >= 2*int64(app.Size)
}

// recheck evaluates a prefetched app's detection again before its
// install: an app installed before it may have installed it too.
func (a *Agent) recheck(ctx context.Context, s *staged) {
	detected, err := a.detect(ctx, s.t, s.app)
	switch {
	case err != nil:
		a.cleanup(s.t, s.app, s.key, s.dir, s.m)
		s.end(result{enforcement: imeapi.EnforcementError, compliance: imeapi.ComplianceError, code: CodeFailure, message: err.Error(), failed: true})
	case detected:
		s.t.log(imelog.AlreadyDetected, s.p.AppID)
		a.cleanup(s.t, s.app, s.key, s.dir, s.m)
		s.end(result{enforcement: imeapi.EnforcementSuccess, compliance: imeapi.ComplianceInstalled})
	}
}
