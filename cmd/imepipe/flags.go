package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/dustin/go-humanize"
)

// helpOut holds, for each FlagSet newFlags made, the stdout its --help
// goes to (the flag package has no place for a second writer).
var helpOut sync.Map // *flag.FlagSet → io.Writer

// newFlags returns a FlagSet for the subcommand name ("grs", "do status")
// that prints nothing itself: parse it with parseFlags, which turns a bad
// flag into a one-line usage error (exit 2) and -h/--help into the
// command's help on stdout (exit 0).
func newFlags(e *env, name string) *flag.FlagSet {
	fs := flag.NewFlagSet("imepipe "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	helpOut.Store(fs, e.stdout)
	return fs
}

// cmdName is the subcommand a FlagSet from newFlags belongs to.
func cmdName(fs *flag.FlagSet) string { return strings.TrimPrefix(fs.Name(), "imepipe ") }

// parseFlags parses args, allowing flags after positional arguments
// ("unpack FILE -o DIR"), and returns the positional arguments. A bad
// value comes back as badValue's line ("invalid value "x" for --size: not
// a size (e.g. 64MiB)"), any other flag error as the flag package's line
// with a pointer to --help; --help prints the help and returns
// flag.ErrHelp.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var bad error
	restore := explainValues(fs, &bad)
	defer restore()
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			switch {
			case errors.Is(err, flag.ErrHelp):
				restore()
				printHelp(fs)
				return nil, err
			case bad != nil:
				return nil, bad
			}
			return nil, usagef("%s (see imepipe %s --help)", flagError(err), cmdName(fs))
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// flagError words the flag package's own errors as our lines spell
// flags: "flag provided but not defined: -bogus" becomes "unknown flag
// --bogus", "flag needs an argument: -o" becomes "-o needs a value".
// It only rewords them; nothing decides on the text.
func flagError(err error) string {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
		return "unknown flag " + flagName(strings.TrimLeft(name, "-"))
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: "); ok {
		return flagName(strings.TrimLeft(name, "-")) + " needs a value"
	}
	return msg
}

// isHelp reports whether arg asks for help.
func isHelp(arg string) bool {
	return arg == "-h" || arg == "-help" || arg == "--help"
}

// flagName spells a flag as its help does: -o for one letter, --size
// for longer names.
func flagName(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// badValue is the one usage line for a flag value that is not accepted:
// invalid value "banana" for --size: not a size (e.g. 64MiB).
func badValue(name, value, what string) error {
	return usagef("invalid value %q for %s: %s", value, flagName(strings.TrimLeft(name, "-")), what)
}

// explainValues wraps every flag of fs so that a value its Set refuses
// is reported through badValue, saying what the flag accepts instead of
// strconv's words; restore puts the original values back (for
// PrintDefaults, which looks at their types).
func explainValues(fs *flag.FlagSet, bad *error) (restore func()) {
	orig := map[*flag.Flag]flag.Value{}
	fs.VisitAll(func(f *flag.Flag) {
		orig[f] = f.Value
		ex := explained{Value: f.Value, name: f.Name, bad: bad}
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			f.Value = explainedBool{ex}
		} else {
			f.Value = ex
		}
	})
	return func() {
		for f, v := range orig {
			f.Value = v
		}
	}
}

// explained is a flag.Value whose Set failure is recorded as a badValue.
type explained struct {
	flag.Value
	name string
	bad  *error
}

func (x explained) Set(s string) error {
	err := x.Value.Set(s)
	if err != nil && *x.bad == nil {
		*x.bad = badValue(x.name, s, accepts(x.Value, err))
	}
	return err
}

// explainedBool keeps a boolean flag usable without a value (-q).
type explainedBool struct{ explained }

func (explainedBool) IsBoolFlag() bool { return true }

// accepts says what a flag of v's kind takes, for badValue.
func accepts(v flag.Value, err error) string {
	g, ok := v.(flag.Getter)
	if !ok {
		return err.Error()
	}
	switch g.Get().(type) {
	case bool:
		return "not true or false"
	case int, int64:
		return "not a whole number"
	case uint, uint64:
		return "not a whole number ≥ 0"
	case float64:
		return "not a number"
	case time.Duration:
		return "not a duration (e.g. 90s, 5m, 1h)"
	}
	return err.Error()
}

// parseSize reads 16MiB, 25MB, 4096 and the like.
func parseSize(s string) (int64, error) {
	n, err := humanize.ParseBytes(s)
	if err != nil {
		return 0, err
	}
	if n > math.MaxInt64>>1 {
		return 0, errors.New("too large")
	}
	return int64(n), nil
}

// sizeFlag reads the size-valued flag name: its value v must be a size
// of at least min bytes, else badValue says so.
func sizeFlag(name, v string, min int64) (int64, error) {
	n, err := parseSize(v)
	switch {
	case err != nil:
		return 0, badValue(name, v, "not a size (e.g. 64MiB)")
	case n < min:
		return 0, badValue(name, v, fmt.Sprintf("want at least %s", humanize.IBytes(uint64(min))))
	}
	return n, nil
}
