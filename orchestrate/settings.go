package orchestrate

import (
	"fmt"
	"strings"

	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/orchestrate/state"
)

// The app's and its assignment's settings that concern the user rather
// than the install: notifications, restart coordination and whether an
// available app may be uninstalled on request. The agent shows no toasts
// and never restarts the device: it records these in state.db (with the
// policy), logs them when it runs an installer, and records the restart
// an install asks for as RebootPending.

// withSettings is pol with the policy's notification and restart settings.
func withSettings(pol state.Policy, p imeapi.Policy, app imeapi.Win32LobApp) state.Policy {
	pol.Notifications = p.Notifications
	if pol.Notifications == "" {
		pol.Notifications = "showAll" // Intune's default for an assignment
	}
	pol.DeviceRestartBehavior = restartBehavior(app)
	pol.RestartSettings = p.RestartSettings
	pol.AllowAvailableUninstall = app.AllowAvailableUninstall
	return pol
}

// restartSummary describes the restart settings for the log.
func restartSummary(p imeapi.Policy, app imeapi.Win32LobApp) string {
	notif := p.Notifications
	if notif == "" {
		notif = "showAll"
	}
	s := fmt.Sprintf("device restart behavior %s, notifications %s", restartBehavior(app), notif)
	if rs := p.RestartSettings; rs != nil {
		s += fmt.Sprintf(", restart grace period %d min, countdown %d min", rs.GracePeriodInMinutes, rs.CountdownDisplayBeforeRestartInMinutes)
		if rs.RestartNotificationSnoozeDurationInMinutes != nil {
			s += fmt.Sprintf(", snooze %d min", *rs.RestartNotificationSnoozeDurationInMinutes)
		}
	}
	return s
}

// userUninstall refuses an on-demand uninstall of an available app whose
// allowAvailableUninstall is false (the Company Portal offers none).
func userUninstall(p imeapi.Policy) error {
	if p.Intent != imeapi.IntentAvailable {
		return nil
	}
	app, err := p.Win32LobApp()
	if err != nil || app.AllowAvailableUninstall == nil || *app.AllowAvailableUninstall {
		return nil // an undecodable policy is refused by processApp
	}
	return fmt.Errorf("orchestrate: %s is available without uninstall (allowAvailableUninstall false): %w", p.AppID, ErrRequiredApp)
}

// forcedRestart is the restart deviceRestartBehavior force asks for after
// a successful run, whatever the exit code: "force"; else "".
func forcedRestart(app imeapi.Win32LobApp) string {
	if strings.EqualFold(restartBehavior(app), "force") {
		return "force"
	}
	return ""
}
