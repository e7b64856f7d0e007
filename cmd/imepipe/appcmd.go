package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

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
	appID := pos[0]
	if err := checkAppID(name, appID); err != nil {
		return err
	}
	// With no agent running on the root, the install runs here: a bar
	// per download when stdout is a terminal.
	bars := newAgentBars(e, !*jsonOut)
	c, closer, err := connectWith(ctx, *root, orchestrate.Config{Progress: bars.Hook()})
	if err != nil {
		return connectErr(ctx, *root, err)
	}
	defer closer.Close()
	var st orchestrate.AppStatus
	if name == "install" {
		st, err = c.Install(ctx, appID)
	} else {
		st, err = c.Uninstall(ctx, appID)
	}
	bars.Wait()
	if err != nil {
		return appCmdError(ctx, name, *root, appID, err)
	}
	if *jsonOut {
		if err := writeJSON(e, st); err != nil {
			return err
		}
	} else {
		line := fmt.Sprintf("%s %s_%s: enforcement %d %s, compliance %d %s", name, st.AppID, st.Version,
			st.EnforcementState, codeName(st.EnforcementState), st.ComplianceState, codeName(st.ComplianceState))
		if st.ErrorCodeHex != "" {
			line += fmt.Sprintf(", error %s: %s", st.ErrorCodeHex, st.ErrorMessage)
		}
		sayf(e.stdout, "%s", line)
	}
	// With --json too: the exit status says whether it was done.
	if st.EnforcementState != imeapi.EnforcementSuccess {
		return notDone(name, *root, st)
	}
	return nil
}

// checkAppID is nil for an APPID (a GUID) as install and uninstall
// (name) take it, else a usage error: APPID_REV, the form status
// prints, says to leave out the revision (the service decides which
// revision is installed); anything else is not an app id. Nothing is
// asked of the service before.
func checkAppID(name, ref string) error {
	if imeapi.CheckAppID(ref) == nil {
		return nil
	}
	if id, rev, ok := strings.Cut(ref, "_"); ok && imeapi.CheckAppID(id) == nil {
		return usagef("%s takes the APPID alone: imepipe %s %s (without _%s; the service decides the revision)", name, name, id, rev)
	}
	return usagef("%s is not an app id: want APPID, a GUID (imepipe status lists them)", ref)
}

// appCmdError is the one line of an install or uninstall (name) of
// appID on root that failed: what the user can act on for an app the
// service does not assign to the device or whose assignment forbids the
// request, or a root never enrolled (what to run, as sync says); that it
// was interrupted (Ctrl-C); serviceHint's for a service that cannot be
// reached. Other errors pass unchanged.
func appCmdError(ctx context.Context, name, root, appID string, err error) error {
	switch {
	case errors.Is(err, orchestrate.ErrNotEnrolled):
		return rootNotEnrolled(root, false, "")
	case ctx.Err() != nil:
		return &reasonErr{msg: fmt.Sprintf("interrupted; %s of %s not finished (imepipe status shows where it stopped)", name, appID), err: err}
	case errors.Is(err, orchestrate.ErrUnknownApp):
		return &reasonErr{msg: fmt.Sprintf("%s: the service assigns no such app to this device (imepipe status lists those it has)", appID), err: err}
	case errors.Is(err, orchestrate.ErrRequiredApp) && name == "install":
		return &reasonErr{msg: fmt.Sprintf("%s: it is assigned for uninstall on this device, so it cannot be installed on request", appID), err: err}
	case errors.Is(err, orchestrate.ErrRequiredApp):
		return &reasonErr{msg: fmt.Sprintf("%s: its assignment does not allow uninstalling it on request (required, or available without allowAvailableUninstall)", appID), err: err}
	}
	return untrustedHint(root, serviceHint(err))
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
