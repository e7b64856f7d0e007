package rules

import (
	"os"
	"path/filepath"

	"github.com/imepipe/imepipe/imeapi"
)

// scriptExt is the scratch script's extension: -File wants .ps1.
const scriptExt = ".ps1"

// scriptArgv runs path with Windows PowerShell (systemRoot from the
// environment, C:\Windows without it).
func scriptArgv(path string, _ []byte, r imeapi.Rule) []string {
	root := os.Getenv("SystemRoot")
	if root == "" {
		root = `C:\Windows`
	}
	return powershellArgv(root, path, r)
}

// powershellArgv is the IME's PowerShell command line for a detection or
// requirement script: the 64-bit host (System32, this agent being a
// 64-bit process) or, for runAs32Bit, the 32-bit one (SysWOW64);
// `-NoProfile -ExecutionPolicy Bypass -File path`, with AllSigned instead
// of Bypass when enforceSignatureCheck is set, so that PowerShell refuses
// an unsigned script. Detection reads exit code 0 and STDOUT (scriptRule).
func powershellArgv(systemRoot, path string, r imeapi.Rule) []string {
	sys := "System32"
	if r.RunAs32Bit {
		sys = "SysWOW64"
	}
	policy := "Bypass"
	if r.EnforceSignatureCheck {
		policy = "AllSigned"
	}
	host := filepath.Join(systemRoot, sys, "WindowsPowerShell", "v1.0", "powershell.exe")
	return []string{host, "-NoProfile", "-ExecutionPolicy", policy, "-File", path}
}
