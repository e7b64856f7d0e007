package main

import (
	"context"
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
	c, closer, jsonOut, err := queryAgent(ctx, e, "status", args)
	if err != nil {
		return err
	}
	defer closer.Close()
	st, err := c.Status(ctx)
	if err != nil {
		return err
	}
	return showStatus(e, st, jsonOut)
}

// queryAgent parses the flags every read-only agent query takes (--root,
// --json, no arguments) and connects to the agent of that root.
func queryAgent(ctx context.Context, e *env, name string, args []string) (orchestrate.Control, io.Closer, bool, error) {
	fs := newFlags(e, name)
	root := rootFlag(fs)
	jsonOut := fs.Bool("json", false, "print one JSON document")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return nil, nil, false, err
	}
	if len(pos) != 0 {
		return nil, nil, false, usagef("unexpected arguments %q", pos)
	}
	c, closer, err := connect(ctx, *root)
	return c, closer, *jsonOut, err
}

// showStatus prints st as one JSON document or as the status table.
func showStatus(e *env, st orchestrate.Status, jsonOut bool) error {
	if jsonOut {
		return writeJSON(e, st)
	}
	printStatus(e.stdout, st, false)
	return nil
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
	if t, ok := st.Times["LastAppSyncTime"]; ok {
		fmt.Fprintf(w, "last app sync %s (%s)\n", t.Local().Format(time.RFC3339), st.LastResult)
	}
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
		fmt.Fprintf(tw, "%s_%s\t%s\t%s\t%s\t%s\t%s\t%d/%d\t%s\n", a.AppID, a.Version, safeLine(a.DisplayName), a.IntentName,
			enf, comp, errCode, a.Attempts, a.MaxAttempts, next)
	}
	tw.Flush()
	for _, a := range st.Apps {
		if a.ErrorMessage != "" {
			sayf(w, "%s: %s", a.AppID, a.ErrorMessage)
		}
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func runHealth(ctx context.Context, e *env, args []string) error {
	c, closer, jsonOut, err := queryAgent(ctx, e, "health", args)
	if err != nil {
		return err
	}
	defer closer.Close()
	h, err := c.Health(ctx)
	if err != nil {
		return err
	}
	if jsonOut {
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
	if !h.Healthy {
		return fmt.Errorf("health: unhealthy")
	}
	return nil
}
