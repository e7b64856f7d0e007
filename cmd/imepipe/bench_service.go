package main

import (
	"context"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/imepipe/imepipe/bench/load"
	"github.com/imepipe/imepipe/internal/pgtest"
)

// runBenchService is `imepipe bench service`.
func runBenchService(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "bench service")
	agents := fs.Int("agents", load.DefaultAgents, "simulated agents")
	rounds := fs.Int("rounds", load.DefaultRounds, "requests of each kind per agent")
	conc := fs.Int("concurrency", load.DefaultConcurrency, "requests in flight at once, all agents together")
	storeKind := fs.String("store", "both", "`STORE` to measure: both, bbolt or postgres")
	pgURL := fs.String("postgres", "", "PostgreSQL `URL` of a database to use, empty at the start; the one-server and two-server runs share it (default: a private cluster in a temp folder)")
	out := fs.String("out", "", "work folder `DIR` (apps, each server's data); default: a temp folder, removed at the end")
	jsonOut := fs.Bool("json", false, "print one JSON document")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(rest) > 0:
		return usagef("unexpected argument %q (see imepipe bench service --help)", rest[0])
	case *agents < 1:
		return badValue("agents", fmt.Sprint(*agents), "want at least 1")
	case *rounds < 1:
		return badValue("rounds", fmt.Sprint(*rounds), "want at least 1")
	case *conc < 1:
		return badValue("concurrency", fmt.Sprint(*conc), "want at least 1")
	case *storeKind != "both" && *storeKind != "bbolt" && *storeKind != "postgres":
		return badValue("store", *storeKind, "want both, bbolt or postgres")
	}
	if *out != "" { // "": the bench's own folder
		if err := checkOut(*out); err != nil {
			return err
		}
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("bench: find the imepipe binary: %w", err)
	}
	dir := *out
	if dir == "" {
		if dir, err = os.MkdirTemp("", "imepipe-bench-service-"); err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		defer os.RemoveAll(dir)
	}
	logf := func(format string, a ...any) { sayf(e.stderr, "bench service: "+format, a...) }
	base := load.Config{Agents: *agents, Rounds: *rounds, Concurrency: *conc, Dir: dir, Exe: exe, Logf: logf}
	var results []load.Result
	if *storeKind != "postgres" {
		cfg := base
		cfg.Store = "bbolt"
		r, err := load.Run(ctx, cfg)
		if err != nil {
			return benchFailed(ctx, err)
		}
		results = append(results, r)
	}
	if *storeKind != "bbolt" {
		newDB := func() (string, error) { return *pgURL, nil }
		if *pgURL == "" {
			bin := pgtest.Bin()
			if bin == "" {
				return fmt.Errorf("bench: PostgreSQL is not installed (make deps installs it) and --postgres gives no database")
			}
			logf("starting a private PostgreSQL cluster")
			pg, err := pgtest.Launch(bin)
			if err != nil {
				return err
			}
			defer pg.Stop()
			newDB = pg.CreateDatabase
		}
		for _, servers := range []int{1, 2} {
			url, err := newDB()
			if err != nil {
				return err
			}
			cfg := base
			cfg.Store, cfg.Servers = url, servers
			r, err := load.Run(ctx, cfg)
			if err != nil {
				return benchFailed(ctx, err)
			}
			results = append(results, r)
		}
	}
	if *jsonOut {
		return writeJSON(e, results)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "store\tservers\trequest\trequests\terrors\treq/s\tp50 ms\tp99 ms\t\n")
	for _, r := range results {
		for _, o := range append([]load.Op{r.Enroll}, r.Ops...) {
			fmt.Fprintf(tw, "%s\t%d\t%s\t%d\t%d\t%.0f\t%.1f\t%.1f\t\n", r.Store, r.Servers, o.Name, o.Requests, o.Errors, o.PerSecond, o.P50Ms, o.P99Ms)
		}
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	fmt.Fprintf(e.stdout, "%d agents, %d requests of each kind per agent, %d in flight\n", *agents, *rounds, *conc)
	return nil
}
