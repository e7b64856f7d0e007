package main

import (
	"strings"
	"testing"
)

// TestPackHelpSaysRefuses: -q's help says what pack does without it
// (refuses to replace; it never asks, unlike IntuneWinAppUtil on a
// console), not "without asking", which promised a question.
func TestPackHelpSaysRefuses(t *testing.T) {
	code, stdout, _ := runCLI(t, "pack", "--help")
	if code != 0 || !strings.Contains(stdout, "without -q pack refuses to; it never asks") || strings.Contains(stdout, "without asking") {
		t.Errorf("pack --help: exit %d:\n%s", code, stdout)
	}
}
