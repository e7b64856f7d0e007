package imeapi

import (
	"fmt"
	"strings"
	"time"
)

// Schedule is when a required assignment applies, from its
// installTimeSettings: Start is when the app becomes available (Intune's
// "App availability"; before it the agent does not attempt the app) and
// Deadline when it is enforced ("Installation deadline"; between the two
// the app is available, not enforced). A zero time is unset; with neither
// set the app is enforced at once.
type Schedule struct {
	Start, Deadline time.Time
}

// graphTimeLayouts are the DateTimeOffset forms Graph writes and admins type.
var graphTimeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"}

// ParseGraphTime parses a Graph DateTimeOffset. With useLocalTime the
// wall clock it names is taken in loc (the device's zone), whatever
// offset it carries, as Intune does for "device time zone"; otherwise the
// offset holds (none: UTC).
func ParseGraphTime(s string, useLocalTime bool, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range graphTimeLayouts {
		t, err := time.Parse(layout, s)
		if err != nil {
			continue
		}
		if useLocalTime {
			if loc == nil {
				loc = time.Local
			}
			y, mo, d := t.Date()
			h, mi, sec := t.Clock()
			return time.Date(y, mo, d, h, mi, sec, t.Nanosecond(), loc), nil
		}
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%w: %q is not a date and time (want RFC 3339, 2030-01-31T08:00:00Z)", ErrInvalid, s)
}

// Schedule returns the times of s in loc (see ParseGraphTime); a nil s
// is the zero Schedule.
func (s *InstallTimeSettings) Schedule(loc *time.Location) (Schedule, error) {
	var out Schedule
	if s == nil {
		return out, nil
	}
	for _, f := range []struct {
		name string
		v    *string
		t    *time.Time
	}{{"startDateTime", s.StartDateTime, &out.Start}, {"deadlineDateTime", s.DeadlineDateTime, &out.Deadline}} {
		if f.v == nil || strings.TrimSpace(*f.v) == "" {
			continue
		}
		t, err := ParseGraphTime(*f.v, s.UseLocalTime, loc)
		if err != nil {
			return out, &FieldError{Field: "installTimeSettings." + f.name, Err: err}
		}
		*f.t = t
	}
	return out, nil
}
