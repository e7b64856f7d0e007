//go:build !windows

package orchestrate

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/imepipe/imepipe/fetch"
	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/orchestrate/cmtrace"
	"github.com/imepipe/imepipe/orchestrate/imelog"
)

// TestPrefetchKeepsEachAppOnItsThread: two required apps with the default
// look-ahead. Big's installer is held at its gate until DesktopInfo's
// content has been downloaded and unpacked, so DesktopInfo's preparation
// is logged while Big installs. Read thread by thread, as the log
// analyzers read it, each app's story is unbroken (threadStories).
func TestPrefetchKeepsEachAppOnItsThread(t *testing.T) {
	gates := t.TempDir()
	big, desk := gatedApp(t, "Big", gates), fileApp("DesktopInfo", "required")
	// Each installer returns a code of its own, so an lpExitCode line
	// names its app.
	big = big.script("install.sh", big.files["install.sh"]+` && echo 1707 > "$`+EnvExitCodeFile+`"`)
	h := prepareWhileBigInstalls(t, gates, []testApp{big, desk}, desk, nil)
	h.wantState(big.id(), imeapi.EnforcementSuccess, imeapi.ComplianceInstalled, 0)
	h.wantState(desk.id(), imeapi.EnforcementSuccess, imeapi.ComplianceInstalled, 0)
	threadStories(t, h, []storyApp{{big, 1707, true}, {desk, 0, true}}, desk)
}

// TestPrefetchedFailureKeepsItsThread: as TestPrefetchKeepsEachAppOnItsThread,
// with an app between the two whose download fails while Big installs:
// its flow ends during its preparation, and its result is recorded in
// its turn on the poller's thread, in a subgraph of its own.
func TestPrefetchedFailureKeepsItsThread(t *testing.T) {
	gates := t.TempDir()
	big, broken, desk := gatedApp(t, "Big", gates), fileApp("Broken", "required"), fileApp("DesktopInfo", "required")
	big = big.script("install.sh", big.files["install.sh"]+` && echo 1707 > "$`+EnvExitCodeFile+`"`)
	h := prepareWhileBigInstalls(t, gates, []testApp{big, broken, desk}, desk, func(h *harness) {
		next := h.http.Config.Handler
		h.http.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.URL.Path, "/blobs/"+broken.id()) {
				http.Error(w, "no such blob", http.StatusNotFound)
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	h.wantState(big.id(), imeapi.EnforcementSuccess, imeapi.ComplianceInstalled, 0)
	h.wantState(broken.id(), imeapi.EnforcementError, imeapi.ComplianceError, CodeFailure)
	h.wantState(desk.id(), imeapi.EnforcementSuccess, imeapi.ComplianceInstalled, 0)
	threadStories(t, h, []storyApp{{big, 1707, true}, {broken, 0, false}, {desk, 0, true}}, desk)
}

// prepareWhileBigInstalls syncs apps (the first of them Big, a gatedApp
// with its gates in gates) with the default look-ahead, Big's installer
// held at its gate until desk's content is ready, so that desk is
// prepared while Big installs; then lets Big go and waits for the sync.
// setup, if set, changes the harness before the sync.
func prepareWhileBigInstalls(t *testing.T, gates string, apps []testApp, desk testApp, setup func(*harness)) *harness {
	t.Helper()
	ready := make(chan string, 8)
	h := newHarness(t, apps, func(c *Config) {
		c.Progress = func(key string, _ *fetch.Job) func() { return func() { ready <- key } }
	})
	if setup != nil {
		setup(h)
	}
	wait := syncing(t, h, context.Background())
	started(t, gates, "Big")
	waitReady(t, h, ready, desk.id()+"_1") // prepared while Big installs
	release(t, gates, "Big")
	must(t, wait())
	return h
}

// storyApp is an app of a threadStories check: the exit code its
// installer returns, if it runs.
type storyApp struct {
	app      testApp
	code     int64
	installs bool
}

// threadStories reads h's IntuneManagementExtension.log as CMTrace and
// checks it thread by thread: on every thread each app's lines (those
// naming it) are one unbroken run; subgraphs open and end one at a time;
// each app has one subgraph, on the poller's thread; and every
// lpExitCode is on the poller's thread, in its app's subgraph, with that
// app's "Processing app" the last one before it there. ahead is an app
// prepared while the first one installed: its download must be logged
// before the first app's exit code, or the scenario tested nothing.
func threadStories(t *testing.T, h *harness, apps []storyApp, ahead testApp) {
	t.Helper()
	data, err := os.ReadFile(h.agent.LogPath())
	must(t, err)
	entries, err := cmtrace.Parse(strings.NewReader(string(data)))
	must(t, err)
	names := map[string]string{}
	for _, a := range apps {
		names[a.app.id()] = a.app.name
	}
	var b strings.Builder // the log as a failure shows it
	for i, e := range entries {
		fmt.Fprintf(&b, "%3d T%d %-11s %s\n", i, e.Thread, names[appOf(e.Message, names)], firstLine(e.Message))
	}
	defer func() {
		if t.Failed() {
			t.Logf("the log (record, thread, the app it names, its first line):\n%s", b.String())
		}
	}()

	poller := -1
	for _, e := range entries {
		if p, _ := imelog.Match(e.Message); p.ID == imelog.PollerStart.ID {
			poller = e.Thread
		}
	}
	if poller < 0 {
		t.Fatal("no application poller in the log")
	}
	downloaded, exited := -1, -1
	for i, e := range entries {
		switch p, _ := imelog.Match(e.Message); {
		case p.ID == imelog.DownloadingApp.ID && appOf(e.Message, names) == ahead.id():
			downloaded = i
		case p.ID == imelog.LpExitCode.ID && exited < 0:
			exited = i
		}
	}
	if downloaded < 0 || exited < 0 || downloaded > exited {
		t.Fatalf("%s's download (record %d) is not logged while the first app installs (its exit code: record %d)", ahead.name, downloaded, exited)
	}

	open := map[int]string{}    // thread → the app of its open subgraph
	current := map[int]string{} // thread → the app of its last "Processing app"
	last := map[int]string{}    // thread → the app its last line naming one named
	ended := map[int]map[string]bool{}
	subgraphs, exits := map[string]int{}, map[string]int{}
	for i, e := range entries {
		p, _ := imelog.Match(e.Message)
		id := appOf(e.Message, names)
		if id != "" && id != last[e.Thread] {
			if ended[e.Thread] == nil {
				ended[e.Thread] = map[string]bool{}
			}
			ended[e.Thread][last[e.Thread]] = true
			if ended[e.Thread][id] {
				t.Errorf("record %d: %s's lines on thread %d resume after another app's", i, names[id], e.Thread)
			}
			last[e.Thread] = id
		}
		switch p.ID {
		case imelog.SubgraphStart.ID:
			if open[e.Thread] != "" {
				t.Errorf("record %d: %s's subgraph opens on thread %d inside %s's", i, names[id], e.Thread, names[open[e.Thread]])
			}
			if e.Thread != poller {
				t.Errorf("record %d: %s's subgraph opens on thread %d, not the poller's (%d)", i, names[id], e.Thread, poller)
			}
			open[e.Thread] = id
			subgraphs[id]++
		case imelog.SubgraphDone.ID, imelog.SubgraphNotApplicable.ID:
			if open[e.Thread] == "" {
				t.Errorf("record %d: a subgraph ends on thread %d where none is open", i, e.Thread)
			}
			delete(open, e.Thread)
		case imelog.ProcessingApp.ID:
			current[e.Thread] = id
		case imelog.LpExitCode.ID:
			code, err := strconv.ParseInt(strings.TrimPrefix(e.Message, "[Win32App] lpExitCode "), 10, 64)
			must(t, err)
			of := ""
			for _, a := range apps {
				if a.installs && a.code == code {
					of = a.app.id()
				}
			}
			exits[of]++
			if current[e.Thread] != of {
				t.Errorf("record %d: %s's exit code %d follows %s's \"Processing app\" on thread %d", i, names[of], code, names[current[e.Thread]], e.Thread)
			}
			if e.Thread != poller {
				t.Errorf("record %d: %s's exit code is on thread %d, not the poller's (%d)", i, names[of], e.Thread, poller)
			}
			if open[e.Thread] != of {
				t.Errorf("record %d: %s's exit code is in the subgraph of %q", i, names[of], names[open[e.Thread]])
			}
		}
	}
	for th, id := range open {
		t.Errorf("%s's subgraph on thread %d never ends", names[id], th)
	}
	for _, a := range apps {
		want := 0
		if a.installs {
			want = 1
		}
		if id := a.app.id(); subgraphs[id] != 1 || exits[id] != want {
			t.Errorf("%s: %d subgraphs and %d exit codes in the log, want 1 and %d", a.app.name, subgraphs[id], exits[id], want)
		}
	}
}

// appOf is the app of names (by id) that msg names, "" when it names none
// or several (the policies: a poller's line).
func appOf(msg string, names map[string]string) string {
	found := ""
	for id := range names {
		if strings.Contains(msg, id) {
			if found != "" {
				return ""
			}
			found = id
		}
	}
	return found
}

// firstLine is msg up to its first line break, at most 110 bytes.
func firstLine(msg string) string {
	msg, _, _ = strings.Cut(msg, "\n")
	if len(msg) > 110 {
		msg = msg[:110] + "…"
	}
	return msg
}
