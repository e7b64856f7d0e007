package orchestrate

import (
	"runtime"
	"testing"
)

// Reasons for the tests that cannot run on Windows (under Wine) until the
// Windows backend lands; make test-windows lists every skip with its reason.
const (
	// skipAgentScenarios: the harness's apps install with install.sh, detect
	// through file rules on the emulated drive (mapPath, Linux backend), and the
	// agent's control socket is AF_UNIX, which Wine lacks.
	skipAgentScenarios = "agent scenarios use /bin/sh installers; Windows installers come with the Windows backend"
)

// skipOnWindows skips t with reason when the tests run on Windows.
func skipOnWindows(t testing.TB, reason string) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip(reason)
	}
}
