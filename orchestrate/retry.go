package orchestrate

import (
	"time"

	"github.com/imepipe/imepipe/orchestrate/imelog"
	"github.com/imepipe/imepipe/orchestrate/state"
)

// due says whether an app may be attempted now: not in its GRS window,
// and at least RetryInterval after its last failed attempt. A GRS window
// that has passed is cleared with the attempt count.
func (a *Agent) due(t *tracer, user, key, appID string) bool {
	hash := subgraphHash(appID)
	st, err := a.store.App(user, key)
	if err != nil || st.GRS.IsZero() {
		t.log(imelog.GRSNone, appID, hash)
	}
	if err != nil {
		return true // nothing recorded yet
	}
	now := a.cfg.Clock.Now()
	if !st.GRS.IsZero() {
		until := st.GRS.Add(a.cfg.GRSWindow)
		t.log(imelog.GRSFound, st.GRS.UTC().Format(grsTime), user, hash, appID)
		if now.Before(until) {
			t.log(imelog.GRSNotExpired, appID, hash)
			t.log(imelog.GRSWaiting, appID, st.GRS.Format(time.RFC3339), st.Attempts.Count, until.Format(time.RFC3339))
			return false
		}
		t.log(imelog.GRSExpired, appID, hash)
		_ = a.store.ClearGRS(user, appID)
		_ = a.store.PutAttempts(user, key, state.Attempts{})
		return true
	}
	if st.Attempts.Count > 0 {
		next := st.Attempts.Last.Add(a.cfg.RetryInterval)
		if now.Before(next) {
			t.log(imelog.RetryNotYet, appID, st.Attempts.Count, a.cfg.MaxAttempts, next.Format(time.RFC3339))
			return false
		}
	}
	return true
}

// recordAttempt counts a failed attempt (entering GRS after MaxAttempts)
// or clears the count after a success.
func (a *Agent) recordAttempt(t *tracer, user, key, appID string, r result) {
	st, _ := a.store.App(user, key)
	if !r.failed {
		if st.Attempts.Count > 0 {
			_ = a.store.PutAttempts(user, key, state.Attempts{Runs: st.Attempts.Runs})
		}
		return
	}
	if r.attempt > 0 && st.Attempts.Count >= r.attempt {
		t.log(imelog.AttemptCounted, r.attempt, appID)
		return
	}
	now := a.cfg.Clock.Now()
	att := state.Attempts{Count: st.Attempts.Count + 1, Runs: st.Attempts.Runs, Last: now, LastError: r.message}
	_ = a.store.PutAttempts(user, key, att)
	if att.Count >= a.cfg.MaxAttempts {
		t.log(imelog.EnteringGRS, appID, att.Count, a.cfg.MaxAttempts, now.Add(a.cfg.GRSWindow).Format(time.RFC3339))
		_ = a.store.SetGRS(user, appID, now)
		return
	}
	t.log(imelog.AttemptFailed, appID, att.Count, a.cfg.MaxAttempts, now.Add(a.cfg.RetryInterval).Format(time.RFC3339))
}
