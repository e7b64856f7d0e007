package orchestrate

import (
	"strings"

	"github.com/imepipe/imepipe/orchestrate/imelog"
	"github.com/imepipe/imepipe/orchestrate/rules"
)

// observeScript writes AgentExecutor.log for one detection or requirement
// script run, as the IME's AgentExecutor.exe logs its runs, on the thread
// of the flow that ran it. Script output is logged as the IME logs it
// (the script's own words; it never sees a key).
func (a *Agent) observeScript(r rules.Run) {
	t := a.flowTracer()
	arg := "requirementScript"
	if r.Detection {
		arg = "detectionScript"
	}
	t.exec(imelog.ExecutorInvoked)
	t.exec(imelog.ExecutorOption, "Powershell")
	if len(r.Argv) > 0 {
		t.exec(imelog.ExecutorScriptPath, arg, r.Argv[len(r.Argv)-1])
		t.exec(imelog.ExecutorShellPath, r.Argv[0])
		t.exec(imelog.ExecutorCmdLine, strings.Join(r.Argv, " "))
	}
	if r.PID > 0 {
		t.exec(imelog.ExecutorProcessID, r.PID)
	}
	if r.Err != nil {
		t.exec(imelog.ExecutorFailed, r.Err)
	} else {
		t.exec(imelog.ExecutorExitCode, r.ExitCode)
	}
	t.exec(imelog.ExecutorOutput, strings.TrimSpace(r.Stdout), strings.TrimSpace(r.Stderr))
	if s := strings.TrimSpace(r.Stderr); s != "" {
		t.exec(imelog.ExecutorScriptError, s)
	}
	t.exec(imelog.ExecutorExiting)
}
