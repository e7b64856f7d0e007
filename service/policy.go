package service

import "slices"

// intentFor resolves an app's assignments for a device in groups, as
// Intune does: an exclusion group that matches wins outright; otherwise
// the strongest matching intent, required > uninstall > available. It
// returns the IME intent and the winning assignment's settings.
func intentFor(a *Win32LobApp, groups []string) (int, *AssignmentSettings) {
	rank := map[int]int{IntentNotTargeted: 0, IntentAvailable: 1, IntentUninstall: 2, IntentRequired: 3}
	best, settings := IntentNotTargeted, (*AssignmentSettings)(nil)
	for i := range a.Assignments {
		as := &a.Assignments[i]
		t := as.Target
		matches := false
		switch t.ODataType {
		case TypeAllDevices, TypeAllUsers:
			matches = true
		case TypeGroup:
			matches = slices.Contains(groups, t.GroupID)
		case TypeExclusionGroup:
			if slices.Contains(groups, t.GroupID) {
				return IntentNotTargeted, nil
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
func imeIntent(graph string) int {
	switch graph {
	case "required":
		return IntentRequired
	case "uninstall":
		return IntentUninstall
	case "available", "availableWithoutEnrollment":
		return IntentAvailable
	}
	return IntentNotTargeted
}
