// Command imepipe packs, inspects, unpacks, fetches and delivers Win32 app
// packages (.intunewin), the way the Intune Management Extension and
// Delivery Optimization do on an endpoint.
//
// Every subcommand lives in its own file and registers itself in init.
// Exit codes: 0 success, 1 failure (one clear line on stderr), 2 usage,
// 128+N for a run that signal N stopped (see stopSignal).
// Every error line, and every summary line that embeds a name, goes
// through safeLine: control characters escaped, at most maxLine runes.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
)

// command is one subcommand: its one-line synopsis and the function that runs it.
type command struct {
	synopsis string
	run      func(ctx context.Context, env *env, args []string) error
}

// env is what a subcommand sees of the process: its output streams and
// whether stdout is a terminal (progress bars only then).
type env struct {
	stdin          io.Reader // nil: none (unpack --keys-file - fails)
	stdout, stderr io.Writer
	tty            bool // stdout is a terminal
	errTTY         bool // stderr is a terminal (bench's progress bar goes there)
}

var commands = map[string]command{}

// register adds a subcommand; called from each subcommand file's init.
func register(name, synopsis string, run func(ctx context.Context, env *env, args []string) error) {
	if _, dup := commands[name]; dup {
		panic("imepipe: command registered twice: " + name)
	}
	commands[name] = command{synopsis: synopsis, run: run}
}

// usageError marks a bad invocation: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return &usageError{msg: fmt.Sprintf(format, a...)} }

func main() {
	ctx, stop := notifySignals(context.Background())
	code := run(ctx, &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, tty: isTerminal(os.Stdout), errTTY: isTerminal(os.Stderr)}, os.Args[1:])
	stop()
	os.Exit(code)
}

// run dispatches args to a subcommand and maps its error to an exit status.
func run(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 {
		printUsage(e.stderr)
		return 2
	}
	if isHelp(args[0]) || args[0] == "help" {
		if len(args) > 1 && args[0] == "help" {
			if _, ok := commands[args[1]]; ok {
				// "help bench fleet" is "bench fleet --help".
				return run(ctx, e, append(slices.Clone(args[1:]), "--help"))
			}
			sayf(e.stderr, "imepipe help: unknown command %q (see imepipe --help)", args[1])
			return 2
		}
		printUsage(e.stdout)
		return 0
	}
	if args[0] == "--version" || args[0] == "-version" {
		writeVersion(e.stdout)
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		sayf(e.stderr, "imepipe: unknown command %q (see imepipe --help)", args[0])
		return 2
	}
	err := cmd.run(ctx, e, args[1:])
	var ue *usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		sayf(e.stderr, "imepipe %s: %s", args[0], ue.msg)
		return 2
	default:
		sayf(e.stderr, "imepipe %s: %v", args[0], err)
		if code, ok := signalStatus(ctx); ok {
			return code
		}
		return 1
	}
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: imepipe COMMAND [flags] [args]")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].synopsis)
	}
	fmt.Fprintln(w, "imepipe COMMAND --help (or imepipe help COMMAND) shows a command's arguments, flags and an example.")
	fmt.Fprintln(w, exitStatusLine)
}
