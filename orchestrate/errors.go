package orchestrate

import (
	"errors"
	"fmt"
	"strings"

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
// Its text is "<step> [<object>]: <cause>": it becomes the state
// message's and the report's ErrorMessage and the IME log's error line,
// which people who know the IME read, so it names no Go package and not
// the code, which travels on its own (ErrorCode, shown as Intune shows
// it, imeapi.CodeHex). What it wraps names only what it adds (a
// Downloader's error starts with fetch's or peer's own prefix).
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
	return step + ": " + e.Err.Error()
}

func (e *StepError) Unwrap() error { return e.Err }

// ServiceProblem is what went wrong between the agent and the service
// when it enrolled or asked for its policies (ServiceError.Problem).
type ServiceProblem int

// Service problems.
const (
	// ServiceUnreachable: no HTTP answer (connection refused or reset, no
	// such host, timed out).
	ServiceUnreachable ServiceProblem = iota + 1
	// ServiceSecretRejected: the service refused the enrollment secret (401).
	ServiceSecretRejected
	// ServiceWantsHTTPS: an http:// URL to a port that speaks TLS (Go's
	// TLS server answers plain HTTP with 400 Bad Request).
	ServiceWantsHTTPS
	// ServiceWantsHTTP: an https:// URL to a port that speaks plain HTTP.
	ServiceWantsHTTP
	// ServiceUntrusted: the service's certificate did not verify (the
	// error wraps an *imeapi.TrustError).
	ServiceUntrusted
	// ServiceRefused: any other error answer (the error wraps an
	// *imeapi.APIError).
	ServiceRefused
	// ServiceBadAnswer: an answer the agent could not use.
	ServiceBadAnswer
)

// ServiceError is a sync that did not get the device's policies because
// of the service: its enrollment or its policy request failed. Its text is
// one line naming the service and the reason, without net/http's chain
// (`Post "URL": dial tcp ADDR: connect: …`); Err is what imeapi returned,
// so errors.Is and errors.As see everything below it
// (imeapi.ErrUnauthorized, *imeapi.TrustError, *url.Error, the system's
// errno).
type ServiceError struct {
	Op      string // "enroll", "policies" or "leave" (the Array leave at exit)
	URL     string // the service's base URL
	Problem ServiceProblem
	Reason  string // ServiceUnreachable: "connection refused", "no such host", …
	Err     error
}

func (e *ServiceError) Error() string {
	switch e.Problem {
	case ServiceUnreachable:
		return fmt.Sprintf("service %s not reachable (%s)", e.URL, e.Reason)
	case ServiceSecretRejected:
		return "enrollment secret rejected by " + e.URL
	case ServiceWantsHTTPS:
		return fmt.Sprintf("%s speaks HTTPS: use %s", e.URL, swapScheme(e.URL, "https"))
	case ServiceWantsHTTP:
		return fmt.Sprintf("%s speaks plain HTTP: use %s", e.URL, swapScheme(e.URL, "http"))
	case ServiceUntrusted:
		return e.Err.Error() // "service URL: certificate signed by unknown authority"
	case ServiceRefused:
		return fmt.Sprintf("service %s refused the %s: %s", e.URL, e.what(), e.Reason)
	}
	return fmt.Sprintf("service %s, %s: %v", e.URL, e.what(), e.Err)
}

func (e *ServiceError) Unwrap() error { return e.Err }

// what names the request in a message.
func (e *ServiceError) what() string {
	switch e.Op {
	case "enroll":
		return "enrollment"
	case "leave":
		return "Array leave"
	}
	return "policy request"
}

// swapScheme is url with its scheme replaced.
func swapScheme(url, scheme string) string {
	if _, rest, ok := strings.Cut(url, "://"); ok {
		return scheme + "://" + rest
	}
	return scheme + "://" + url
}
