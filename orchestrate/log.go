package orchestrate

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"regexp"

	"github.com/imepipe/imepipe/fetch"
	"github.com/imepipe/imepipe/imeapi"

	"github.com/imepipe/imepipe/orchestrate/imelog"
)

// grsTime is how the IME's GRSManager prints a GRS value.
const grsTime = "01/02/2006 15:04:05"

// subgraphHash names an app's subgraph in GRS lines, as the IME's base64
// SHA-256 subgraph hash does.
func subgraphHash(appID string) string {
	h := sha256.Sum256([]byte(appID))
	return base64.StdEncoding.EncodeToString(h[:])
}

// agentThread is the thread of the agent's own lines (start, stop,
// enrollment, peering), apart from every poller's.
const agentThread = 1

// tracer writes one flow's lines to IntuneManagementExtension.log (and,
// for scripts, AgentExecutor.log) on one thread number, and to
// Config.Logf. Every line is a phrase of package imelog.
type tracer struct {
	a      *Agent
	thread int
	// The reporting state of the subgraph in progress: each app's last
	// detection and applicability, for the ReportingManager's deltas.
	detected, applicable map[string]string
	notApplicable        bool // the subgraph ended on failed requirements
}

// tracer is a new flow with a thread number of its own: an application
// poller (whose apps are processed on its thread, as the IME's are), a
// CLI request, a DO progress report, an app prepared ahead while another
// app of the poller installs (prepareAhead).
func (a *Agent) tracer() *tracer {
	return &tracer{a: a, thread: int(a.threads.Add(1)) + agentThread}
}

// fork is a tracer on t's thread with reporting state of its own: a
// top-level flow's subgraph on its poller's thread.
func (t *tracer) fork() *tracer { return &tracer{a: t.a, thread: t.thread} }

// on is t's flow continued on thread, its reporting state kept: an app
// prepared ahead on a thread of its own, handed over to its poller's
// thread in its turn (resume). t itself logs nothing more.
func (t *tracer) on(thread int) *tracer {
	c := *t
	c.thread = thread
	return &c
}

// agentTracer logs on the agent's own thread.
func (a *Agent) agentTracer() *tracer { return &tracer{a: a, thread: agentThread} }

// flowTracer is the tracer of the flow in progress (a poller or a CLI
// request, under a.mu), else a new one.
func (a *Agent) flowTracer() *tracer {
	if a.flow != nil {
		return a.flow
	}
	return a.tracer()
}

// sigRE finds a blob signature (the sig parameter of a signed URL, also
// inside JSON where & is written \u0026), wherever a line quotes a URL:
// an error from a download quotes its URL whole.
var sigRE = regexp.MustCompile(`([?&]|\\u0026)(sig=)[^&\s"\\]+`)

// redactSig replaces every blob signature in msg: the IME logs them, we
// must not.
func redactSig(msg string) string { return sigRE.ReplaceAllString(msg, "${1}${2}"+fetch.Redacted) }

// log writes phrase p formatted with args, of p's type, with any blob
// signature redacted.
func (t *tracer) log(p imelog.Phrase, args ...any) {
	msg := redactSig(p.Text(args...))
	if t.a.log != nil {
		_ = t.a.log.Log(p.Type, t.thread, msg)
	}
	t.a.cfg.Logf("%s", msg)
}

// exec writes phrase p to AgentExecutor.log on the flow's thread.
func (t *tracer) exec(p imelog.Phrase, args ...any) {
	msg := redactSig(p.Text(args...))
	if t.a.execLog != nil {
		_ = t.a.execLog.Log(p.Type, t.thread, msg)
	}
	t.a.cfg.Logf("AgentExecutor: %s", msg)
}

// policiesJSON is the served policies on one line, as the IME logs them
// after "Get policies = " (they carry no secret: the keys come sealed, per
// app, in the content info).
func policiesJSON(p []imeapi.Policy) string {
	if p == nil {
		p = []imeapi.Policy{}
	}
	b, err := json.Marshal(p)
	if err != nil {
		return "[]"
	}
	return string(b)
}
