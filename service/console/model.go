package console

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/imepipe/imepipe/imeapi"
)

// state is how the console groups an app's last report on one device.
type state int

const (
	statePending       state = iota // assigned, no final report yet (none, in progress, not attempted)
	stateInstalled                  // Success and Installed
	stateFailed                     // Error
	stateNotApplicable              // RequirementsNotMet
	stateNotInstalled               // Success without the app (an uninstall done)
)

var stateNames = [...]string{"Pending", "Installed", "Failed", "Not applicable", "Not installed"}

func (s state) String() string { return stateNames[s] }

// param is the state's spelling in a URL (?state=failed).
func (s state) param() string { return strings.ReplaceAll(strings.ToLower(stateNames[s]), " ", "-") }

func stateOf(as imeapi.AppStatus) state {
	r := as.Report
	if r == nil {
		return statePending
	}
	switch r.EnforcementState {
	case imeapi.EnforcementSuccess:
		if r.ComplianceState == imeapi.ComplianceInstalled {
			return stateInstalled
		}
		return stateNotInstalled
	case imeapi.EnforcementError:
		return stateFailed
	case imeapi.EnforcementRequirementsNotMet:
		return stateNotApplicable
	}
	return statePending
}

// inGRS reports whether the report puts the app in its GRS window at now.
func inGRS(r *imeapi.Report, now time.Time) bool {
	return r != nil && r.GRSUntil != nil && now.Before(*r.GRSUntil)
}

// errRow is one error code of an app and how many devices report it.
type errRow struct {
	Hex, Meaning string
	Devices      int
}

// appRow is one app's line on the apps page.
type appRow struct {
	App
	Counts [len(stateNames)]int // by state
	InGRS  int
	Errors []errRow
}

// deviceRow is one app on one device.
type deviceRow struct {
	DeviceID, DeviceName string
	// ShortID tells the device from others of the same name (a
	// re-imaged PC enrolled again): the shortest start of its id, at
	// least shortIDLen characters, that no other of that name shares;
	// shown with EnrolledAt. "" for a name no other device has.
	ShortID              string
	EnrolledAt           time.Time
	AppID, AppName       string
	State                string
	StateParam           string
	Enforcement          string // the IME's EnforcementState name; "" before a report
	Hex, Meaning         string
	Message              string
	LastSync, LastReport *time.Time
	Attempts             int
	GRSUntil             *time.Time
	InGRS                bool
}

// meaning is what code means: imeapi's text, else the agent's own message.
func meaning(code int64, msg string) string {
	if m := imeapi.CodeMeaning(code); m != "" {
		return m
	}
	return msg
}

// appRows tallies the fleet per served app, in display-name order.
func appRows(apps []App, fleet imeapi.Status, now time.Time) []appRow {
	rows := make([]appRow, len(apps))
	idx := map[string]int{}
	for i, a := range apps {
		rows[i].App = a
		idx[strings.ToLower(a.ID)] = i
	}
	codes := make([]map[int64]*errRow, len(apps))
	for _, d := range fleet.Devices {
		for _, as := range d.Apps {
			i, ok := idx[strings.ToLower(as.AppID)]
			if !ok || (as.Intent == imeapi.IntentNotTargeted && as.Report == nil) {
				continue
			}
			st := stateOf(as)
			rows[i].Counts[st]++
			if inGRS(as.Report, now) {
				rows[i].InGRS++
			}
			if st != stateFailed || as.Report.ErrorCode == 0 {
				continue
			}
			if codes[i] == nil {
				codes[i] = map[int64]*errRow{}
			}
			c := as.Report.ErrorCode
			if codes[i][c] == nil {
				codes[i][c] = &errRow{Hex: imeapi.CodeHex(c), Meaning: meaning(c, as.Report.ErrorMessage)}
			}
			codes[i][c].Devices++
		}
	}
	for i := range rows {
		for _, e := range codes[i] {
			rows[i].Errors = append(rows[i].Errors, *e)
		}
		slices.SortFunc(rows[i].Errors, func(a, b errRow) int { return cmp.Or(b.Devices-a.Devices, cmp.Compare(a.Hex, b.Hex)) })
	}
	slices.SortStableFunc(rows, func(a, b appRow) int { return cmp.Compare(a.DisplayName, b.DisplayName) })
	return rows
}

// filter selects device rows; empty fields select everything.
type filter struct {
	DeviceID, AppID, State string
}

// deviceRows lists every app on every device that the filter selects, by
// device name (case-insensitively, as Windows compares them), then
// enrollment, then app name. A device whose name another device of the
// fleet has too, listed or not, gets a ShortID.
func deviceRows(apps []App, fleet imeapi.Status, f filter, now time.Time) []deviceRow {
	names := map[string]string{}
	for _, a := range apps {
		names[strings.ToLower(a.ID)] = a.DisplayName
	}
	short := shortIDs(fleet.Devices)
	var out []deviceRow
	for _, d := range fleet.Devices {
		if f.DeviceID != "" && d.DeviceID != f.DeviceID {
			continue
		}
		for _, as := range d.Apps {
			if as.Intent == imeapi.IntentNotTargeted && as.Report == nil {
				continue
			}
			if f.AppID != "" && !strings.EqualFold(as.AppID, f.AppID) {
				continue
			}
			st := stateOf(as)
			if f.State != "" && f.State != st.param() && !(f.State == "grs" && inGRS(as.Report, now)) {
				continue
			}
			row := deviceRow{DeviceID: d.DeviceID, DeviceName: d.DeviceName, ShortID: short[d.DeviceID], EnrolledAt: d.EnrolledAt,
				AppID: as.AppID, AppName: cmp.Or(names[strings.ToLower(as.AppID)], as.DisplayName, as.AppID),
				State: st.String(), StateParam: st.param(), LastSync: d.LastSyncAt, LastReport: as.ReportedAt}
			if r := as.Report; r != nil {
				row.Enforcement = r.EnforcementState.String()
				row.Attempts, row.GRSUntil, row.InGRS = r.Attempts, r.GRSUntil, inGRS(r, now)
				row.Message = r.ErrorMessage
				if r.ErrorCode != 0 {
					row.Hex, row.Meaning = imeapi.CodeHex(r.ErrorCode), imeapi.CodeMeaning(r.ErrorCode)
				}
				if strings.EqualFold(row.Message, row.Meaning) {
					row.Message = "" // the agent's message says no more than the code's meaning
				}
			}
			out = append(out, row)
		}
	}
	slices.SortStableFunc(out, func(a, b deviceRow) int {
		return cmp.Or(cmp.Compare(foldName(a.DeviceName), foldName(b.DeviceName)), a.EnrolledAt.Compare(b.EnrolledAt),
			cmp.Compare(a.DeviceID, b.DeviceID), cmp.Compare(a.AppName, b.AppName))
	})
	return out
}

// shortIDLen is the length of a ShortID at least: a GUID's first group.
const shortIDLen = 8

// foldName is the key under which device names are the same: Windows
// compares computer names without regard to case.
func foldName(name string) string { return strings.ToLower(name) }

// shortIDs gives each device whose name (foldName) another device has too
// the shortest start of its id, at least shortIDLen characters, that no
// other device of that name starts with; devices of a name of their own
// get none.
func shortIDs(devs []imeapi.DeviceStatus) map[string]string {
	byName := map[string][]string{}
	for _, d := range devs {
		k := foldName(d.DeviceName)
		byName[k] = append(byName[k], d.DeviceID)
	}
	out := map[string]string{}
	for _, ids := range byName {
		if len(ids) < 2 {
			continue
		}
		for _, id := range ids {
			n := min(shortIDLen, len(id))
			for n < len(id) && (id[n-1] == '-' || slices.ContainsFunc(ids, func(o string) bool { return o != id && strings.HasPrefix(o, id[:n]) })) {
				n++
			}
			out[id] = id[:n]
		}
	}
	return out
}
