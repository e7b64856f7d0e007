package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/imepipe/imepipe/bench"
	"github.com/imepipe/imepipe/bench/e2e"
)

// maxInstallSeconds bounds --install-seconds: a day, far past any
// benchmark worth running, and far inside a time.Duration.
const maxInstallSeconds = 86400

// runBenchSync is `imepipe bench sync`: one agent's sync of many required
// apps with its look-ahead against the agent one app after another and
// the IME's order (download, its passes, install, next app).
func runBenchSync(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "bench sync")
	apps := fs.Int("apps", 10, "required apps in the sync")
	size := fs.String("size", "100MiB", "setup folder `SIZE` of each app (100MiB, 1GiB, …)")
	rate := fs.String("origin-rate", "0", "origin egress cap, bytes per second (`RATE`: 100MiB, …), the internet link (0: loopback speed)")
	install := fs.Float64("install-seconds", 2, "`SECONDS` each installer runs (a sleep in the installer; 0 to 86400)")
	runs := fs.Int("runs", 3, "rounds of the three orders, interleaved; results are medians")
	jsonOut := fs.Bool("json", false, "print one JSON document")
	keep := fs.Bool("keep", false, "keep the runs' roots (agents' CMTrace logs, state.db, IMECache) in --out/runs")
	out := fs.String("out", filepath.Join(bench.DefaultOut(), "sync"), "`DIR` for the cached packages, the runs and the report (json, txt, svg chart)")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("unexpected argument %q (see imepipe bench sync --help)", rest[0])
	}
	n, err := sizeFlag("size", *size, bench.MinSize)
	if err != nil {
		return err
	}
	r, err := parseRate("origin-rate", *rate, true)
	if err != nil {
		return err
	}
	switch {
	case *apps < 1:
		return badValue("apps", fmt.Sprint(*apps), "want at least 1")
	case !(*install >= 0 && *install <= maxInstallSeconds): // NaN and ±Inf too
		return badValue("install-seconds", fmt.Sprint(*install), fmt.Sprintf("want a number of seconds from 0 to %d", maxInstallSeconds))
	case *runs < 1:
		return badValue("runs", fmt.Sprint(*runs), "want at least 1")
	}
	if err := checkOut(*out); err != nil {
		return err
	}
	cfg := e2e.SyncConfig{Apps: *apps, Size: n, OriginRate: r, Install: time.Duration(*install * float64(time.Second)), Runs: *runs, Dir: *out, Keep: *keep}
	bp := newBenchProgress(e, "bench sync", !*jsonOut)
	if !*jsonOut {
		cfg.Logf, cfg.Step = bp.Logf, bp.Step
	}
	rep, err := e2e.Sync(ctx, cfg)
	bp.Done()
	if err != nil {
		return benchFailed(ctx, err)
	}
	return reportBench(e, *out, *jsonOut, rep)
}
