package orchestrate

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/orchestrate/imelog"
	"github.com/imepipe/imepipe/orchestrate/reap"
)

// EnvExitCodeFile names the file an installer may write its full 32-bit
// exit code into (a Linux process can only exit 0–255; Windows installers
// return 1707, 3010, 1641, …). When the file holds an integer it replaces
// the process's exit status.
const EnvExitCodeFile = "IMEPIPE_EXIT_CODE_FILE"

// installTimeout is the configured override, else maxRunTimeInMinutes, else 60 min.
func (a *Agent) installTimeout(app imeapi.Win32LobApp) time.Duration {
	if a.cfg.InstallTimeout > 0 {
		return a.cfg.InstallTimeout
	}
	if ie := app.InstallExperience; ie != nil && ie.MaxRunTimeInMinutes > 0 {
		return time.Duration(ie.MaxRunTimeInMinutes) * time.Minute
	}
	return DefaultInstallTimeout
}

// runAs is "system" or "user".
func runAs(app imeapi.Win32LobApp) string {
	if ie := app.InstallExperience; ie != nil && strings.EqualFold(ie.RunAsAccount, "user") {
		return "user"
	}
	return "system"
}

// execute runs a command line in dir under the reaper and waits for its
// whole process tree: /bin/sh -c CMDLINE on Linux and macOS
// (exec_unix.go), the line as given to CreateProcess on Windows
// (exec_windows.go); or the app's active script instead (script.go). It
// returns the exit code (from EnvExitCodeFile when written).
//
// Before the reaper starts, the run is recorded in state.db
// (state.Install: content folder, result path, attempt number, deadline,
// the policy), and the reaper's process id and start time are added as
// soon as it runs, so that an agent started after this one was killed
// re-adopts the run (adopt) instead of starting a second installer. The
// log's "process id =" names the installer, once the reaper reports it
// started (reap.Spec.InstallerStarted), as ProcessTreeDone does. The
// record is deleted when the attempt is finished (finish). The installer's
// output goes to Logs/Win32AppInstaller-<key>.log, a file the reaper and
// the installer hold themselves (no pipe through the agent), so neither
// depends on the agent staying alive.
func (a *Agent) execute(ctx context.Context, t *tracer, p imeapi.Policy, app imeapi.Win32LobApp, m mode, key, dir, cmdline string) (int64, error) {
	timeout := a.installTimeout(app)
	// The agent stopping (ctx cancelled) detaches from the run instead of
	// killing it: the next agent re-adopts it. Only the timeout kills.
	stopping := ctx.Done()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	rec := a.installRecord(p, m, key, dir, timeout)
	spec := reap.Spec{
		Reaper:     a.cfg.Reaper,
		Dir:        dir,
		ResultPath: rec.ResultPath,
		JobName:    rec.ReaperJob,
		Detach:     stopping,
		Started: func(pid int) { // the reaper's pid: what adopt finds again
			if h, err := reap.Identify(pid); err == nil {
				rec.ReaperPID, rec.ReaperStart = h.PID, h.Start
			} else {
				rec.ReaperPID = pid // found again by Find, or taken as gone
			}
			if err := a.store.PutInstall(rec); err != nil {
				t.log(imelog.ReaperNotRecorded, pid, p.AppID, err)
			}
		},
		// The installer's own pid, as the IME logs it and as
		// ProcessTreeDone names it; not called when it did not start
		// (Run's error is the failure then).
		InstallerStarted: func(pid int) {
			t.log(imelog.CreateInstallerOK)
			t.log(imelog.InstallerPID, pid)
		},
	}
	script, err := a.setInstaller(t, &spec, p, app, m, dir, cmdline)
	if err != nil {
		return 0, err
	}
	codeFile := rec.CodeFile
	_ = os.Remove(codeFile)
	defer os.Remove(codeFile)
	logPath, err := under(a.layout.Logs, "Win32AppInstaller-"+key+".log")
	if err != nil {
		return 0, &StepError{Step: "install", Code: CodeFailure, Err: err}
	}
	out, err := os.Create(logPath)
	if err != nil {
		return 0, &StepError{Step: "install", Code: CodeFailure, Err: err}
	}
	detached := false
	defer func() {
		out.Close()
		if !detached {
			removeEmpty(logPath) // the run is over: an empty log says nothing
			if script != "" {
				_ = os.Remove(script)
			}
		}
	}()
	spec.Stdout = out
	env := append(installerEnv(), installerFolderEnv(a.folders)...)
	env = append(env,
		"IMEPIPE_ROOT="+a.layout.Root,
		"IMEPIPE_APP_ID="+p.AppID, // checked (checkPolicy); app.ID is the unchecked body
		"IMEPIPE_INSTALL_CONTEXT="+runAs(app))
	env = append(env, exitCodeEnv(codeFile)...)
	session := "machine"
	if runAs(app) == "user" {
		session = "user"
	}
	t.log(imelog.SetCurrentDirectory, dir)
	t.log(imelog.LaunchInstaller, session)
	t.log(imelog.InstallerTimeout, timeout.Milliseconds())
	if runAs(app) == "user" {
		cred, userEnv, err := a.userRun(dir)
		if errors.Is(err, ErrNoUserSession) {
			t.log(imelog.NoUserSession, p.AppID, imeapi.CodeHex(CodeNoUserSession))
			return 0, &StepError{Step: "install", Code: CodeNoUserSession, Err: err}
		}
		if err != nil {
			t.log(imelog.InstallerUserFailed, p.AppID, err)
			return 0, &StepError{Step: "install", Code: CodeFailure, Err: err}
		}
		spec.Credential = cred
		// The exit code file lives in the agent's private Staging: a
		// user's installer reports through its exit status only.
		env = slices.DeleteFunc(env, func(kv string) bool {
			return strings.HasPrefix(kv, EnvExitCodeFile+"=") || strings.HasPrefix(kv, "HOME=") || strings.HasPrefix(kv, "USER=") || strings.HasPrefix(kv, "LOGNAME=")
		})
		env = append(env, userEnv...)
		if cred.SID != "" {
			t.log(imelog.InstallerRunsInSession, cred.User, cred.Session, cred.SID)
		} else {
			t.log(imelog.InstallerRunsAs, a.cfg.InstallUser, cred.UID)
		}
	}
	spec.Env = env
	if spec.CommandLine != "" && spec.CommandLine != cmdline {
		t.log(imelog.CommandLineRunsAs, spec.CommandLine)
	}
	if err := a.beginInstall(rec); err != nil {
		t.log(imelog.InstallerNotRecorded, p.AppID, err)
		return 0, &StepError{Step: "install", Code: CodeFailure, Err: err}
	}
	res, err := reap.Run(ctx, spec)
	if err != nil {
		if errors.Is(err, reap.ErrDetached) {
			detached = true // the installer still writes its log
			t.log(imelog.InstallerDetached, p.AppID, dir, rec.ReaperPID)
			return 0, &StepError{Step: "install", Code: CodeFailure, Err: err}
		}
		if errors.Is(err, context.DeadlineExceeded) {
			t.log(imelog.InstallerTimedOut, timeout)
			return 0, &StepError{Step: "install", Code: CodeTimeout, Err: err}
		}
		return 0, &StepError{Step: "install", Code: CodeFailure, Err: err}
	}
	code := exitCode(res, codeFile)
	t.log(imelog.InstallationDone)
	t.log(imelog.ProcessTreeDone, res.PID, res.Reaped)
	t.log(imelog.LpExitCode, code)
	return code, nil
}

// removeEmpty removes the file at path when it is empty.
func removeEmpty(path string) {
	if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() && fi.Size() == 0 {
		_ = os.Remove(path)
	}
}

// exitCode is the installer's code: what it wrote in codeFile when that
// holds an integer, else its exit status.
func exitCode(res reap.Result, codeFile string) int64 {
	code := int64(res.ExitCode)
	if data, err := os.ReadFile(codeFile); err == nil {
		if n, err := strconv.ParseInt(strings.TrimSpace(string(data)), 0, 64); err == nil {
			code = n
		}
	}
	return code
}

// installerEnv is this process's environment without the reaper's variables.
func installerEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, reap.EnvReaper+"=") || strings.HasPrefix(kv, reap.EnvResult+"=") || strings.HasPrefix(kv, EnvExitCodeFile+"=") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// winHosts are the Windows programs that run what CreateProcess cannot
// start by itself, as full paths.
type winHosts struct {
	cmd        string // %ComSpec%: cmd.exe
	powershell string // Windows PowerShell 5.1's powershell.exe
	msiexec    string
}

// windowsCommandLine is the command line the agent hands CreateProcess
// (reap.Spec.CommandLine) for an app's install or uninstall line, with
// blanks around it trimmed. It does not quote, escape or expand anything
// of the line: an .exe, msiexec or powershell line runs as given. By the
// first token's extension:
//
//	.ps1      `"powershell.exe" -NoProfile -ExecutionPolicy Bypass -File LINE`
//	          (CreateProcess cannot start a script; these are the flags
//	          admins write for one, and its arguments follow as given)
//	.cmd .bat `"cmd.exe" /d /s /c "LINE"` (what CreateProcess does with a
//	          batch file, spelled out; /s keeps LINE's own quotes, /d skips
//	          AutoRun commands)
//	.msi      `"msiexec.exe" /i LINE` (CreateProcess cannot start a
//	          package: the line would fail; we install it instead)
//
// A line naming no program (empty, an unterminated quote in its first
// token) is an error wrapping reap.ErrCommandLine.
func windowsCommandLine(line string, h winHosts) (string, error) {
	line = strings.TrimSpace(line)
	prog, _, err := reap.FirstToken(line)
	if err != nil {
		return "", fmt.Errorf("orchestrate: %w", err)
	}
	base := strings.ToLower(prog[strings.LastIndexAny(prog, `\/:`)+1:])
	ext := ""
	if i := strings.LastIndexByte(base, '.'); i >= 0 {
		ext = base[i:]
	}
	switch ext {
	case ".ps1":
		return quoteProgram(h.powershell) + " -NoProfile -ExecutionPolicy Bypass -File " + line, nil
	case ".cmd", ".bat":
		return quoteProgram(h.cmd) + ` /d /s /c "` + line + `"`, nil
	case ".msi":
		return quoteProgram(h.msiexec) + " /i " + line, nil
	}
	return line, nil
}

// quoteProgram quotes a program path as argv[0] is read: no escapes.
func quoteProgram(p string) string { return `"` + p + `"` }
