package main

import (
	"strings"
	"testing"
)

// TestDemo runs the first-run demo end to end on loopback: pack, inspect,
// tamper check, service, agent install with a chained installer.
func TestDemo(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	code, stdout, stderr := runCLI(t, "demo", "--size", "2MiB")
	if code != 0 {
		t.Fatalf("demo exit %d: %s\n%s", code, stderr, stdout)
	}
	for _, want := range []string{"tampered copy refused", "EnforcementState 1000, ComplianceState 1", "[4/4]", "done;"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("demo output lacks %q:\n%s", want, stdout)
		}
	}
}
