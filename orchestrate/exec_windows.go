package orchestrate

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/imepipe/imepipe/orchestrate/reap"
)

// setCommand makes s run cmdline the IME's way: the line reaches
// CreateProcess as given (reap.Spec.CommandLine, never re-quoted with
// Go's argument escaping, which msiexec and cmd.exe do not read), in the
// content folder, its program found there first, then on PATH; .ps1,
// .cmd/.bat and .msi lines go through their host (windowsCommandLine).
//
// What the IME does that this does not: it runs the line as SYSTEM or,
// for user-context apps, in the signed-in user's session
// (CreateProcessAsUser with the user's token); here the line runs as the
// agent's own account, whatever RunAsAccount says (it is logged). The
// IME has run as a 32-bit process, so its installers see the 32-bit
// System32 (SysWOW64) and reach the 64-bit one through
// %windir%\sysnative; this agent runs native, so a line written for
// sysnative finds no such folder. %VAR% references in the line are not
// expanded by the agent (CreateProcess does not expand them; cmd.exe
// does for .cmd/.bat lines); whether the IME expands them first is not
// reproduced. The process tree is followed with a Job
// Object (package reap).
//
// The agent scenario tests run this under Wine (make test-windows), with
// .cmd installers.
func setCommand(s *reap.Spec, cmdline string) error {
	line, err := windowsCommandLine(cmdline, hosts())
	if err != nil {
		return err
	}
	s.CommandLine = line
	return nil
}

// hosts finds cmd.exe, powershell.exe and msiexec.exe under %SystemRoot%
// (%ComSpec% for cmd.exe when set), as absolute paths so that no file in
// the content folder can stand in for them.
func hosts() winHosts {
	root := os.Getenv("SystemRoot")
	if root == "" {
		root = `C:\Windows`
	}
	sys32 := filepath.Join(root, "System32")
	cmd := os.Getenv("ComSpec")
	if cmd == "" {
		cmd = filepath.Join(sys32, "cmd.exe")
	}
	return winHosts{
		cmd:        cmd,
		powershell: filepath.Join(sys32, "WindowsPowerShell", "v1.0", "powershell.exe"),
		msiexec:    filepath.Join(sys32, "msiexec.exe"),
	}
}

// installerFolderEnv passes on the known folders Config.Folders moved
// away from the real ones (tests point them into the root): for each of
// the data folders below whose mapping differs from this process's
// variable, the installer gets the mapping. The rest stays real; SystemRoot,
// windir, SystemDrive and TEMP are never moved, as Windows programs (cmd.exe
// first) need the real ones.
func installerFolderEnv(folders map[string]string) []string {
	var env []string
	for _, name := range []string{
		"ProgramFiles", "ProgramW6432", "ProgramFiles(x86)", "CommonProgramFiles", "CommonProgramFiles(x86)",
		"ProgramData", "ALLUSERSPROFILE", "PUBLIC", "APPDATA", "LOCALAPPDATA",
	} {
		if v, ok := folders["%"+strings.ToUpper(name)+"%"]; ok && v != "" && !strings.EqualFold(v, os.Getenv(name)) {
			env = append(env, name+"="+v)
		}
	}
	return env
}

// exitCodeEnv is empty on Windows: the exit code is a full DWORD
// (GetExitCodeProcess), so installers need no EnvExitCodeFile.
func exitCodeEnv(string) []string { return nil }
