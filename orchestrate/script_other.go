//go:build !windows

package orchestrate

import (
	"fmt"
	"os/exec"

	"github.com/imepipe/imepipe/orchestrate/reap"
)

// powerShell finds pwsh on PATH (PowerShell 7, the one that runs here);
// runAs32Bit means nothing off Windows.
func powerShell(bool) (string, error) {
	p, err := exec.LookPath("pwsh")
	if err != nil {
		return "", fmt.Errorf("pwsh not found on PATH: %w", ErrNoPowerShell)
	}
	return p, nil
}

// setScript runs the script at path with pwsh, as the IME runs one.
func setScript(s *reap.Spec, host, path string) {
	s.Argv = []string{host, "-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-File", path}
}
