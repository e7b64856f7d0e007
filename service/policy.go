package service

import "github.com/imepipe/imepipe/imeapi"
import "slices"

// intentFor resolves an app's assignments for a device in groups, as
// Intune does: an exclusion group that matches wins outright; otherwise
// the strongest matching intent, required > uninstall > available. It
// returns the IME intent and the winning assignment's settings.
func intentFor(a *imeapi.Win32LobApp, groups []string) (imeapi.Intent, *imeapi.AssignmentSettings) {
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
			matches = slices.Contains(groups, t.GroupID)
		case imeapi.TypeExclusionGroup:
			if slices.Contains(groups, t.GroupID) {
				return imeapi.IntentNotTargeted, nil
			}
		}
		if !matches {
			continue
		}
		intent := imeIntent(as.Intent)
		if rank[intent] > rank[best] {
			best, settings = intent, as.Settings
		}
	}
	return best, settings
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
