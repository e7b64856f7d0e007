package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"

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
	recs, err := readDOStatus(dir, func(path string, err error) {
		sayf(e.stderr, "imepipe do status: warning: %s left out: not a readable DO record (%v)", path, err)
	})
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
	id := rest[0]
	if peer.CheckID(id) != nil {
		return usagef("%q is not a DoFileId (imepipe do status --root DIR lists the FileIds)", id)
	}
	if err := orchestrate.CheckRoot(*root); err != nil {
		return err
	}
	dir := orchestrate.LayoutOf(*root).DOCache
	err = peer.SetPinned(dir, id, verb == "pin")
	if errors.Is(err, peer.ErrUnknown) {
		return &reasonErr{msg: fmt.Sprintf("%s: no DO record of that FileId in %s (imepipe do status --root %s lists them)", id, dir, shellWord(*root)), err: err}
	}
	return err
}

// readDOStatus is peer.ReadStatus of an agent's DOCache folder dir, with
// a folder not there read as no records: an agent makes DOCache at its
// start, but a root whose DO cache was deleted (Delete Delivery
// Optimization Files does that on Windows) has none, and
// Get-DeliveryOptimizationStatus then lists nothing rather than failing.
// A damaged record is left out, with a call of skipped.
func readDOStatus(dir string, skipped func(path string, err error)) ([]fetch.Status, error) {
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return peer.ReadStatusFunc(dir, skipped)
}
