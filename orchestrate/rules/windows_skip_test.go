package rules

import (
	"runtime"
	"testing"
)

// Reasons for the rule tests that cannot run on Windows (under Wine) until
// the Windows backend lands; make test-windows lists every skip with its
// reason.
const (
	// skipEmulatedFiles: file rules map C:\ onto root/Drive/C, the Linux backend.
	skipEmulatedFiles = "file rules map C:\\ onto the emulated drive (Linux backend); real known folders come with the Windows backend"
	// skipShScripts: script rules run through /bin/sh here.
	skipShScripts = "script rules run through /bin/sh; powershell.exe comes with the Windows backend"
)

// skipOnWindows skips t with reason when the tests run on Windows.
func skipOnWindows(t testing.TB, reason string) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip(reason)
	}
}
