package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"

	"github.com/imepipe/imepipe/internal/errtext"
	"github.com/imepipe/imepipe/orchestrate"
	"github.com/imepipe/imepipe/orchestrate/state"
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
				return usagef("--root needs a value (see imepipe reg --help)")
			}
			*root, i = args[i+1], i+1
		case strings.HasPrefix(a, "--root=") || strings.HasPrefix(a, "-root="):
			*root = a[strings.IndexByte(a, '=')+1:]
		case a == "--json" || a == "-json":
			*jsonOut = true
		case strings.HasPrefix(a, "-"): // reg.exe's options start with /, keys never with -
			return usagef("unknown flag %s (see imepipe reg --help)", a)
		default:
			rest = append(rest, a)
		}
	}
	const usage = "usage: imepipe reg add|query|delete KEY [/v NAME | /ve | /va] [/t TYPE] [/d DATA] [/f] [--root DIR] [--json]"
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
		return connectErr(ctx, *root, err)
	}
	defer closer.Close()
	res, err := c.Reg(ctx, req)
	if err != nil {
		return regError(err)
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
			fmt.Fprintf(e.stdout, "    %s    %s    %s\n", name, v.Type, regData(v))
		}
		for _, s := range res.Subkeys {
			fmt.Fprintf(e.stdout, "\n%s\\%s\n", res.Key.Path, s)
		}
	default:
		fmt.Fprintln(e.stdout, "The operation completed successfully.")
	}
	return nil
}

// regData is a value's data as reg.exe query prints it: REG_DWORD and
// REG_QWORD in hex (0x10), REG_BINARY as upper-case hex digits,
// REG_MULTI_SZ's entries joined by \0, the rest as stored.
func regData(v state.RegValue) string {
	switch v.Type {
	case state.RegDWORD, state.RegQWORD:
		if n, err := v.Uint(); err == nil {
			return "0x" + strconv.FormatUint(n, 16)
		}
	case state.RegBinary:
		return strings.ToUpper(v.Data)
	case state.RegMultiSZ:
		return strings.ReplaceAll(v.Data, "\x00", `\0`)
	}
	return v.Data
}

// regError is the line of a registry request the agent refused: a key
// or value that is not there (exit 1) or one reg.exe would refuse, a bad
// root, type or data (a usage error, exit 2), in the store's words less
// its package's name; other errors pass unchanged.
func regError(err error) error {
	switch {
	case errors.Is(err, state.ErrBadKey):
		return usagef("%s (see imepipe reg --help)", withoutLayers(err))
	case errors.Is(err, state.ErrNotFound):
		return &reasonErr{msg: withoutLayers(err), err: err}
	}
	return err
}

// withoutLayers is err's text less the package names that lead it
// ("orchestrate: ", "state: "), which mean nothing to a user.
func withoutLayers(err error) string { return errtext.Trim(err.Error(), "orchestrate: ", "state: ") }
