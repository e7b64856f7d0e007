package orchestrate

import (
	"strings"

	"github.com/imepipe/imepipe/orchestrate/imelog"
	"github.com/imepipe/imepipe/orchestrate/rules"
)

// scriptRules is the agent's rule environment (a.rules) with its script
// runs logged to AgentExecutor.log on t's thread: the thread the flow
// evaluating the rules logs on in IntuneManagementExtension.log at that
// moment. For an app prepared ahead that is its own thread during its
// preparation and the poller's in its turn (prepareAhead, resume), where
// the poller's flow (a.flow) would put a prefetched app's scripts on the
// thread of the app that installs meanwhile. Only Scripts.Observe
// differs (a.rules has none); a copy per evaluation, as flows run side
// by side. Every rule evaluation goes through it.
func (a *Agent) scriptRules(t *tracer) *rules.Env {
	env := *a.rules
	env.Scripts.Observe = t.script
	return &env
}

// script writes AgentExecutor.log for one detection or requirement script
// run, as the IME's AgentExecutor.exe logs its runs, on t's thread.
// Script output is logged as the IME logs it (the script's own words; it
// never sees a key).
func (t *tracer) script(r rules.Run) {
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
