package service

import (
	"maps"
	"slices"
	"strings"

	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/service/filter"
)

// viewer is what assignment targeting looks at: the device's groups and
// the properties it reported, and the assignment filters by folded id.
type viewer struct {
	groups  []string
	props   map[string]string
	filters map[string]*filter.Filter
}

// intentFor resolves an app's assignments for a device, as Intune does:
// an exclusion group that matches wins outright; an assignment whose
// include filter the device does not match, or whose exclude filter it
// matches, does not apply; otherwise the strongest matching intent wins,
// required > uninstall > available. It returns the IME intent and the
// winning assignment's settings. A filter id not in filters never
// matches (the catalog refuses such apps at load).
func intentFor(a *imeapi.Win32LobApp, v viewer) (imeapi.Intent, *imeapi.AssignmentSettings) {
	rank := map[imeapi.Intent]int{imeapi.IntentNotTargeted: 0, imeapi.IntentAvailable: 1, imeapi.IntentUninstall: 2, imeapi.IntentRequired: 3}
	best, settings := imeapi.IntentNotTargeted, (*imeapi.AssignmentSettings)(nil)
	for i := range a.Assignments {
		as := &a.Assignments[i]
		t := as.Target
		matches := false
		switch t.ODataType {
		case imeapi.TypeAllDevices, imeapi.TypeAllUsers:
			matches = true
		case imeapi.TypeGroup:
			matches = slices.Contains(v.groups, t.GroupID)
		case imeapi.TypeExclusionGroup:
			if slices.Contains(v.groups, t.GroupID) {
				return imeapi.IntentNotTargeted, nil
			}
		}
		if !matches || !v.passes(t) {
			continue
		}
		intent := imeIntent(as.Intent)
		if rank[intent] > rank[best] {
			best, settings = intent, as.Settings
		}
	}
	return best, settings
}

// passes reports whether the device passes the target's assignment filter.
func (v viewer) passes(t imeapi.AssignmentTarget) bool {
	include := strings.EqualFold(t.FilterType, "include")
	if !include && !strings.EqualFold(t.FilterType, "exclude") {
		return true
	}
	f := v.filters[strings.ToLower(t.FilterID)]
	if f == nil || f.Rule == nil {
		return false
	}
	return f.Rule.Eval(v.props) == include
}

// imeIntent maps a Graph intent to the IME's number.
func imeIntent(graph string) imeapi.Intent {
	switch graph {
	case "required":
		return imeapi.IntentRequired
	case "uninstall":
		return imeapi.IntentUninstall
	case "available", "availableWithoutEnrollment":
		return imeapi.IntentAvailable
	}
	return imeapi.IntentNotTargeted
}

// viewerOf is d as targeting sees it now.
func (s *Server) viewerOf(d *device) viewer {
	return viewer{groups: d.Groups, props: s.propsOf(d), filters: s.cat.filters}
}

// intentOf resolves a's assignments for d. A loop over the catalog
// takes viewerOf(d) once and calls intentFor.
func (s *Server) intentOf(a *app, d *device) (imeapi.Intent, *imeapi.AssignmentSettings) {
	return intentFor(&a.graph, s.viewerOf(d))
}

// propsOf returns the device properties d last reported: at its last
// sync (d.Sync, as the store has it), else at enrollment; deviceName
// defaults to the enrolled name.
func (s *Server) propsOf(d *device) map[string]string {
	p := d.Properties
	if d.Sync.Props != nil {
		p = d.Sync.Props
	}
	if _, ok := p["deviceName"]; ok {
		return p
	}
	m := maps.Clone(p)
	if m == nil {
		m = map[string]string{}
	}
	m["deviceName"] = d.Name
	return m
}
