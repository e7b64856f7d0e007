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
// first, then theirs runs whole in its turn. A flow prepared ahead logs
// its preparation on a thread of its own, and the rest of its flow on the
// poller's thread in its turn (prepareAhead). modeOf says how an app is
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
		var s *staged
		if outstanding > 0 {
			s = a.prepareAhead(ctx, p, m) // beside an earlier app's flow
		} else {
			s = a.prepare(ctx, p, m, false, nil) // alone: on the poller's thread
		}
		if s == nil || s.final != nil {
			<-slots // no content staged
		}
		if s == nil {
			continue
		}
		s.slot = s.final == nil
		stages <- s
		outstanding++
	}
}

// prepareAhead is prepare for a flow that overlaps an earlier app's flow
// of the poller (its install, mostly): a prefetch. The IME processes one
// subgraph at a time on its poller's thread, and the analyzers rebuild an
// app's processing from that thread (an exit code is the app's whose
// "Processing app" precedes it there); work that runs meanwhile reports on
// threads of its own, as DO's callbacks do. So the prefetched app's
// preparation (its gates, detection, requirements, content info, download
// and unpack) is logged on a thread of its own, as it happens, and the
// poller's thread keeps the earlier app's story unbroken. In its turn the
// flow moves to the poller's thread (resume): its subgraph opens there
// once the earlier one has ended, and its detection again, install,
// record, report and the subgraph's end follow in order.
//
// Holding the prefetched app's lines back to write them on the poller's
// thread in its turn would give the IME's shape on one thread, but not
// the order things happened in: times would go backwards where the held
// lines are written (CMTrace and the analyzers read a log by line order),
// an agent stopped or killed meanwhile would lose them, and nobody
// reading the log during a long install would see the download beside
// it. On a thread of its own every record stays where and when it
// happened.
//
// The reporting state is loaded as the preparation begins (before the
// flow marks the app in progress) and logged as the subgraph opens. A
// flow that ends with nothing to record (a refused policy, a GRS or
// retry wait, the app already in progress) ends on its own thread: no
// subgraph opens for it on the poller's.
func (a *Agent) prepareAhead(ctx context.Context, p imeapi.Policy, m mode) *staged {
	t := a.tracer()
	if err := checkPolicy(p); err != nil {
		a.refuse(ctx, t, p, err)
		return nil
	}
	rep := t.loadReporting(p)
	s := a.prepareGated(ctx, t, p, m, false, nil)
	if s == nil {
		return nil
	}
	s.overlapped, s.reporting = true, rep
	return s
}

// resume hands a flow prepared ahead over to the poller's thread in its
// turn: its subgraph opens there with the reporting state it was prepared
// with, and the app is named again, so that what follows on that thread
// (detection again, the install, the record and report, the subgraph's
// end) reads as this app's.
func (a *Agent) resume(s *staged) {
	s.t = s.t.on(a.flowTracer().thread)
	s.endSubgraph = s.t.openSubgraph(s.p, s.reporting)
	s.t.log(imelog.ProcessingApp, s.p.AppID, s.app.DisplayName, s.m)
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
