package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/vbauerster/mpb/v8"

	"github.com/imepipe/imepipe/fetch"
)

// agentBars draws a progress bar per content download (and the unpack
// that overlaps it) of agent --once and install, when stdout is a
// terminal; while bars are up, the agent's log lines are printed above
// them. Elsewhere Hook is nil and Logf writes the plain lines to stderr.
type agentBars struct {
	e *env
	p *mpb.Progress // nil: no bars (not a terminal, or --json)
}

// newAgentBars returns the bars for e; on gives whether to draw any
// (stdout a terminal, no --json).
func newAgentBars(e *env, on bool) *agentBars {
	if !on || !e.tty {
		return &agentBars{e: e}
	}
	return &agentBars{e: e, p: newBars(e.stdout, mpb.WithAutoRefresh())}
}

// Hook is orchestrate.Config.Progress, or nil when no bars are drawn.
func (b *agentBars) Hook() func(string, *fetch.Job) func() {
	if b.p == nil {
		return nil
	}
	return b.start
}

// barTick is how often a bar reads its download's status.
const barTick = 100 * time.Millisecond

// start adds key's bar, fed from job's status until done is called.
func (b *agentBars) start(key string, job *fetch.Job) (done func()) {
	pre, app := barDecorators(barLabel(key))
	bar := b.p.AddBar(0, mpb.BarWidth(barWidth), mpb.PrependDecorators(pre...), mpb.AppendDecorators(app...))
	stop, stopped := make(chan struct{}), make(chan struct{})
	update := func() {
		st := job.Status()
		if st.FileSize > 0 {
			bar.SetTotal(st.FileSize, false)
		}
		bar.SetCurrent(st.FileSizeInCache)
	}
	go func() {
		defer close(stopped)
		t := time.NewTicker(barTick)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				update()
			}
		}
	}()
	return func() {
		close(stop)
		<-stopped
		update()
		bar.SetTotal(-1, true) // what arrived is the total: complete
	}
}

// barLabel shortens an APPID_REV key to fit a bar's line: the id's first
// 8 characters (a GUID's first group) and the revision.
func barLabel(key string) string {
	id, rev, _ := strings.Cut(key, "_")
	if len(id) > 8 {
		id = id[:8] + "…"
	}
	return id + "_" + rev
}

// Logf prints one agent log line: above the bars, or on stderr.
func (b *agentBars) Logf(format string, a ...any) {
	line := safeLine(fmt.Sprintf("imepipe agent: "+format, a...)) + "\n"
	if b.p != nil {
		if _, err := b.p.Write([]byte(line)); err == nil {
			return
		}
	}
	fmt.Fprint(b.e.stderr, line)
}

// Wait ends the bars after the last download (each is complete by then).
func (b *agentBars) Wait() {
	if b.p != nil {
		b.p.Wait()
	}
}
