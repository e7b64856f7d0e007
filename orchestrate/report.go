package orchestrate

import (
	"context"
	"encoding/json"

	"github.com/imepipe/imepipe/fetch"
	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/orchestrate/imelog"
	"github.com/imepipe/imepipe/orchestrate/state"
)

// report stores the app's report under Reporting and sends it; one that
// cannot be sent stays pending for the next sync.
func (a *Agent) report(ctx context.Context, t *tracer, user, key string, rep imeapi.Report, do *fetch.Status) {
	if do != nil && do.FileId != "" {
		rep.DOStatus, _ = json.Marshal(do)
	}
	body, _ := json.Marshal(rep)
	rec := state.ReportRecord{Body: body, At: a.cfg.Clock.Now()}
	t.log(imelog.ReportSending, rep.AppID, rep.EnforcementState, rep.ComplianceState, rep.ErrorCode)
	if err := a.client.Report(ctx, rep); err != nil {
		t.log(imelog.ReportNotSent, rep.AppID, err)
	} else {
		rec.Sent, rec.SentAt = true, a.cfg.Clock.Now()
	}
	if err := a.store.PutReport(user, key, rec); err != nil {
		t.log(imelog.ReportFailed, err)
	}
}

// retryState fills the report's Attempts and GRSUntil from what
// recordAttempt stored for the revision.
func (a *Agent) retryState(user, key string, rep *imeapi.Report) {
	st, err := a.store.App(user, key)
	if err != nil {
		return
	}
	rep.Attempts = st.Attempts.Count
	if !st.GRS.IsZero() {
		until := st.GRS.Add(a.cfg.GRSWindow).UTC()
		rep.GRSUntil = &until
	}
}

// flushReports resends reports that could not be sent.
func (a *Agent) flushReports(ctx context.Context, t *tracer) {
	apps, err := a.store.Apps()
	if err != nil || a.client == nil {
		return
	}
	for _, ap := range apps {
		if ap.Report == nil || ap.Report.Sent {
			continue
		}
		var rep imeapi.Report
		if json.Unmarshal(ap.Report.Body, &rep) != nil {
			continue
		}
		if err := a.client.Report(ctx, rep); err != nil {
			t.log(imelog.ReportPendingFailed, rep.AppID, err)
			return
		}
		rec := *ap.Report
		rec.Sent, rec.SentAt = true, a.cfg.Clock.Now()
		_ = a.store.PutReport(ap.User, ap.Key, rec)
		t.log(imelog.ReportPendingSent, rep.AppID)
	}
}
