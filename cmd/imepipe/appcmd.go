package main

import (
	"context"
	"fmt"
	"strconv"

	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/orchestrate"
)

func init() {
	register("install", "install APPID: install an available app now (as from the Company Portal)", runInstall)
	register("uninstall", "uninstall APPID: uninstall an available app now", runUninstall)
}

func runInstall(ctx context.Context, e *env, args []string) error {
	return runAppCmd(ctx, e, "install", args)
}

func runUninstall(ctx context.Context, e *env, args []string) error {
	return runAppCmd(ctx, e, "uninstall", args)
}

func runAppCmd(ctx context.Context, e *env, name string, args []string) error {
	fs := newFlags(e, name)
	root := rootFlag(fs)
	jsonOut := fs.Bool("json", false, "print the app's state as one JSON document")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("usage: imepipe %s APPID [--root DIR] [--json]", name)
	}
	// With no agent running on the root, the install runs here: a bar
	// per download when stdout is a terminal.
	bars := newAgentBars(e, !*jsonOut)
	c, closer, err := connectWith(ctx, *root, orchestrate.Config{Progress: bars.Hook()})
	if err != nil {
		return err
	}
	defer closer.Close()
	var st orchestrate.AppStatus
	if name == "install" {
		st, err = c.Install(ctx, pos[0])
	} else {
		st, err = c.Uninstall(ctx, pos[0])
	}
	bars.Wait()
	if err != nil {
		return err
	}
	if *jsonOut {
		return writeJSON(e, st)
	}
	line := fmt.Sprintf("%s %s_%s: enforcement %d %s, compliance %d %s", name, st.AppID, st.Version,
		st.EnforcementState, codeName(st.EnforcementState), st.ComplianceState, codeName(st.ComplianceState))
	if st.ErrorCodeHex != "" {
		line += fmt.Sprintf(", error %s: %s", st.ErrorCodeHex, st.ErrorMessage)
	}
	sayf(e.stdout, "%s", line)
	if st.EnforcementState != imeapi.EnforcementSuccess {
		return notDone(name, *root, st)
	}
	return nil
}

// notDone is the error of an install or uninstall (name) on root that
// did not end in EnforcementSuccess: the app by name, what its state
// means, the error code as Intune shows it and, for an installer's
// failure, its log.
func notDone(name, root string, st orchestrate.AppStatus) error {
	app := st.AppID + "_" + st.Version
	if st.DisplayName != "" {
		app = st.DisplayName + " (" + app + ")"
	}
	var why string
	switch st.EnforcementState {
	case imeapi.EnforcementError:
		why = "it failed"
	case imeapi.EnforcementInProgress:
		why = "it is still in progress (the installer asked for a retry)"
	case imeapi.EnforcementRequirementsNotMet:
		why = "the device does not meet its requirements"
	case imeapi.EnforcementNotAttempted:
		why = "it was not attempted"
	default:
		why = "its state is unknown"
	}
	if st.ErrorCodeHex != "" {
		why += " with " + st.ErrorCodeHex
	}
	state := strconv.Itoa(int(st.EnforcementState))
	if n := codeName(st.EnforcementState); n != "" {
		state += " " + n
	}
	return fmt.Errorf("%s was not %sed: %s (enforcement %s)%s", app, name, why, state, seeLog(root, st))
}
