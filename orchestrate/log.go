package orchestrate

import (
	"fmt"

	"github.com/imepipe/imepipe/orchestrate/cmtrace"
)

// tracer writes one flow's lines to IntuneManagementExtension.log (with a
// thread number per flow, as the IME's worker threads appear) and to
// Config.Logf.
type tracer struct {
	a      *Agent
	thread int
}

func (a *Agent) tracer() *tracer {
	return &tracer{a: a, thread: int(a.threads.Add(1)) + 1}
}

func (t *tracer) log(typ cmtrace.Type, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if t.a.log != nil {
		_ = t.a.log.Log(typ, t.thread, msg)
	}
	t.a.cfg.Logf("%s", msg)
}

func (t *tracer) info(format string, args ...any)  { t.log(cmtrace.Info, format, args...) }
func (t *tracer) warn(format string, args ...any)  { t.log(cmtrace.Warning, format, args...) }
func (t *tracer) error(format string, args ...any) { t.log(cmtrace.Error, format, args...) }
