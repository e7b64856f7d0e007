package orchestrate

import (
	"runtime"
	"testing"
)

// skipOnWindows skips t with reason when the tests run on Windows.
func skipOnWindows(t testing.TB, reason string) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip(reason)
	}
}
