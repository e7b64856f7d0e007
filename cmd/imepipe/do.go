package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"reflect"

	"github.com/imepipe/imepipe/fetch"
	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/orchestrate"
	"github.com/imepipe/imepipe/peer"
)

func init() {
	register("do", "Delivery Optimization: do status [--root DIR] [--json]", runDO)
}

func runDO(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 && (isHelp(args[0]) || args[0] == "help") {
		writeHelp(e.stdout, "do", nil)
		return flag.ErrHelp
	}
	if len(args) == 0 || args[0] != "status" {
		return usagef("want: do status [--root DIR] [--json] (see imepipe do --help)")
	}
	fs := newFlags(e, "do status")
	root := rootFlag(fs)
	jsonOut := fs.Bool("json", false, "print one JSON document")
	rest, err := parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("unexpected argument %q (see imepipe do status --help)", rest[0])
	}
	if err := orchestrate.CheckRoot(*root); err != nil {
		return err
	}
	recs, err := peer.ReadStatus(filepath.Join(*root, "DOCache"))
	if err != nil {
		return err
	}
	if *jsonOut {
		if recs == nil {
			recs = []fetch.Status{}
		}
		return writeJSON(e, recs)
	}
	return formatList(e.stdout, recs)
}

// formatList prints records as PowerShell's Format-List does: a blank
// line, then "Name : value" lines with the names padded to one width.
func formatList(w io.Writer, recs []fetch.Status) error {
	t := reflect.TypeOf(fetch.Status{})
	width := 0
	for i := range t.NumField() {
		width = max(width, len(t.Field(i).Name))
	}
	for _, r := range recs {
		if _, err := fmt.Fprintln(w); err != nil {
			return err
		}
		v := reflect.ValueOf(r)
		for i := range t.NumField() {
			val := v.Field(i).Interface()
			if m, ok := val.(imeapi.DownloadMode); ok {
				val = int(m) // DO prints the number
			} else if s, ok := val.(fmt.Stringer); ok {
				val = s.String()
			}
			if _, err := fmt.Fprintf(w, "%-*s : %v\n", width, t.Field(i).Name, val); err != nil {
				return err
			}
		}
	}
	if len(recs) > 0 {
		_, err := fmt.Fprintln(w)
		return err
	}
	return nil
}
