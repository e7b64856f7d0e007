package orchestrate

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/imepipe/imepipe/orchestrate/reap"
	"github.com/imepipe/imepipe/service"
)

// EnvExitCodeFile names the file an installer may write its full 32-bit
// exit code into (a Linux process can only exit 0–255; Windows installers
// return 1707, 3010, 1641, …). When the file holds an integer it replaces
// the process's exit status.
const EnvExitCodeFile = "IMEPIPE_EXIT_CODE_FILE"

// installTimeout is the configured override, else maxRunTimeInMinutes, else 60 min.
func (a *Agent) installTimeout(app service.Win32LobApp) time.Duration {
	if a.cfg.InstallTimeout > 0 {
		return a.cfg.InstallTimeout
	}
	if ie := app.InstallExperience; ie != nil && ie.MaxRunTimeInMinutes > 0 {
		return time.Duration(ie.MaxRunTimeInMinutes) * time.Minute
	}
	return DefaultInstallTimeout
}

// runAs is "system" or "user".
func runAs(app service.Win32LobApp) string {
	if ie := app.InstallExperience; ie != nil && strings.EqualFold(ie.RunAsAccount, "user") {
		return "user"
	}
	return "system"
}

// execute runs a command line in dir under the reaper and waits for its
// whole process tree. It returns the exit code (from EnvExitCodeFile when
// written).
func (a *Agent) execute(ctx context.Context, t *tracer, app service.Win32LobApp, key, dir, cmdline string) (int64, error) {
	timeout := a.installTimeout(app)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	codeFile := filepath.Join(a.layout.Staging, key+".exitcode")
	_ = os.Remove(codeFile)
	defer os.Remove(codeFile)
	out, err := os.Create(filepath.Join(a.layout.Logs, "Win32AppInstaller-"+key+".log"))
	if err != nil {
		return 0, &StepError{Step: "install", Code: CodeFailure, Err: err}
	}
	defer out.Close()
	env := append(installerEnv(), folderEnv(a.folders)...)
	env = append(env,
		"IMEPIPE_ROOT="+a.layout.Root,
		"IMEPIPE_APP_ID="+app.ID,
		"IMEPIPE_INSTALL_CONTEXT="+runAs(app),
		EnvExitCodeFile+"="+codeFile)
	session := "machine"
	if runAs(app) == "user" {
		session = "user"
	}
	t.info("[Win32App] SetCurrentDirectory: %s", dir)
	t.info("[Win32App] Launch Win32AppInstaller in %s session, timeout %v", session, timeout)
	start := a.cfg.Now()
	res, err := reap.Run(ctx, reap.Spec{
		Reaper:     a.cfg.Reaper,
		Argv:       []string{"/bin/sh", "-c", cmdline},
		Dir:        dir,
		Env:        env,
		Stdout:     out,
		ResultPath: filepath.Join(a.layout.Staging, key+".reap.json"),
		Started:    func(pid int) { t.info("[Win32App] ExecManager: processId = %d", pid) },
	})
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			t.error("[Win32App] Installer ran past its maximum run time (%v); process tree killed", timeout)
			return 0, &StepError{Step: "install", Code: CodeTimeout, Err: err}
		}
		return 0, &StepError{Step: "install", Code: CodeFailure, Err: err}
	}
	code := int64(res.ExitCode)
	if data, err := os.ReadFile(codeFile); err == nil {
		if n, err := strconv.ParseInt(strings.TrimSpace(string(data)), 0, 64); err == nil {
			code = n
		}
	}
	t.info("[Win32App] process %d exited; waited for its whole process tree (%d more processes reaped) in %v", res.PID, res.Reaped, a.cfg.Now().Sub(start).Round(time.Millisecond))
	t.info("[Win32App] lpExitCode %d", code)
	return code, nil
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

// describeCode is for logs.
func describeCode(code int64) string { return fmt.Sprintf("%d (0x%08X)", code, uint32(code)) }
