package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// exitStatusLine closes every help text: what a script can expect of $?.
const exitStatusLine = "exit status: 0 success, 1 failure (one line on stderr), 2 usage (a bad flag or argument), 130 stopped by Ctrl-C (143 by SIGTERM; 0xC000013A on Windows)."

// writeFlags lists fs's flags as the README and the error lines spell
// them (-o, --keys-file), each with its value's name and default, its
// usage indented below. flag.PrintDefaults spells every flag with one
// dash, which is not how any of our messages name them.
func writeFlags(w io.Writer, fs *flag.FlagSet) {
	var b strings.Builder
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		fmt.Fprintf(&b, "  %s", flagName(f.Name))
		if v := valueName(name); v != "" {
			fmt.Fprintf(&b, " %s", v)
		}
		if d := f.DefValue; d != "" && d != "0" && d != "false" && d != "0s" {
			fmt.Fprintf(&b, " (default %s)", d)
		}
		fmt.Fprintf(&b, "\n    \t%s\n", strings.ReplaceAll(usage, "\n", "\n    \t"))
	})
	if b.Len() > 0 {
		fmt.Fprintf(w, "\nflags:\n%s", b.String())
	}
}

// valueName is the placeholder shown after a flag: the back-quoted name
// of its usage (FILE, DIR) as is, Go's type names as a reader knows them.
func valueName(name string) string {
	switch name {
	case "", "bool":
		return ""
	case "string", "value":
		return "VALUE"
	case "int", "uint", "int64", "uint64":
		return "N"
	case "float":
		return "X"
	case "duration":
		return "DURATION"
	}
	return name
}
