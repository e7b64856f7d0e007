package orchestrate

import (
	"time"

	"github.com/imepipe/imepipe/orchestrate/state"
)

// due says whether an app may be attempted now: not in its GRS window,
// and at least RetryInterval after its last failed attempt. A GRS window
// that has passed is cleared with the attempt count.
func (a *Agent) due(t *tracer, user, key, appID string) bool {
	st, err := a.store.App(user, key)
	if err != nil {
		return true // nothing recorded yet
	}
	now := a.cfg.Clock.Now()
	if !st.GRS.IsZero() {
		until := st.GRS.Add(a.cfg.GRSWindow)
		if now.Before(until) {
			t.info("[Win32App] App %s is in GRS since %s (after %d failed attempts); next re-evaluation at %s", appID, st.GRS.Format(time.RFC3339), st.Attempts.Count, until.Format(time.RFC3339))
			return false
		}
		t.info("[Win32App] GRS window of app %s expired; attempting again", appID)
		_ = a.store.ClearGRS(user, appID)
		_ = a.store.PutAttempts(user, key, state.Attempts{})
		return true
	}
	if st.Attempts.Count > 0 {
		next := st.Attempts.Last.Add(a.cfg.RetryInterval)
		if now.Before(next) {
			t.info("[Win32App] App %s failed attempt %d of %d; next retry not before %s", appID, st.Attempts.Count, a.cfg.MaxAttempts, next.Format(time.RFC3339))
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
		t.info("[Win32App] Attempt %d of app %s is already counted", r.attempt, appID)
		return
	}
	now := a.cfg.Clock.Now()
	att := state.Attempts{Count: st.Attempts.Count + 1, Runs: st.Attempts.Runs, Last: now, LastError: r.message}
	_ = a.store.PutAttempts(user, key, att)
	if att.Count >= a.cfg.MaxAttempts {
		t.warn("[Win32App] App %s failed %d of %d attempts; entering GRS until %s", appID, att.Count, a.cfg.MaxAttempts, now.Add(a.cfg.GRSWindow).Format(time.RFC3339))
		_ = a.store.SetGRS(user, appID, now)
		return
	}
	t.warn("[Win32App] App %s failed attempt %d of %d; retry after %s", appID, att.Count, a.cfg.MaxAttempts, now.Add(a.cfg.RetryInterval).Format(time.RFC3339))
}
