package fleet

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/imepipe/imepipe/imeapi"
)

// Run starts every agent as a child process of this test binary.
func TestMain(m *testing.M) {
	ChildMain()
	os.Exit(m.Run())
}

func smallConfig(t *testing.T) Config {
	return Config{Agents: 5, Size: 24 << 20, OriginRate: 32 << 20, Dir: t.TempDir(), Connections: 4,
		RefreshInterval: 50 * time.Millisecond, OwnerWait: 3 * time.Second, StallTimeout: 3 * time.Second, Logf: func(string, ...any) {}}
}

// TestFleetMode1: one site, 5 agents, mode 1 against the mode-0 baseline.
func TestFleetMode1(t *testing.T) {
	cfg := smallConfig(t)
	cfg.Mode, cfg.Baseline = imeapi.ModeLAN, true
	var steps [][2]int
	cfg.Step = func(done, total int) { steps = append(steps, [2]int{done, total}) }
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if want := [][2]int{{0, 2}, {1, 2}, {2, 2}}; fmt.Sprint(steps) != fmt.Sprint(want) {
		t.Errorf("Step calls %v, want %v", steps, want)
	}
	size := float64(rep.Size)
	t.Logf("mode 1: origin %.2f × size in %.2fs; mode 0: %.2f × in %.2fs",
		float64(rep.OriginBytes)/size, rep.CompletionS, float64(rep.Baseline.OriginBytes)/size, rep.Baseline.CompletionS)
	if !rep.AllVerified || !rep.Baseline.AllVerified {
		t.Fatalf("not every agent verified: %+v", rep.PerAgent)
	}
	// Coordinated back-to-source: each piece from the origin about once.
	if float64(rep.OriginBytes) > 1.25*size {
		t.Errorf("mode 1 origin bytes %d > 1.25 × %d", rep.OriginBytes, rep.Size)
	}
	// The DO records agree with what the fleet counted at each agent's
	// boundaries (ToLanPeers may differ by uploads cut short: logged).
	tm := rep.Telemetry
	if tm.NumPeersMismatch != 0 || tm.FromHttpMismatch != 0 || tm.FromLanPeersMismatch != 0 {
		t.Errorf("DO records differ from the fleet's counts: %+v", tm)
	}
	t.Logf("telemetry %+v; p50 %.2fs p95 %.2fs, PercentPeerCaching %.1f, served max %d median %d, peak RSS %d",
		tm, rep.P50S, rep.P95S, rep.PercentPeerCaching, rep.UploadMaxBytes, rep.UploadMedianBytes, rep.PeakRSS)
	// Each agent measured its own process; the origin its handlers.
	for _, a := range rep.PerAgent {
		if runtime.GOOS == "linux" && (a.PeakRSS < 1<<20 || a.PeakRSS > 1<<30 || a.CPUS <= 0) {
			t.Errorf("%s: peak RSS %d, %.3f CPU s: want its own process's", a.Agent, a.PeakRSS, a.CPUS)
		}
	}
	if runtime.GOOS == "linux" && (rep.OriginCPUS <= 0 || rep.AgentPeakRSSMax < rep.AgentPeakRSSMedian || rep.AgentPeakRSSMedian <= 0) {
		t.Errorf("origin CPU %.3f s, agents' peak RSS max %d median %d", rep.OriginCPUS, rep.AgentPeakRSSMax, rep.AgentPeakRSSMedian)
	}
	if rep.P50S <= 0 || rep.P95S < rep.P50S || rep.PercentPeerCaching <= 50 || rep.UploadMaxBytes <= 0 {
		t.Errorf("fleet figures: p50 %v p95 %v PercentPeerCaching %v upload max %d", rep.P50S, rep.P95S, rep.PercentPeerCaching, rep.UploadMaxBytes)
	}
	for _, a := range rep.PerAgent {
		if a.NumPeers == 0 || a.NumPeers >= cfg.Agents {
			t.Errorf("%s: NumPeers %d with %d agents", a.Agent, a.NumPeers, cfg.Agents)
		}
	}
	if float64(rep.Baseline.OriginBytes) < float64(cfg.Agents)*size {
		t.Errorf("mode 0 origin bytes %d < %d × %d", rep.Baseline.OriginBytes, cfg.Agents, rep.Size)
	}
	// Completion times are logged, not asserted: timing is for `imepipe
	// bench fleet`, not for a unit test sharing two cores.
	if rep.CompletionS <= 0 || rep.Baseline.CompletionS <= 0 {
		t.Errorf("no completion time: mode 1 %.2fs, mode 0 %.2fs", rep.CompletionS, rep.Baseline.CompletionS)
	}
	var from, to int64
	for _, a := range rep.PerAgent {
		from += a.BytesFromLanPeers
		to += a.BytesToLanPeers
		if a.DownloadMode != imeapi.ModeLAN || a.FileId == "" || a.BytesFromGroupPeers != 0 {
			t.Errorf("%s: record %+v", a.Agent, a.Status)
		}
	}
	// Uploads include pieces cut short (an endgame race lost), so they may exceed.
	if from == 0 || from > to {
		t.Errorf("bytes from LAN peers %d, to LAN peers %d", from, to)
	}
	// The run's service, its copies of the package and the agents' roots
	// go with it; the generated dataset stays for the next run.
	for _, d := range []string{"fleet-apps", "fleet-data", "fleet-run"} {
		if _, err := os.Stat(filepath.Join(cfg.Dir, d)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s left in the output folder: %v", d, err)
		}
	}
}

// TestFleetBadPeers: two agents serve corrupt pieces; every agent still
// verifies, both are banned, and the origin sends at most 2 × (+ slack
// for the small size).
func TestFleetBadPeers(t *testing.T) {
	if os.Getenv("IMEPIPE_SLOW") == "" && testing.Short() {
		t.Skip("short")
	}
	cfg := smallConfig(t)
	cfg.Agents, cfg.BadPeers, cfg.Mode, cfg.Size = 6, 2, imeapi.ModeLAN, 32<<20
	cfg.InProcess = true // the goroutine agents (large fleets) work alike
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("origin %.2f × size in %.2fs, banned %v", float64(rep.OriginBytes)/float64(rep.Size), rep.CompletionS, rep.Banned)
	if !rep.AllVerified {
		t.Fatalf("not every agent verified")
	}
	bad, banned := map[string]bool{}, map[string]bool{}
	for _, b := range rep.Banned {
		banned[b] = true
	}
	for _, a := range rep.PerAgent {
		bad[a.Agent] = a.Bad
		// A bad agent that sent anything was caught; a good one never is.
		if a.Bad && a.BytesToLanPeers > 0 && !banned[a.Agent] || !a.Bad && banned[a.Agent] {
			t.Errorf("%s (bad: %v) sent %d bytes, banned: %v", a.Agent, a.Bad, a.BytesToLanPeers, banned[a.Agent])
		}
	}
	if rep.BannedPeers == 0 {
		t.Errorf("no peer banned; bad agents %v", bad)
	}
	if rep.OriginBytes > 2*rep.Size+rep.Size/2 {
		t.Errorf("origin bytes %d > 2.5 × %d", rep.OriginBytes, rep.Size)
	}
}

// TestFleetTLS: with the service over HTTPS every agent enrolls (trusting
// the generated CA), fetches and verifies.
func TestFleetTLS(t *testing.T) {
	cfg := smallConfig(t)
	cfg.Agents, cfg.Size, cfg.OriginRate = 3, 4<<20, 0
	cfg.Mode, cfg.TLS = imeapi.ModeLAN, true
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.AllVerified || len(rep.PerAgent) != cfg.Agents {
		t.Fatalf("not every agent verified over TLS: %+v", rep.PerAgent)
	}
}
