package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/imepipe/imepipe/orchestrate"
)

func init() {
	register("status", "show the agent's apps: states, attempts, GRS, reports", runStatus)
	register("health", "check the agent's root, enrollment and last sync", runHealth)
}

func runStatus(ctx context.Context, e *env, args []string) error {
	q, err := queryAgent(ctx, e, "status", args)
	if err != nil {
		return err
	}
	defer q.closer.Close()
	st, err := q.c.Status(ctx)
	if err != nil {
		return err
	}
	if !st.Enrolled {
		// A root a failed first run left behind: nothing to show but why.
		if q.jsonOut {
			if err := writeJSON(e, st); err != nil {
				return err
			}
		}
		return rootNotEnrolled(q.root, st.AgentRunning, lastFailure(st))
	}
	return showStatus(e, st, q.jsonOut)
}

// query is an agent reached by a read-only query: its control, the
// closer to release it, the root as given and whether --json was.
type query struct {
	c       orchestrate.Control
	closer  io.Closer
	root    string
	jsonOut bool
}

// queryAgent parses the flags every read-only agent query takes (--root,
// --json, no arguments) and connects to the agent of that root.
func queryAgent(ctx context.Context, e *env, name string, args []string) (query, error) {
	fs := newFlags(e, name)
	root := rootFlag(fs)
	jsonOut := fs.Bool("json", false, "print one JSON document")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return query{}, err
	}
	if len(pos) != 0 {
		return query{}, usagef("unexpected arguments %q", pos)
	}
	c, closer, err := connect(ctx, *root)
	return query{c: c, closer: closer, root: *root, jsonOut: *jsonOut}, err
}

// rootNotEnrolled is the error of status and health on a root that holds
// state.db but no enrollment (a first run that failed): what to run, as
// agent says on such a root, or, when its agent runs, that it tries
// again; last is why the last attempt failed ("" if unknown).
func rootNotEnrolled(root string, running bool, last string) error {
	msg := fmt.Sprintf("%s is not enrolled (run imepipe agent --service URL --enrollment-secret-file FILE --root %s)", root, root)
	if running {
		msg = fmt.Sprintf("%s is not enrolled yet: its agent tries again at each sync", root)
	}
	if last != "" {
		msg += "; last attempt " + last
	}
	return errors.New(msg)
}

// lastFailure is "TIME failed: REASON" (or "TIME was interrupted") for
// a last sync attempt that did not succeed, else "".
func lastFailure(st orchestrate.Status) string {
	t, ok := st.Times[orchestrate.TimeLastSyncAttempt]
	if !ok || st.LastResult == "" || st.LastResult == orchestrate.ResultOK {
		return ""
	}
	if st.LastResult == orchestrate.ResultInterrupted {
		return stamp(t) + " was interrupted"
	}
	return stamp(t) + " failed: " + st.LastResult
}

// stamp is a time as status prints it.
func stamp(t time.Time) string { return t.Local().Format(time.RFC3339) }

// showStatus prints st as one JSON document or as the status table.
func showStatus(e *env, st orchestrate.Status, jsonOut bool) error {
	if jsonOut {
		return writeJSON(e, st)
	}
	printStatus(e.stdout, st, false)
	return nil
}

// printLastSync prints the last sync: when it succeeded, or, when the
// last attempt did not, that attempt (its time and why) and the last
// success apart, so that no failure is dated by an older success.
func printLastSync(w io.Writer, st orchestrate.Status) {
	kind := st.LastKind
	if kind == "" {
		kind = orchestrate.SyncApp
	}
	success, synced := st.Times[orchestrate.TimeLastAppSync]
	if f := lastFailure(st); f != "" {
		line := fmt.Sprintf("last %s sync attempt %s", kind, f)
		if synced {
			line += "; last success " + stamp(success)
		} else {
			line += "; no app sync has succeeded yet"
		}
		sayf(w, "%s", line)
		return
	}
	if !synced {
		return
	}
	result := st.LastResult
	if _, tried := st.Times[orchestrate.TimeLastSyncAttempt]; !tried && result != orchestrate.ResultOK && result != "" {
		// Recorded before attempts had their own time: the result may
		// be a later attempt's.
		sayf(w, "last app sync %s; a later sync: %s", stamp(success), result)
		return
	}
	fmt.Fprintf(w, "last app sync %s (ok)\n", stamp(success))
}

// codeName is an IME code's name beside its number in the status text;
// empty for a value the IME does not name.
func codeName(c interface {
	Valid() bool
	String() string
}) string {
	if !c.Valid() {
		return ""
	}
	return c.String()
}

// printStatus prints the status table; once (agent --once) leaves out
// whether an agent runs on the root.
func printStatus(w io.Writer, st orchestrate.Status, once bool) {
	running := " (agent not running)"
	switch {
	case once:
		running = ""
	case st.AgentRunning:
		running = " (agent running)"
	}
	fmt.Fprintf(w, "root %s%s, device %s at %s\n", st.Root, running, orDash(st.DeviceID), orDash(st.ServiceURL))
	printLastSync(w, st)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "APP\tNAME\tINTENT\tENFORCEMENT\tCOMPLIANCE\tERROR\tATTEMPTS\tNEXT ATTEMPT")
	for _, a := range st.Apps {
		errCode := "-"
		if a.ErrorCode != 0 {
			errCode = a.ErrorCodeHex
		}
		next := "-"
		if a.NextAttempt != nil {
			next = a.NextAttempt.Local().Format(time.RFC3339)
			if a.InGRS {
				next += " (GRS)"
			}
		}
		enf, comp := fmt.Sprintf("%d %s", a.EnforcementState, codeName(a.EnforcementState)), fmt.Sprintf("%d %s", a.ComplianceState, codeName(a.ComplianceState))
		if a.WaitingForSync {
			enf, comp = "waiting for next sync", "-"
		}
		intent := a.IntentName
		if a.NotInPolicies {
			intent = "not in the last policies" // the service no longer serves or assigns it
		}
		fmt.Fprintf(tw, "%s_%s\t%s\t%s\t%s\t%s\t%s\t%d/%d\t%s\n", a.AppID, a.Version, safeLine(a.DisplayName), intent,
			enf, comp, errCode, a.Attempts, a.MaxAttempts, next)
	}
	tw.Flush()
	for _, a := range st.Apps {
		if a.ErrorMessage == "" {
			continue
		}
		label := a.AppID + "_" + a.Version
		if a.DisplayName != "" {
			label = a.DisplayName + " (" + label + ")"
		}
		sayf(w, "%s: %s%s", label, a.ErrorMessage, seeLog(st.Root, a))
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func runHealth(ctx context.Context, e *env, args []string) error {
	q, err := queryAgent(ctx, e, "health", args)
	if err != nil {
		return err
	}
	defer q.closer.Close()
	h, err := q.c.Health(ctx)
	if err != nil {
		return err
	}
	if q.jsonOut {
		if err := writeJSON(e, h); err != nil {
			return err
		}
	} else {
		for _, ch := range h.Checks {
			mark := "ok  "
			if !ch.OK {
				mark = "FAIL"
			}
			fmt.Fprintf(e.stdout, "%s %-16s %s\n", mark, ch.Name, ch.Detail)
			if !ch.OK && ch.Remediation != "" {
				fmt.Fprintf(e.stdout, "     %-16s remediation: %s\n", "", ch.Remediation)
			}
		}
	}
	if h.Healthy {
		return nil
	}
	if !h.Enrolled {
		return rootNotEnrolled(q.root, h.AgentRunning, "")
	}
	failed := 0
	for _, ch := range h.Checks {
		if !ch.OK {
			failed++
		}
	}
	return fmt.Errorf("unhealthy (%s failed)", plural(failed, "check"))
}
