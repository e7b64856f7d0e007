package main

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/imepipe/imepipe/bench/fleet"
	"github.com/imepipe/imepipe/fetch"
	"github.com/imepipe/imepipe/peer"
)

// runBenchFleet is `imepipe bench fleet`.
func runBenchFleet(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "bench fleet")
	agents := fs.Int("agents", 20, "agents fetching at once")
	size := fs.String("size", "1GiB", "package size (1GiB, 64MiB, …)")
	bad := fs.Int("bad-peers", 0, "agents that serve corrupt pieces")
	mode := fs.Int("mode", peer.ModeLAN, "DO download mode of the measured run (0, 1, 2, 3, 99, 100)")
	rate := fs.String("origin-rate", "100MiB", "origin egress cap per second, shared by all agents (the internet link)")
	baseline := fs.Bool("baseline", true, "also run mode 0 as the baseline")
	group := fs.String("group-id", "", "DO GroupID of every agent")
	cacheHost := fs.String("cache-host", "", "Connected Cache host every agent uses")
	conns := fs.Int("connections", 4, "connections per agent")
	out := fs.String("out", "", "work folder (package cache, service data, agent roots); default: the bench folder")
	jsonOut := fs.Bool("json", false, "print one JSON document")
	useTLS := fs.Bool("tls", false, "serve the service API over HTTPS (a generated CA the agents trust)")
	verbose := fs.Bool("v", false, "log swarm events to stderr")
	priority := fs.String("priority", "foreground", "DO priority of every agent's download: foreground or background")
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
		return usagef("--priority %q: want foreground or background", *priority)
	}
	if len(rest) > 0 {
		return usagef("unexpected argument %q", rest[0])
	}
	n, err := humanize.ParseBytes(*size)
	if err != nil || n == 0 || n > math.MaxInt64 {
		return usagef("--size %q is not a size", *size)
	}
	r, err := parseRate("origin-rate", *rate, false)
	if err != nil {
		return err
	}
	if *agents < 1 || *bad < 0 || *bad >= *agents {
		return usagef("want --agents ≥ 1 and 0 ≤ --bad-peers < --agents")
	}
	if err := peer.CheckMode(*mode); err != nil {
		return usagef("--mode: %v", err)
	}
	cfg := fleet.Config{Agents: *agents, Size: int64(n), BadPeers: *bad, Mode: *mode, OriginRate: r,
		GroupID: *group, CacheHost: *cacheHost, Baseline: *baseline, Dir: *out, Connections: *conns, TLS: *useTLS,
		Policy: pol, UploadRate: maxUpload}
	if *verbose {
		cfg.Logf = func(format string, a ...any) { fmt.Fprintf(e.stderr, format+"\n", a...) }
	}
	rep, err := fleet.Run(ctx, cfg)
	if err != nil {
		return err
	}
	if *jsonOut {
		return writeJSON(e, rep)
	}
	ratio := func(b int64) float64 { return float64(b) / float64(max(rep.Size, 1)) }
	fmt.Fprintf(e.stdout, "%d agents, %s package, mode %d, origin capped at %s/s\n", rep.Agents, humanize.IBytes(uint64(rep.Size)), rep.Mode, humanize.IBytes(uint64(rep.OriginRate)))
	fmt.Fprintf(e.stdout, "mode %d: origin sent %s (%.2f × size), done in %s, all verified: %v, banned peers: %d %v\n",
		rep.Mode, humanize.IBytes(uint64(rep.OriginBytes)), ratio(rep.OriginBytes), secs(rep.CompletionS), rep.AllVerified, rep.BannedPeers, rep.Banned)
	fmt.Fprintf(e.stdout, "  per agent p50 %s, p95 %s; PercentPeerCaching %.1f%%; served per agent max %s, median %s; busy answers %d; Array calls %d; peak RSS %s\n",
		secs(rep.P50S), secs(rep.P95S), rep.PercentPeerCaching, humanize.IBytes(uint64(rep.UploadMaxBytes)),
		humanize.IBytes(uint64(rep.UploadMedianBytes)), rep.PeerBusy, rep.ArrayCalls, humanize.IBytes(uint64(rep.PeakRSS)))
	t := rep.Telemetry
	fmt.Fprintf(e.stdout, "  DO records vs the fleet's counts: agents differing in NumPeers %d, BytesFromHttp %d, BytesFromLanPeers %d, BytesToLanPeers %d (largest difference %s)\n",
		t.NumPeersMismatch, t.FromHttpMismatch, t.FromLanPeersMismatch, t.ToLanPeersMismatch, humanize.IBytes(uint64(t.MaxDiffBytes)))
	if b := rep.Baseline; b != nil {
		fmt.Fprintf(e.stdout, "mode %d: origin sent %s (%.2f × size), done in %s, all verified: %v\n",
			b.Mode, humanize.IBytes(uint64(b.OriginBytes)), ratio(b.OriginBytes), secs(b.CompletionS), b.AllVerified)
	}
	return nil
}

func secs(s float64) time.Duration {
	return time.Duration(s * float64(time.Second)).Round(time.Millisecond)
}
