package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/imepipe/imepipe/service"
)

func init() {
	register("apps", "apps check DIR: load an apps folder as serve would and list each app's verdict", runApps)
}

// appsReport is the JSON of apps check --json.
type appsReport struct {
	Apps []service.AppCheck `json:"apps"`
}

func runApps(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 && (isHelp(args[0]) || args[0] == "help") {
		writeHelp(e.stdout, "apps", nil)
		return flag.ErrHelp
	}
	if len(args) == 0 || args[0] != "check" {
		return usagef("want: apps check DIR [--json] (see imepipe apps --help)")
	}
	fs := newFlags(e, "apps check")
	jsonOut := fs.Bool("json", false, "print one JSON document")
	allow := fs.Bool("allow-unsupported", false, "count apps with unsupported settings as loaded, as serve --allow-unsupported serves them")
	rest, err := parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	switch {
	case len(rest) == 0:
		return usagef("apps check: the apps folder DIR is required")
	case len(rest) > 1:
		return usagef("unexpected argument %q (see imepipe apps check --help)", rest[1])
	}
	checks, err := service.CheckApps(ctx, rest[0], *allow)
	if err != nil {
		return err
	}
	refused := 0
	for _, c := range checks {
		if !c.Loaded {
			refused++
		}
	}
	if *jsonOut {
		if checks == nil {
			checks = []service.AppCheck{}
		}
		if err := writeJSON(e, appsReport{Apps: checks}); err != nil {
			return err
		}
	} else {
		printChecks(e, checks)
	}
	if refused > 0 {
		return fmt.Errorf("%d of %d apps refused", refused, len(checks))
	}
	return nil
}

// printChecks prints one block per app folder: the verdict line, then
// its warnings, unsupported and ignored fields.
func printChecks(e *env, checks []service.AppCheck) {
	for _, c := range checks {
		id, name, version := orDash(c.ID), orDash(c.DisplayName), orDash(c.Version)
		fmt.Fprintf(e.stdout, "%s\t%s\t%q\tversion %s\t%s\n", c.Dir, id, name, version, c.Verdict())
		if len(c.Warnings) > 0 {
			fmt.Fprintf(e.stdout, "  warnings: %s\n", strings.Join(c.Warnings, "; "))
		}
		if len(c.Unsupported) > 0 {
			fmt.Fprintf(e.stdout, "  unsupported: %s\n", strings.Join(c.Unsupported, ", "))
		}
		if len(c.Ignored) > 0 {
			fmt.Fprintf(e.stdout, "  ignored: %s\n", strings.Join(c.Ignored, ", "))
		}
	}
}
