package orchestrate

import (
	"context"
	"errors"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/imepipe/imepipe/fetch"
	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/orchestrate/cmtrace"
	"github.com/imepipe/imepipe/orchestrate/imelog"
)

// logEntries parses the agent's IntuneManagementExtension.log.
func logEntries(t *testing.T, a *Agent) []cmtrace.Entry {
	t.Helper()
	data, err := os.ReadFile(a.LogPath())
	must(t, err)
	entries, err := cmtrace.Parse(strings.NewReader(string(data)))
	must(t, err)
	return entries
}

// phraseLines are the log's records of phrase p.
func phraseLines(t *testing.T, a *Agent, p imelog.Phrase) []cmtrace.Entry {
	t.Helper()
	var out []cmtrace.Entry
	for _, e := range logEntries(t, a) {
		if q, ok := imelog.Match(e.Message); ok && q.ID == p.ID {
			out = append(out, e)
		}
	}
	return out
}

// syncOnce runs one sync of a and returns its error.
func syncOnce(a *Agent) error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	return a.Sync(ctx)
}

// A sync whose enrollment or policy request fails leaves one type-3
// "Failed to get policies" line, on the poller's thread, saying why in a
// sentence (not net/http's chain); the error is a *ServiceError with that
// text that still unwraps to what imeapi returned.
func TestSyncFailureIsLogged(t *testing.T) {
	cases := []struct {
		name    string
		prepare func(h *harness) Config // the agent's Config, on a root of its own
		problem ServiceProblem
		text    string // regexp of the error's whole text; URL is the service's
		below   func(error) bool
	}{
		{"service down", func(h *harness) Config {
			h.http.Close()
			return h.cfg
		}, ServiceUnreachable, `^service URL not reachable \(connection refused\)$`, func(err error) bool {
			var ue *url.Error
			return errors.As(err, &ue)
		}},
		{"wrong enrollment secret", func(h *harness) Config {
			cfg := h.cfg
			cfg.EnrollmentSecret = "not-the-secret"
			return cfg
		}, ServiceSecretRejected, `^enrollment secret rejected by URL$`, func(err error) bool {
			return errors.Is(err, imeapi.ErrUnauthorized)
		}},
		{"http to an https port", func(h *harness) Config {
			tls := httptest.NewTLSServer(h.srv)
			t.Cleanup(tls.Close)
			cfg := h.cfg
			cfg.ServiceURL = "http://" + tls.Listener.Addr().String()
			return cfg
		}, ServiceWantsHTTPS, `^URL speaks HTTPS: use https://127\.0\.0\.1:\d+$`, func(err error) bool {
			return errors.Is(err, imeapi.ErrBadRequest)
		}},
		{"https to an http port", func(h *harness) Config {
			cfg := h.cfg
			cfg.ServiceURL = "https://" + h.http.Listener.Addr().String()
			return cfg
		}, ServiceWantsHTTP, `^URL speaks plain HTTP: use http://127\.0\.0\.1:\d+$`, func(err error) bool {
			var ue *url.Error
			return errors.As(err, &ue)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, []testApp{fileApp("Reach", "required")}, nil)
			cfg := c.prepare(h)
			cfg.Root = filepath.Join(h.dir, "other-root")
			a, err := New(cfg)
			must(t, err)
			defer a.Close()
			err = syncOnce(a)
			var se *ServiceError
			if !errors.As(err, &se) || se.Problem != c.problem || se.Op != "enroll" {
				t.Fatalf("sync: %v (%#v), want a ServiceError of problem %d at enroll", err, se, c.problem)
			}
			want := strings.ReplaceAll(c.text, "URL", regexp.QuoteMeta(cfg.ServiceURL))
			if !regexp.MustCompile(want).MatchString(err.Error()) {
				t.Errorf("error %q, want %s", err, want)
			}
			if !c.below(err) {
				t.Errorf("error %q does not unwrap to what imeapi returned", err)
			}
			lines := phraseLines(t, a, imelog.PoliciesFailed)
			if len(lines) != 1 || lines[0].Type != cmtrace.Error || lines[0].Message != "[Win32App] Failed to get policies: "+err.Error() {
				t.Fatalf("Failed to get policies lines %+v, want one of type 3 with %q", lines, err)
			}
			if banner := phraseLines(t, a, imelog.PollerStart); len(banner) != 1 || banner[0].Thread != lines[0].Thread {
				t.Errorf("the failure is not on the poller's thread: %+v, poller %+v", lines[0], banner)
			}
			for _, e := range logEntries(t, a) {
				if strings.Contains(e.Message, "orchestrate:") || strings.Contains(e.Message, `Post "`) {
					t.Errorf("log line %q carries a Go error chain", e.Message)
				}
			}
		})
	}
}

// An agent enrolled earlier whose policy request cannot reach the
// service logs it the same way, as a policy request.
func TestSyncFailureAfterEnrollment(t *testing.T) {
	h := newHarness(t, []testApp{fileApp("Later", "required")}, nil)
	h.sync()
	h.http.Close()
	err := syncOnce(h.agent)
	var se *ServiceError
	if !errors.As(err, &se) || se.Problem != ServiceUnreachable || se.Op != "policies" {
		t.Fatalf("sync: %v, want an unreachable service at the policy request", err)
	}
	if lines := phraseLines(t, h.agent, imelog.PoliciesFailed); len(lines) != 1 || lines[0].Type != cmtrace.Error {
		t.Fatalf("Failed to get policies lines %+v", lines)
	}
}

// A failed sync is recorded as the last attempt, apart from the last
// success: status keeps the success's time, and health judges by the
// attempt, saying both.
func TestSyncAttemptRecordedApart(t *testing.T) {
	h := newHarness(t, []testApp{fileApp("Apart", "required")}, nil)
	h.sync()
	ok := h.clock.Now()
	h.clock.Advance(time.Minute)
	h.http.Close()
	if err := syncOnce(h.agent); err == nil {
		t.Fatal("sync with the service down succeeded")
	}
	failed := h.clock.Now()
	st, err := h.agent.Status(context.Background())
	must(t, err)
	if !st.Times[TimeLastAppSync].Equal(ok) || !st.Times[TimeLastSyncAttempt].Equal(failed) {
		t.Fatalf("times %v: want the success at %s and the attempt at %s", st.Times, ok, failed)
	}
	want := "service " + h.cfg.ServiceURL + " not reachable (connection refused)"
	if st.LastResult != want || st.LastKind != SyncApp {
		t.Fatalf("last result %q (%s), want %q", st.LastResult, st.LastKind, want)
	}
	hl, err := h.agent.Health(context.Background())
	must(t, err)
	c := check(t, hl, "last sync")
	if c.OK || !strings.Contains(c.Detail, "last attempt 0s ago ("+failed.Format(time.RFC3339)+") failed: "+want) ||
		!strings.Contains(c.Detail, "last success 1m0s ago ("+ok.Format(time.RFC3339)+")") {
		t.Fatalf("last sync check %+v", c)
	}
	if !hl.Enrolled || hl.Healthy {
		t.Fatalf("health %+v", hl)
	}
}

// check is h's check of that name.
func check(t *testing.T, h Health, name string) Check {
	t.Helper()
	for _, c := range h.Checks {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no check %q in %+v", name, h.Checks)
	return Check{}
}

// A sync stopped by its context (Ctrl-C of agent --once) is no failure
// of the agent's: one type-2 line with the cause, no error line of the
// sync's own, the attempt recorded as interrupted.
func TestSyncInterruptedIsAWarning(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	stop := errors.New("interrupt signal received")
	h := newHarness(t, []testApp{fileApp("Stopped", "required")}, func(c *Config) {
		c.Progress = func(string, *fetch.Job) func() {
			cancel(stop) // the download has started
			return func() {}
		}
	})
	err := h.agent.Sync(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("sync: %v, want context.Canceled", err)
	}
	lines := phraseLines(t, h.agent, imelog.SyncInterrupted)
	if len(lines) != 1 || lines[0].Type != cmtrace.Warning || !strings.Contains(lines[0].Message, "(interrupt signal received)") {
		t.Fatalf("interrupted lines %+v, want one warning with the cause", lines)
	}
	for _, p := range []imelog.Phrase{imelog.SyncFailed, imelog.PoliciesFailed} {
		if l := phraseLines(t, h.agent, p); len(l) != 0 {
			t.Errorf("an interrupted sync logged %s: %+v", p.ID, l)
		}
	}
	st, err := h.agent.Status(context.Background())
	must(t, err)
	if st.LastResult != ResultInterrupted {
		t.Errorf("last result %q, want %q", st.LastResult, ResultInterrupted)
	}
	if _, ok := st.Times[TimeLastAppSync]; ok {
		t.Errorf("an interrupted sync is recorded as a success: %v", st.Times)
	}
	// The stopped download is no failed attempt: nothing counted, no
	// error recorded; its pause is a warning saying it resumes.
	for _, a := range st.Apps {
		if a.Attempts != 0 || a.ErrorCode != 0 || a.EnforcementState == imeapi.EnforcementError {
			t.Errorf("app %s after a stop: %d attempts, code %#x, enforcement %v; want none recorded", a.AppID, a.Attempts, a.ErrorCode, a.EnforcementState)
		}
	}
	if l := phraseLines(t, h.agent, imelog.DownloadPaused); len(l) != 1 || l[0].Type != cmtrace.Warning {
		t.Errorf("paused lines %+v, want one warning", l)
	}
}
