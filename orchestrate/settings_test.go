package orchestrate

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/imepipe/imepipe/imeapi"
)

// TestRestartSettings: an assignment's notifications and restartSettings
// and the app's deviceRestartBehavior reach the agent, which records them
// in its state with the restart a return code (3010: softReboot) or force
// asks for, and logs them; the device is not restarted.
func TestRestartSettings(t *testing.T) {
	settings := map[string]any{
		"@odata.type":   "microsoft.graph.win32LobAppAssignmentSettings",
		"notifications": "showReboot",
		"restartSettings": map[string]any{"@odata.type": "microsoft.graph.win32LobAppRestartSettings",
			"gracePeriodInMinutes": 1440, "countdownDisplayBeforeRestartInMinutes": 15, "restartNotificationSnoozeDurationInMinutes": 240},
	}
	soft := fileApp("soft", "required")
	soft = soft.installs(soft.files["install.sh"]+"\necho 3010 > \"$IMEPIPE_EXIT_CODE_FILE\"", soft.files["install.cmd"]+"\r\nexit /b 3010").with(
		"installExperience", map[string]any{"runAsAccount": "system", "deviceRestartBehavior": "basedOnReturnCode"},
		"assignments", []any{map[string]any{"intent": "required", "target": map[string]any{"@odata.type": imeapi.TypeAllDevices}, "settings": settings}})
	forced := fileApp("forced", "required").with("installExperience", map[string]any{"deviceRestartBehavior": "force"})
	plain := fileApp("plain", "required")
	h := newHarness(t, []testApp{soft, forced, plain}, nil)
	h.sync()

	h.wantState(soft.id(), imeapi.EnforcementSuccess, imeapi.ComplianceInstalled, 3010)
	pol := h.app(soft.id()).Policy
	if pol == nil || pol.RebootPending != string(imeapi.ReturnSoftReboot) || pol.Notifications != "showReboot" || pol.DeviceRestartBehavior != "basedOnReturnCode" {
		t.Fatalf("soft: recorded %+v", pol)
	}
	if rs := pol.RestartSettings; rs == nil || rs.GracePeriodInMinutes != 1440 || rs.CountdownDisplayBeforeRestartInMinutes != 15 ||
		rs.RestartNotificationSnoozeDurationInMinutes == nil || *rs.RestartNotificationSnoozeDurationInMinutes != 240 {
		t.Fatalf("soft: restart settings %+v", pol.RestartSettings)
	}
	log := h.log()
	for _, want := range []string{
		"Device restart behavior basedOnReturnCode: restart softReboot is pending (not performed by the agent); device restart behavior basedOnReturnCode, notifications showReboot, restart grace period 1440 min, countdown 15 min, snooze 240 min",
		"Device restart behavior force: a restart is pending",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("log has no %q:\n%s", want, log)
		}
	}

	h.wantState(forced.id(), imeapi.EnforcementSuccess, imeapi.ComplianceInstalled, 0)
	if pol := h.app(forced.id()).Policy; pol == nil || pol.RebootPending != "force" || pol.Notifications != "showAll" {
		t.Errorf("forced: recorded %+v", pol)
	}
	if pol := h.app(plain.id()).Policy; pol == nil || pol.RebootPending != "" || pol.DeviceRestartBehavior != "basedOnReturnCode" || pol.RestartSettings != nil {
		t.Errorf("plain: recorded %+v", pol)
	}
}

// TestAllowAvailableUninstall: an available app with allowAvailableUninstall
// false installs on request but refuses the user's uninstall (the app stays);
// true, and absent (v1.0 has no such property), allow it.
func TestAllowAvailableUninstall(t *testing.T) {
	no := fileApp("keep", "available").with("allowAvailableUninstall", false)
	yes := fileApp("removable", "available").with("allowAvailableUninstall", true)
	unset := fileApp("unset", "available")
	h := newHarness(t, []testApp{no, yes, unset}, nil)
	h.sync()
	ctx := context.Background()
	for _, ap := range []testApp{no, yes, unset} {
		if _, err := h.agent.Install(ctx, ap.id()); err != nil {
			t.Fatalf("install %s: %v", ap.name, err)
		}
	}
	if _, err := h.agent.Uninstall(ctx, no.id()); !errors.Is(err, ErrRequiredApp) || !strings.Contains(err.Error(), "allowAvailableUninstall false") {
		t.Fatalf("uninstall of an app that does not allow it: %v", err)
	}
	if _, err := os.Stat(h.programFiles("keep", "app.txt")); err != nil {
		t.Fatalf("refused uninstall removed the app: %v", err)
	}
	if pol := h.app(no.id()).Policy; pol == nil || pol.AllowAvailableUninstall == nil || *pol.AllowAvailableUninstall {
		t.Errorf("allowAvailableUninstall not recorded: %+v", pol)
	}
	for _, ap := range []testApp{yes, unset} {
		if _, err := h.agent.Uninstall(ctx, ap.id()); err != nil {
			t.Fatalf("uninstall %s: %v", ap.name, err)
		}
		if _, err := os.Stat(h.programFiles(ap.name, "app.txt")); !os.IsNotExist(err) {
			t.Errorf("%s still installed: %v", ap.name, err)
		}
	}
}
