package orchestrate

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/imepipe/imepipe/orchestrate/reap"
)

// powerShell is Windows PowerShell's powershell.exe under %SystemRoot%:
// System32's, or SysWOW64's (32-bit) for runAs32Bit.
func powerShell(runAs32Bit bool) (string, error) {
	p := hosts().powershell
	if runAs32Bit {
		root := os.Getenv("SystemRoot")
		if root == "" {
			root = `C:\Windows`
		}
		p = filepath.Join(root, "SysWOW64", "WindowsPowerShell", "v1.0", "powershell.exe")
	}
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("%s: %w", p, ErrNoPowerShell)
	}
	return p, nil
}

// setScript runs the script at path as the IME runs one.
func setScript(s *reap.Spec, host, path string) {
	s.CommandLine = quoteProgram(host) + ` -NoProfile -ExecutionPolicy Bypass -File "` + path + `"`
}
