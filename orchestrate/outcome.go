package orchestrate

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/imepipe/imepipe/fetch"
	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/orchestrate/imelog"
)

// judge turns an installer's exit code into the attempt's result: the
// code mapped with the app's return codes, then detection again. It is
// shared by a run this agent started (enforce) and one it re-adopted
// after a restart (adopt), so both finish an attempt the same way. do is
// the download's DO record (nil for a re-adopted run).
func (a *Agent) judge(ctx context.Context, t *tracer, p imeapi.Policy, app imeapi.Win32LobApp, m mode, code int64, do *fetch.Status) result {
	outcome, mapped := MapReturnCode(app.ReturnCodes, code)
	if !mapped {
		t.log(imelog.ExitCodeNoMapping, code, p.AppID)
	}
	t.log(imelog.ExitCodeDefinedAs, exitCodeName(outcome))
	r := result{do: do}
	switch outcome {
	case imeapi.ReturnFailed:
		r = failure(t, &StepError{Step: "install", Code: code, Err: fmt.Errorf("installer exit code %d is a failure", code)})
		r.do = do
		return r
	case imeapi.ReturnRetry:
		t.log(imelog.ExitCodeRetry, code, a.cfg.RetryInterval)
		return result{enforcement: imeapi.EnforcementInProgress, compliance: imeapi.ComplianceUnknown, code: code, message: "installer asked for a retry", failed: true, do: do}
	case imeapi.ReturnSoftReboot, imeapi.ReturnHardReboot:
		r.reboot = string(outcome)
		r.code = code
		t.log(imelog.RestartPending, restartBehavior(app), outcome, restartSummary(p, app))
	}
	t.log(imelog.PostDetectionStep)
	detected, err := a.detect(ctx, t, app)
	if err != nil {
		r2 := failure(t, err)
		r2.do = do
		return r2
	}
	switch {
	case m == modeInstall && !detected:
		t.log(imelog.NotDetectedAfter)
		return result{enforcement: imeapi.EnforcementError, compliance: imeapi.ComplianceError, code: CodeNotDetected, message: "the application was not detected after installation completed successfully", failed: true, do: do}
	case m == modeUninstall && detected:
		t.log(imelog.StillDetectedAfter)
		return result{enforcement: imeapi.EnforcementError, compliance: imeapi.ComplianceError, code: CodeFailure, message: "the application is still detected after uninstall", failed: true, do: do}
	case m == modeUninstall:
		r.enforcement, r.compliance = imeapi.EnforcementSuccess, imeapi.ComplianceNotInstalled
	default:
		r.enforcement, r.compliance = imeapi.EnforcementSuccess, imeapi.ComplianceInstalled
	}
	if f := forcedRestart(app); f != "" {
		r.reboot = f
		t.log(imelog.RestartForced)
	}
	return r
}

// failure is the failed attempt err describes (its StepError code, else
// CodeFailure), logged once.
func failure(t *tracer, err error) result {
	code := CodeFailure
	var se *StepError
	if errors.As(err, &se) {
		code = se.Code
	}
	t.log(imelog.StepFailed, fmt.Sprintf("%v (%s)", err, imeapi.CodeHex(code))) // the code once, as the console shows it
	return result{enforcement: imeapi.EnforcementError, compliance: imeapi.ComplianceError, code: code, message: err.Error(), failed: true}
}

// exitCodeName is a return code type as the IME names it in "lpExitCode
// is defined as …" (Success, Failed, Retry, SoftReboot, HardReboot).
func exitCodeName(t imeapi.ReturnCodeType) string {
	s := string(t)
	if s == "" {
		return "Failed"
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
