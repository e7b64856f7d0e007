//go:build !windows

package orchestrate

import (
	"github.com/imepipe/imepipe/orchestrate/reap"
	"github.com/imepipe/imepipe/orchestrate/rules"
)

// setCommand makes s run cmdline the Linux stand-in's way: /bin/sh -c
// CMDLINE in the content folder. A Windows line (setup.exe /S) does not
// run here unless the package ships a script of that name; tests and the
// demo use shell lines.
func setCommand(s *reap.Spec, cmdline string) error {
	s.Argv = []string{"/bin/sh", "-c", cmdline}
	return nil
}

// installerFolderEnv points the installer's known-folder variables
// (ProgramFiles, ProgramData, SystemRoot, …) at the emulated drive,
// Root/Drive/C/… (Config.Folders), where detection rules look.
func installerFolderEnv(folders map[string]string) []string { return rules.FolderEnv(folders) }

// exitCodeEnv tells the installer where it may write its full 32-bit
// exit code (EnvExitCodeFile): a Unix exit status has 8 bits.
func exitCodeEnv(codeFile string) []string { return []string{EnvExitCodeFile + "=" + codeFile} }
