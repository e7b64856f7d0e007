package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/imepipe/imepipe/bench"
)

func init() {
	register("bench", "benchmark on generated data against baselines (bench local, bench fleet, bench sync)", runBench)
}

func runBench(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return runBenchE2E(ctx, e, args) // its --help lists the benchmarks too
	}
	switch args[0] {
	case "local":
		return runBenchLocal(ctx, e, args[1:])
	case "fleet":
		return runBenchFleet(ctx, e, args[1:])
	case "service":
		return runBenchService(ctx, e, args[1:])
	case "sync":
		return runBenchSync(ctx, e, args[1:])
	case bench.StdlibCommand: // hidden: the sequential-stdlib baseline's child process
		return runBenchStdlib(ctx, e, args[1:])
	case "e2e":
		return runBenchE2E(ctx, e, args[1:])
	case "help":
		return runBenchE2E(ctx, e, []string{"--help"})
	default:
		return usagef("unknown benchmark %q (want local, fleet, service, sync, or flags for the end-to-end one)", args[0])
	}
}

// parseBenchFlags parses a benchmark's flags (no positional argument) and
// then its --size and --profile, which must point into fs.
func parseBenchFlags(fs *flag.FlagSet, args []string, size, profile *string) (int64, bench.Profile, error) {
	rest, err := parseFlags(fs, args)
	if err != nil {
		return 0, "", err
	}
	if len(rest) > 0 {
		return 0, "", usagef("unexpected argument %q (see imepipe %s --help)", rest[0], cmdName(fs))
	}
	return parseDataset(*size, *profile)
}

// checkOut is nil when dir can be a benchmark's --out: a folder, or a
// path whose nearest existing part is a folder (it is created), else
// --out's usage error, before anything is generated.
func checkOut(dir string) error {
	for p := filepath.Clean(dir); ; p = filepath.Dir(p) {
		if st, err := os.Stat(p); err == nil {
			if !st.IsDir() {
				return badValue("out", dir, shellWord(p)+" is a file, not a folder")
			}
			return nil
		}
		if filepath.Dir(p) == p {
			return nil
		}
	}
}

// parseDataset reads the --size and --profile of a generated dataset.
func parseDataset(size, profile string) (int64, bench.Profile, error) {
	n, err := sizeFlag("size", size, bench.MinSize)
	if err != nil {
		return 0, "", err
	}
	p, err := bench.ParseProfile(profile)
	if err != nil {
		return 0, "", badValue("profile", profile, "want installer, many-small or single-large")
	}
	return n, p, nil
}

// parseRate reads a bytes-per-second flag; 0 is allowed only with zeroOK.
func parseRate(name, v string, zeroOK bool) (int64, error) {
	r, err := parseSize(v)
	if err != nil || (r == 0 && !zeroOK) {
		return 0, badValue(name, v, "not a rate in bytes per second (e.g. 100MiB)")
	}
	return r, nil
}

func runBenchLocal(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "bench local")
	size := fs.String("size", "1GiB", "setup folder `SIZE` (1GiB, 300MiB, …)")
	profile := fs.String("profile", string(bench.Installer), "dataset `PROFILE`: installer, many-small or single-large")
	runs := fs.Int("runs", 3, "timed runs per contender, interleaved")
	seed := fs.Uint64("seed", 1, "dataset seed")
	jsonOut := fs.Bool("json", false, "print one JSON document")
	out := fs.String("out", bench.DefaultOut(), "`DIR` for the cached package, the run outputs and the report (json, txt, svg chart)")
	keep := fs.Bool("keep", false, "keep the setup folder and the last round's output folders")
	noTools := fs.Bool("no-tools", false, "leave out the unzip + openssl baseline")
	phases := fs.Bool("phases", false, "also time each phase of imepipe and of the stdlib baseline, in process")
	n, p, err := parseBenchFlags(fs, args, size, profile)
	if err != nil {
		return err
	}
	if *runs < 1 {
		return badValue("runs", fmt.Sprint(*runs), "want at least 1")
	}
	if *seed == 0 {
		return badValue("seed", "0", "want a seed other than 0")
	}
	if err := checkOut(*out); err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("bench: find the imepipe binary: %w", err)
	}
	cfg := bench.LocalConfig{Exe: exe, Profile: p, Size: n, Seed: *seed, Runs: *runs,
		Out: *out, Keep: *keep, NoTools: *noTools, Phases: *phases}
	bp := newBenchProgress(e, "bench local", !*jsonOut)
	if !*jsonOut {
		cfg.Log, cfg.Step = bp.Logf, bp.Step
	}
	rep, err := bench.Local(ctx, cfg)
	bp.Done()
	if err != nil {
		return benchFailed(ctx, err)
	}
	return reportBench(e, *out, *jsonOut, rep)
}

// reportBench saves rep in dir (report.json, .txt, .svg) and prints it:
// one JSON document with asJSON, else the text on stdout and where the
// files went on stderr.
func reportBench(e *env, dir string, asJSON bool, rep bench.Reporter) error {
	paths, err := bench.SaveReport(dir, rep)
	if err != nil {
		return err
	}
	if asJSON {
		return writeJSON(e, rep)
	}
	fmt.Fprintf(e.stderr, "bench: report written to %s\n", strings.Join(paths, ", "))
	return rep.WriteText(e.stdout)
}

// benchFailed is the error of a benchmark run that failed: when Ctrl-C
// or SIGTERM stopped it (ctx done), one line saying so, in place of
// whatever the killed child or the cancelled request reported; the exit
// status still comes from the signal (run's signalStatus). Other errors
// pass unchanged.
func benchFailed(ctx context.Context, err error) error {
	if ctx.Err() == nil {
		return err
	}
	return &reasonErr{msg: "interrupted; no report written", err: err}
}
