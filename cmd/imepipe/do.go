package main

import (
	"context"
	"flag"

	"github.com/imepipe/imepipe/fetch"
	"github.com/imepipe/imepipe/orchestrate"
	"github.com/imepipe/imepipe/peer"
)

func init() {
	register("do", "Delivery Optimization: do status [--root DIR] [--json|--table], do pin|unpin FILEID", runDO)
}

func runDO(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 && (isHelp(args[0]) || args[0] == "help") {
		writeHelp(e.stdout, "do", nil)
		return flag.ErrHelp
	}
	if len(args) == 0 {
		return usagef("want: do status|pin|unpin (see imepipe do --help)")
	}
	switch args[0] {
	case "status":
		return runDOStatus(e, args[1:])
	case "pin", "unpin":
		return runDOPin(e, args[0], args[1:])
	}
	return usagef("unknown do command %q: want status, pin or unpin (see imepipe do --help)", args[0])
}

func runDOStatus(e *env, args []string) error {
	fs := newFlags(e, "do status")
	root := rootFlag(fs)
	jsonOut := fs.Bool("json", false, "print one JSON document (the records)")
	table := fs.Bool("table", false, "print the records as Format-Table does")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("unexpected argument %q (see imepipe do status --help)", rest[0])
	}
	if *jsonOut && *table {
		return usagef("--json and --table do not go together")
	}
	if err := orchestrate.CheckRoot(*root); err != nil {
		return err
	}
	dir := orchestrate.LayoutOf(*root).DOCache
	recs, err := peer.ReadStatus(dir)
	if err != nil {
		return err
	}
	if *jsonOut {
		if recs == nil {
			recs = []fetch.Status{}
		}
		return writeJSON(e, recs)
	}
	pol, ok, err := peer.ReadPolicy(dir)
	if err != nil {
		return err
	}
	if *table {
		err = formatTable(e.stdout, recs)
	} else {
		err = formatList(e.stdout, recs)
	}
	if err != nil || !ok {
		return err
	}
	return formatList(e.stdout, []cacheSummary{summarize(pol, recs)})
}

// runDOPin pins (or unpins) a file of the DO cache, as
// Set-DeliveryOptimizationStatus -FileId ID -Pin does.
func runDOPin(e *env, verb string, args []string) error {
	fs := newFlags(e, "do "+verb)
	root := rootFlag(fs)
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usagef("want: do %s [--root DIR] FILEID", verb)
	}
	if err := orchestrate.CheckRoot(*root); err != nil {
		return err
	}
	return peer.SetPinned(orchestrate.LayoutOf(*root).DOCache, rest[0], verb == "pin")
}
