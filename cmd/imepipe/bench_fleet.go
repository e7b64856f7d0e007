package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/imepipe/imepipe/bench"
	"github.com/imepipe/imepipe/bench/fleet"
	"github.com/imepipe/imepipe/fetch"
	"github.com/imepipe/imepipe/imeapi"
)

func init() {
	// When bench fleet re-runs this binary as one of its agents
	// (fleet.EnvChild set), run that and exit.
	fleet.ChildMain()
}

// runBenchFleet is `imepipe bench fleet`.
func runBenchFleet(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "bench fleet")
	agents := fs.Int("agents", 20, "agents fetching at once")
	size := fs.String("size", "1GiB", "package `SIZE` (1GiB, 64MiB, …)")
	bad := fs.Int("bad-peers", 0, "agents that serve corrupt pieces")
	mode := fs.Int("mode", int(imeapi.ModeLAN), "DO download mode of the measured run (0, 1, 2, 3, 99, 100)")
	rate := fs.String("origin-rate", "100MiB", "origin egress cap, bytes per second (`RATE`), shared by all agents (the internet link)")
	baseline := fs.Bool("baseline", true, "also run mode 0 as the baseline")
	group := fs.String("group-id", "", "DO GroupID of every agent (`ID`)")
	cacheHost := fs.String("cache-host", "", "Connected Cache `HOST` every agent uses")
	conns := fs.Int("connections", 4, "connections per agent")
	out := fs.String("out", "", "work folder `DIR` (package cache, service data, agent roots); default: the bench folder")
	jsonOut := fs.Bool("json", false, "print one JSON document")
	useTLS := fs.Bool("tls", false, "serve the service API over HTTPS (a generated CA the agents trust)")
	verbose := fs.Bool("v", false, "log swarm events to stderr")
	inProcess := fs.Bool("in-process", false, "run the agents in this process, not a process each (large fleets; no per-agent peak RSS and CPU)")
	priority := fs.String("priority", "foreground", "DO `PRIORITY` of every agent's download: foreground or background")
	doPolicy := doPolicyFlags(fs)
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	pol, maxUpload, err := doPolicy()
	if err != nil {
		return err
	}
	switch *priority {
	case "foreground":
	case "background":
		pol.Priority = fetch.Background
	default:
		return badValue("priority", *priority, "want foreground or background")
	}
	if len(rest) > 0 {
		return usagef("unexpected argument %q (see imepipe bench fleet --help)", rest[0])
	}
	n, err := sizeFlag("size", *size, bench.MinSize) // the smallest dataset bench generates
	if err != nil {
		return err
	}
	r, err := parseRate("origin-rate", *rate, false)
	if err != nil {
		return err
	}
	switch {
	case *agents < 1:
		return badValue("agents", fmt.Sprint(*agents), "want at least 1")
	case *bad < 0 || *bad >= *agents:
		return badValue("bad-peers", fmt.Sprint(*bad), "want 0 ≤ --bad-peers < --agents")
	case *conns < 0:
		return badValue("connections", fmt.Sprint(*conns), "want 0 or more (0: 4)")
	}
	if err := imeapi.DownloadMode(*mode).Check(); err != nil {
		return badValue("mode", fmt.Sprint(*mode), "want 0, 1, 2, 3, 99 or 100")
	}
	if *out != "" { // "": the bench's own folder
		if err := checkOut(*out); err != nil {
			return err
		}
	}
	cfg := fleet.Config{Agents: *agents, Size: n, BadPeers: *bad, Mode: imeapi.DownloadMode(*mode), OriginRate: r,
		GroupID: *group, CacheHost: *cacheHost, Baseline: *baseline, Dir: *out, Connections: *conns, TLS: *useTLS,
		Policy: pol, UploadRate: maxUpload, InProcess: *inProcess}
	if cfg.Exe, err = os.Executable(); err != nil {
		return fmt.Errorf("bench: find the imepipe binary: %w", err)
	}
	bp := newBenchProgress(e, "bench fleet", !*jsonOut)
	cfg.Step = bp.Step
	if *verbose {
		cfg.Logf, cfg.Verbose = bp.Logf, true
	}
	rep, err := fleet.Run(ctx, cfg)
	bp.Done()
	if err != nil {
		return benchFailed(ctx, err)
	}
	if *jsonOut {
		return writeJSON(e, rep)
	}
	ratio := func(b int64) float64 { return float64(b) / float64(max(rep.Size, 1)) }
	fmt.Fprintf(e.stdout, "%d agents, %s package, mode %d, origin capped at %s/s\n", rep.Agents, humanize.IBytes(uint64(rep.Size)), rep.Mode, humanize.IBytes(uint64(rep.OriginRate)))
	fmt.Fprintf(e.stdout, "mode %d: origin sent %s (%.2f × size), done in %s, all verified: %v, banned peers: %s\n",
		rep.Mode, humanize.IBytes(uint64(rep.OriginBytes)), ratio(rep.OriginBytes), secs(rep.CompletionS), rep.AllVerified, bannedText(rep.BannedPeers, rep.Banned))
	fmt.Fprintf(e.stdout, "  per agent p50 %s, p95 %s; PercentPeerCaching %.1f%%; served per agent max %s, median %s; busy answers %d; Array calls %d\n",
		secs(rep.P50S), secs(rep.P95S), rep.PercentPeerCaching, humanize.IBytes(uint64(rep.UploadMaxBytes)),
		humanize.IBytes(uint64(rep.UploadMedianBytes)), rep.PeerBusy, rep.ArrayCalls)
	fmt.Fprintf(e.stdout, "  agent peak RSS max %s, median %s (each its own process); origin CPU %.2f s; service and origin process peak RSS %s\n",
		humanize.IBytes(uint64(rep.AgentPeakRSSMax)), humanize.IBytes(uint64(rep.AgentPeakRSSMedian)), rep.OriginCPUS, humanize.IBytes(uint64(rep.PeakRSS)))
	for _, a := range rep.PerAgent {
		fmt.Fprintf(e.stdout, "  %s: done in %s, verified %v, peak RSS %s, CPU %.2f s\n", a.Agent, secs(a.CompletionS), a.Verified, humanize.IBytes(uint64(a.PeakRSS)), a.CPUS)
	}
	t := rep.Telemetry
	fmt.Fprintf(e.stdout, "  DO records vs the fleet's counts: agents differing in NumPeers %d, BytesFromHttp %d, BytesFromLanPeers %d, BytesToLanPeers %d (largest difference %s)\n",
		t.NumPeersMismatch, t.FromHttpMismatch, t.FromLanPeersMismatch, t.ToLanPeersMismatch, humanize.IBytes(uint64(t.MaxDiffBytes)))
	if b := rep.Baseline; b != nil {
		fmt.Fprintf(e.stdout, "mode %d: origin sent %s (%.2f × size), done in %s, all verified: %v\n",
			b.Mode, humanize.IBytes(uint64(b.OriginBytes)), ratio(b.OriginBytes), secs(b.CompletionS), b.AllVerified)
	}
	return nil
}

// bannedText is the summary's count of banned peers, with their names
// when there are some: "0", "2 (127.0.0.1:7681, 127.0.0.1:7682)".
func bannedText(n int, names []string) string {
	if len(names) == 0 {
		return fmt.Sprint(n)
	}
	return fmt.Sprintf("%d (%s)", n, strings.Join(names, ", "))
}

// secs is a report's seconds as a duration, to the millisecond.
func secs(s float64) time.Duration {
	return time.Duration(s * float64(time.Second)).Round(time.Millisecond)
}
