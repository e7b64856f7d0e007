package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/imepipe/imepipe/decrypt"
)

func init() {
	register("version", "print imepipe's version, commit and Go toolchain", runVersion)
}

// runVersion prints one line a bug report can quote: the module's
// version (or the commit it was built from, "+dirty" with uncommitted
// changes), the Go toolchain and platform, and the IntuneWinAppUtil
// ToolVersion that pack writes into Detection.xml.
func runVersion(_ context.Context, e *env, args []string) error {
	fs := newFlags(e, "version")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return usagef("takes no arguments (see imepipe version --help)")
	}
	writeVersion(e.stdout)
	return nil
}

func writeVersion(w io.Writer) {
	version, commit := "(devel)", ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v := bi.Main.Version; v != "" {
			version = v
		}
		var dirty bool
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value[:min(12, len(s.Value))]
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if commit != "" && dirty {
			commit += "+dirty"
		}
	}
	if commit != "" {
		version += " " + commit
	}
	fmt.Fprintf(w, "imepipe %s (%s %s/%s; packs as IntuneWinAppUtil %s)\n",
		version, runtime.Version(), runtime.GOOS, runtime.GOARCH, decrypt.ToolVersion)
}
