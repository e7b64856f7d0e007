package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/imepipe/imepipe/bench"
	"github.com/imepipe/imepipe/bench/e2e"
)

func init() {
	// When bench re-runs this binary as one of its timed children
	// (e2e.EnvChild set), run that and exit.
	e2e.ChildMain()
}

// runBenchE2E is `imepipe bench [flags]`: the whole pipeline, the IME's
// way and imepipe's, with DO bytes per source.
func runBenchE2E(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "bench")
	size := fs.String("size", "1GiB", "setup folder `SIZE` (1GiB, 300MiB, …)")
	profile := fs.String("profile", string(bench.Installer), "dataset `PROFILE`: installer, many-small or single-large")
	seed := fs.Uint64("seed", 1, "dataset seed")
	rate := fs.String("origin-rate", "0", "origin egress cap, bytes per second (`RATE`: 100MiB, …), the internet link (0: loopback speed)")
	conns := fs.Int("connections", 0, "connections per agent download (0: fetch's default)")
	runs := fs.Int("runs", 3, "rounds of every run, interleaved; results are medians")
	only := fs.String("only", "", "comma-separated `RUNS` to time ("+strings.Join(e2eRuns, ", ")+"; default all)")
	keep := fs.Bool("keep", false, "keep the runs' roots (agents' CMTrace logs, state.db, DO caches) in --out/runs")
	jsonOut := fs.Bool("json", false, "print one JSON document")
	useTLS := fs.Bool("tls", false, "serve the service API over HTTPS (a generated CA the agents trust)")
	out := fs.String("out", filepath.Join(bench.DefaultOut(), "e2e"), "`DIR` for the cached package, the runs and the report (json, txt, svg chart)")
	pprofOn := fs.Bool("pprof", false, "write CPU profiles of every run's process and of the bench's own (origin, cache, LAN seed) into --out/pprof")
	n, p, err := parseBenchFlags(fs, args, size, profile)
	if err != nil {
		return err
	}
	r, err := parseRate("origin-rate", *rate, true)
	if err != nil {
		return err
	}
	if *seed == 0 {
		return badValue("seed", "0", "want a seed other than 0")
	}
	if *runs < 1 {
		return badValue("runs", fmt.Sprint(*runs), "want at least 1")
	}
	if *conns < 0 {
		return badValue("connections", fmt.Sprint(*conns), "want 0 or more")
	}
	picked, err := parseRuns(*only)
	if err != nil {
		return err
	}
	if err := checkOut(*out); err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("bench: find the imepipe binary: %w", err)
	}
	cfg := e2e.Config{Size: n, Profile: p, Seed: *seed, Dir: *out, OriginRate: r, Connections: *conns, Runs: *runs, Keep: *keep, TLS: *useTLS, Exe: exe,
		AgentMemoryLimit: agentMemory, UnpackMemoryLimit: leanMemory}
	if *pprofOn {
		cfg.ProfileDir = filepath.Join(*out, "pprof")
	}
	cfg.Only = picked
	bp := newBenchProgress(e, "bench", !*jsonOut)
	if !*jsonOut {
		cfg.Logf, cfg.Step = bp.Logf, bp.Step
	}
	rep, err := e2e.Run(ctx, cfg)
	bp.Done()
	if err != nil {
		return benchFailed(ctx, err)
	}
	return reportBench(e, *out, *jsonOut, rep)
}

// e2eRuns are the runs of the end-to-end bench, in the order it times them.
var e2eRuns = []string{e2e.NameSequential, e2e.NameImepipe, e2e.NameMCC, e2e.NameLAN}

// parseRuns reads --only: comma-separated names of e2eRuns (spaces
// around a name allowed), checked before any dataset is generated;
// empty is every run (nil).
func parseRuns(only string) ([]string, error) {
	if strings.TrimSpace(only) == "" {
		return nil, nil
	}
	var out []string
	for _, name := range strings.Split(only, ",") {
		name = strings.TrimSpace(name)
		if !slices.Contains(e2eRuns, name) {
			return nil, badValue("only", only, "want one or more of "+strings.Join(e2eRuns, ", ")+", comma-separated")
		}
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out, nil
}
