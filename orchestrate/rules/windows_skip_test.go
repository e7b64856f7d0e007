package rules

import (
	"runtime"
	"testing"
)

// skipWithoutScriptHost skips a test that runs scripts under Wine: its
// powershell.exe is a stub that runs nothing. On real Windows the scripts
// run through Windows PowerShell.
func skipWithoutScriptHost(t testing.TB) {
	t.Helper()
	if runtime.GOOS == "windows" && underWine() {
		t.Skip("Wine's powershell.exe is a stub that runs no script; script rules need real Windows")
	}
}
