package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/imepipe/imepipe/orchestrate"
)

func init() {
	register("reg", "reg add|query|delete KEY [/v NAME|/ve|/va] [/t TYPE] [/d DATA] [/f]: the agent's emulated registry", runReg)
}

// runReg parses reg.exe-style arguments: /v NAME, /ve, /va, /t TYPE,
// /d DATA, /f (accepted; nothing prompts), plus --root DIR and --json.
func runReg(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "reg")
	root := rootFlag(fs)
	jsonOut := fs.Bool("json", false, "print the key as one JSON document (query)")
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case isHelp(a):
			writeHelp(e.stdout, "reg", fs)
			return flag.ErrHelp
		case a == "--root" || a == "-root":
			if i+1 >= len(args) {
				return usagef("flag needs an argument: --root DIR (see imepipe reg --help)")
			}
			*root, i = args[i+1], i+1
		case strings.HasPrefix(a, "--root=") || strings.HasPrefix(a, "-root="):
			*root = a[strings.IndexByte(a, '=')+1:]
		case a == "--json" || a == "-json":
			*jsonOut = true
		case strings.HasPrefix(a, "-"): // reg.exe's options start with /, keys never with -
			return usagef("flag provided but not defined: %s (see imepipe reg --help)", a)
		default:
			rest = append(rest, a)
		}
	}
	const usage = "usage: imepipe reg add|query|delete KEY [/v NAME | /ve | /va] [/t TYPE] [/d DATA] [/f] [--root DIR]"
	if len(rest) < 2 {
		return usagef(usage)
	}
	req := orchestrate.RegRequest{Action: strings.ToLower(rest[0]), Key: rest[1]}
	switch req.Action {
	case "add", "query", "delete":
	default:
		return usagef(usage)
	}
	for i := 2; i < len(rest); i++ {
		opt := strings.ToLower(rest[i])
		need := func() (string, error) {
			if i+1 >= len(rest) {
				return "", usagef("%s needs a value", rest[i])
			}
			i++
			return rest[i], nil
		}
		var err error
		switch opt {
		case "/v":
			req.HasValue = true
			req.Value, err = need()
		case "/ve":
			req.HasValue, req.Value = true, ""
		case "/va":
			req.AllVals = true
		case "/t":
			req.Type, err = need()
		case "/d":
			req.Data, err = need()
		case "/f", "/s":
		default:
			return usagef("unknown option %q; %s", rest[i], usage)
		}
		if err != nil {
			return err
		}
	}
	if (req.Type != "" || req.Data != "") && req.Action != "add" {
		return usagef("/t and /d go with add")
	}
	if req.AllVals && req.Action != "delete" {
		return usagef("/va goes with delete")
	}
	c, closer, err := connect(ctx, *root)
	if err != nil {
		return err
	}
	defer closer.Close()
	res, err := c.Reg(ctx, req)
	if err != nil {
		return err
	}
	if *jsonOut {
		return writeJSON(e, res)
	}
	switch req.Action {
	case "query":
		fmt.Fprintf(e.stdout, "\n%s\n", res.Key.Path)
		for _, v := range res.Key.Values {
			name := v.Name
			if name == "" {
				name = "(Default)"
			}
			fmt.Fprintf(e.stdout, "    %s    %s    %s\n", name, v.Type, strings.ReplaceAll(v.Data, "\x00", `\0`))
		}
		for _, s := range res.Subkeys {
			fmt.Fprintf(e.stdout, "\n%s\\%s\n", res.Key.Path, s)
		}
	default:
		fmt.Fprintln(e.stdout, "The operation completed successfully.")
	}
	return nil
}
