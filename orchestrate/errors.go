package orchestrate

import (
	"errors"
	"fmt"

	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/orchestrate/rules"
)

// Sentinel errors; test with errors.Is.
var (
	// ErrRule: a detection or requirement rule that cannot be evaluated
	// (unknown type or operator, bad value, unmapped path); rules.ErrRule.
	ErrRule = rules.ErrRule
	// ErrNotEnrolled: no identity in state.db and no service/secret given.
	ErrNotEnrolled = errors.New("device not enrolled")
	// ErrUnknownApp: the app id is not among the device's policies.
	ErrUnknownApp = errors.New("app not assigned to this device")
	// ErrClosed: the agent was closed.
	ErrClosed = errors.New("agent closed")
	// ErrContent: content that does not verify (after one re-download).
	ErrContent = errors.New("content failed verification")
	// ErrNoAgent: no agent answers on the control socket.
	ErrNoAgent = errors.New("no agent is running on this root")
	// ErrPath: a path built from an identifier would leave its folder.
	ErrPath = errors.New("path outside the agent root")
	// ErrInstallUser: a runAsAccount user app cannot run as its user (none
	// configured, the agent is not root, no such user; on Windows no
	// logged-on user, ErrNoUserSession, or a token refused).
	ErrInstallUser = errors.New("cannot run the installer as the user")
	// ErrDependency: an app's dependency is missing, failed or forms a cycle.
	ErrDependency = errors.New("dependency not met")
)

// Error codes the agent records and reports (IME values where it has
// one); the values and their meanings are imeapi's (imeapi.CodeMeaning).
const (
	// CodeNotDetected is 0x87D1041C: the installer succeeded but the app
	// is not detected afterwards.
	CodeNotDetected = imeapi.CodeNotDetected
	// CodeTimeout is 0x87D300C9: the installer ran past its maximum run time.
	CodeTimeout = imeapi.CodeTimeout
	// CodeFailure is E_FAIL (0x80004005), for failures with no exit code
	// of their own (download, verification, unpack, start); the report's
	// ErrorMessage says which.
	CodeFailure = imeapi.CodeFailure
)

// StepError is a failed step of one app's flow, with the code recorded.
// It is the one layer that names the package: its text is "orchestrate:
// <step> [<object>]: <cause> (0x<code>)", and what it wraps names only
// what it adds (a Downloader's error starts with fetch's or peer's own
// prefix, not with "orchestrate: download").
type StepError struct {
	Step   string // "download", "unpack", "install", "detect", …
	Object string // what the step worked on, e.g. the DoFileId; may be empty
	Code   int64
	Err    error
}

func (e *StepError) Error() string {
	step := e.Step
	if e.Object != "" {
		step += " " + e.Object
	}
	return fmt.Sprintf("orchestrate: %s: %v (0x%08X)", step, e.Err, uint32(e.Code))
}

func (e *StepError) Unwrap() error { return e.Err }
