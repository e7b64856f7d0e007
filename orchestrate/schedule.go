package orchestrate

import (
	"time"

	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/orchestrate/imelog"
)

// scheduled applies a required policy's installTimeSettings: before its
// start (availability) the app is not attempted; after it but before its
// deadline it is available, not enforced; from the deadline (or the
// start when there is no deadline) it is enforced. Times are read in
// Config.Location with useLocalTime, else as written (UTC). It returns
// whether the app may be enforced now; when not, it has logged why.
func (a *Agent) scheduled(t *tracer, p imeapi.Policy) bool {
	if p.InstallTimeSettings == nil || p.Intent != imeapi.IntentRequired {
		return true
	}
	s, err := p.InstallTimeSettings.Schedule(a.cfg.Location)
	if err != nil {
		t.log(imelog.ScheduleInvalid, p.AppID, err)
		return true
	}
	now := a.cfg.Clock.Now()
	zone := "UTC"
	if p.InstallTimeSettings.UseLocalTime {
		zone = "device local time"
	}
	if !s.Start.IsZero() && now.Before(s.Start) {
		t.log(imelog.ScheduleNotStarted, p.AppID, s.Start.Format(time.RFC3339), zone, now.In(s.Start.Location()).Format(time.RFC3339))
		return false
	}
	if !s.Deadline.IsZero() && now.Before(s.Deadline) {
		t.log(imelog.ScheduleBeforeDue, p.AppID, s.Deadline.Format(time.RFC3339), zone, now.In(s.Deadline.Location()).Format(time.RFC3339))
		return false
	}
	if !s.Deadline.IsZero() {
		t.log(imelog.ScheduleDeadline, p.AppID, s.Deadline.Format(time.RFC3339), zone)
	} else if !s.Start.IsZero() {
		t.log(imelog.ScheduleStarted, p.AppID, s.Start.Format(time.RFC3339), zone)
	}
	return true
}
