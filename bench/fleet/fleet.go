package fleet

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/imepipe/imepipe/bench"
	"github.com/imepipe/imepipe/fetch"
	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/peer"
	"github.com/imepipe/imepipe/service"
)

// Config is one fleet run. Zero fields take the defaults below.
type Config struct {
	Agents   int                 // agents fetching at once (default 20)
	Size     int64               // setup folder bytes; the package is about as large (default 1 GiB)
	BadPeers int                 // agents that serve corrupt pieces (default 0)
	Mode     imeapi.DownloadMode // DO download mode of the measured run (ModeLAN when 0 and Baseline)
	// OriginRate caps the origin's egress in bytes per second, shared by
	// all connections (default 100 MiB/s).
	OriginRate int64
	GroupID    string
	// CacheHost is a Connected Cache host every agent uses ("": none).
	CacheHost string
	// Baseline also runs mode 0 with the same agents and origin cap.
	Baseline bool
	// Dir holds the cached package, the service data and the agents'
	// roots (default bench.DefaultOut()/fleet). Agents' roots are removed
	// after each run.
	Dir         string
	Seed        uint64 // package seed (default 1)
	Connections int    // per agent (default 4)
	// Swarm timings (zero: peer's defaults, with RefreshInterval 250 ms).
	RefreshInterval, OwnerWait, StallTimeout time.Duration
	// UploadRate caps each agent's uploads, bytes per second (0: none;
	// DO's DOMaxUploadBandwidth).
	UploadRate int64
	// Policy is every agent's DO back-to-source policy (priority, delays,
	// QoS floor); zero: foreground, DO's defaults.
	Policy peer.Policy
	// TLS serves the service API over HTTPS with a generated CA that the
	// agents trust (the origin and LAN peers stay plain HTTP).
	TLS bool
	// Exe is the binary every agent runs in, a child process each (its
	// main or TestMain calls ChildMain first), so that each agent's CPU
	// seconds and peak RSS are its own; default os.Executable().
	Exe string
	// InProcess runs the agents as goroutines of this process instead
	// (for fleets too large for a process each); their peak RSS and CPU
	// seconds are then not measured (0).
	InProcess bool
	// Verbose has the agents log their swarm events to Logf.
	Verbose bool
	Logf    func(format string, args ...any)
	// Step, if set, is called after the measured run and the baseline
	// with how many of them are done, for a progress bar.
	Step func(done, total int)
}

func (c *Config) defaults() {
	if c.Agents <= 0 {
		c.Agents = 20
	}
	if c.Size <= 0 {
		c.Size = 1 << 30
	}
	if c.Mode == imeapi.ModeHTTPOnly && c.Baseline {
		c.Mode = imeapi.ModeLAN
	}
	if c.OriginRate <= 0 {
		c.OriginRate = 100 << 20
	}
	if c.Dir == "" {
		c.Dir = filepath.Join(bench.DefaultOut(), "fleet")
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.Connections <= 0 {
		c.Connections = 4
	}
	if c.RefreshInterval <= 0 {
		c.RefreshInterval = 250 * time.Millisecond
	}
	if c.Logf == nil {
		c.Logf = func(string, ...any) {}
	}
	if c.Exe == "" {
		c.Exe, _ = os.Executable()
	}
}

// AgentRecord is one agent's DO record with the run's view of it.
type AgentRecord struct {
	Agent       string   `json:"agent"`
	Bad         bool     `json:"bad,omitempty"`
	Verified    bool     `json:"verified"`
	CompletionS float64  `json:"completion_s"`
	Banned      []string `json:"banned,omitempty"`
	Error       string   `json:"error,omitempty"`
	// PeakRSS and CPUS are the agent's own process's peak resident set
	// and CPU seconds (user + system, every thread) over its whole run:
	// its download, verification and the serving of its peers.
	PeakRSS int64   `json:"peak_rss_bytes"`
	CPUS    float64 `json:"cpu_s"`
	// Counted is what the fleet counted for this agent, to check the DO
	// record against.
	Counted Counted `json:"counted"`
	fetch.Status
}

// Counted is one agent's traffic as the fleet counted it at its
// boundaries: body bytes its origin client read, bytes its peer client
// read from good peers (less the whole pieces the agent reports dropped
// after a lost endgame race), bytes the other agents' peer clients read
// from it, and the peers the Array's answers named.
type Counted struct {
	FromHttp     int64 `json:"fromHttp"`
	FromLanPeers int64 `json:"fromLanPeers"`
	ToLanPeers   int64 `json:"toLanPeers"`
	NumPeers     int   `json:"numPeers"`
}

// Telemetry compares the DO records with the fleet's counts: agents
// whose field differs from the count, and the largest difference in
// bytes (a piece cut short by a lost endgame race is read by one side
// and not counted by the other; bad peers' pieces are read and refused).
type Telemetry struct {
	NumPeersMismatch     int   `json:"numPeersMismatch"`
	FromHttpMismatch     int   `json:"fromHttpMismatch"`
	FromLanPeersMismatch int   `json:"fromLanPeersMismatch"`
	ToLanPeersMismatch   int   `json:"toLanPeersMismatch"`
	MaxDiffBytes         int64 `json:"maxDiffBytes"`
}

// Baseline is the same fleet in another mode (0: every agent from the origin).
type Baseline struct {
	Mode        imeapi.DownloadMode `json:"mode"`
	OriginBytes int64               `json:"originBytes"`
	CompletionS float64             `json:"completion_s"`
	AllVerified bool                `json:"allVerified"`
}

// Report is the result of Run.
type Report struct {
	Agents      int                 `json:"agents"`
	Size        int64               `json:"size"` // the package (blob) bytes every agent fetches
	Mode        imeapi.DownloadMode `json:"mode"`
	OriginRate  int64               `json:"originRate"`
	OriginBytes int64               `json:"originBytes"`
	CompletionS float64             `json:"completion_s"`
	AllVerified bool                `json:"allVerified"`
	BannedPeers int                 `json:"bannedPeers"`
	Banned      []string            `json:"banned"`
	// Per-agent completion, the fleet's PercentPeerCaching (bytes from
	// peers over bytes downloaded, all agents), the bytes served per
	// agent (largest and median), the agents' peak RSS (largest and
	// median; each agent's is in PerAgent) and this process's (the
	// service and the origin; 0: unknown).
	P50S               float64 `json:"p50_s"`
	P95S               float64 `json:"p95_s"`
	PercentPeerCaching float64 `json:"percentPeerCaching"`
	UploadMaxBytes     int64   `json:"uploadMaxBytes"`
	UploadMedianBytes  int64   `json:"uploadMedianBytes"`
	AgentPeakRSSMax    int64   `json:"agentPeakRSSMax"`
	AgentPeakRSSMedian int64   `json:"agentPeakRSSMedian"`
	PeakRSS            int64   `json:"peakRSS"`
	// OriginCPUS is the CPU seconds the origin's handlers spent sending.
	OriginCPUS float64       `json:"origin_cpu_s"`
	PeerBusy   int64         `json:"peerBusy"`   // 503 answers the agents got
	ArrayCalls int64         `json:"arrayCalls"` // requests to the service's Array, all agents
	Telemetry  Telemetry     `json:"telemetry"`
	PerAgent   []AgentRecord `json:"perAgent"`
	Baseline   *Baseline     `json:"baseline,omitempty"`
}

// Run sets up the service and the capped origin, runs the fleet in
// cfg.Mode (and in mode 0 when cfg.Baseline), and reports.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg.defaults()
	if err := cfg.Mode.Check(); err != nil {
		return nil, err
	}
	if cfg.BadPeers < 0 || cfg.BadPeers >= cfg.Agents {
		return nil, fmt.Errorf("fleet: %d bad peers among %d agents: want 0 ≤ bad < agents", cfg.BadPeers, cfg.Agents)
	}
	pk, err := bench.Prepare(ctx, cfg.Dir, bench.SingleLarge, cfg.Size, cfg.Seed, false, cfg.Logf)
	if err != nil {
		return nil, err
	}
	site, err := startSite(ctx, cfg, pk.Package)
	if err != nil {
		return nil, err
	}
	defer site.stop()

	total := 1
	if cfg.Baseline {
		total = 2
	}
	if cfg.Step != nil {
		cfg.Step(0, total)
	}
	rep, err := site.run(ctx, cfg, cfg.Mode, cfg.BadPeers)
	if err != nil {
		return nil, err
	}
	if cfg.Step != nil {
		cfg.Step(1, total)
	}
	if cfg.Baseline {
		base, err := site.run(ctx, cfg, imeapi.ModeHTTPOnly, 0)
		if err != nil {
			return nil, err
		}
		rep.Baseline = &Baseline{Mode: base.Mode, OriginBytes: base.OriginBytes, CompletionS: base.CompletionS, AllVerified: base.AllVerified}
		if cfg.Step != nil {
			cfg.Step(2, total)
		}
	}
	return rep, nil
}

// site is the service and the origin.
type site struct {
	svc     *service.Server
	svcHTTP *http.Server
	orgHTTP *http.Server
	origin  *bench.Origin
	svcURL  string
	hc      *http.Client // reaches svcURL (trusts its CA); nil: the default
	secret  string
	ca      string // the service's CA file ("": plain HTTP)
	runDir  string
	// siteDirs are the service's apps and data folders, removed by stop.
	siteDirs []string
}

func startSite(ctx context.Context, cfg Config, pkg string) (*site, error) {
	// The service's folders are the run's alone: an earlier run's
	// devices must not be served again, and the copies of the package go
	// with the run (stop).
	apps := filepath.Join(cfg.Dir, "fleet-apps")
	data := filepath.Join(cfg.Dir, "fleet-data")
	for _, d := range []string{apps, data} {
		if err := os.RemoveAll(d); err != nil {
			return nil, fmt.Errorf("fleet: %w", err)
		}
	}
	g := imeapi.Win32LobApp{
		ODataType: imeapi.TypeWin32LobApp, ID: "00000000-0000-4000-8000-00000000f1ee", Version: "1",
		DisplayName: "fleet package", SetupFilePath: "setup.exe",
		InstallCommandLine: "setup.exe /S", UninstallCommandLine: "setup.exe /uninstall",
		Rules: []imeapi.Rule{{ODataType: imeapi.TypeFileSystemRule, RuleType: "detection", Path: `C:\Program Files\Fleet`,
			FileOrFolderName: "fleet.exe", OperationType: "exists"}},
		Assignments: []imeapi.Assignment{{Intent: "required", Target: imeapi.AssignmentTarget{ODataType: imeapi.TypeAllDevices}}},
	}
	if err := bench.WriteApp(apps, "fleet-app", g, pkg); err != nil {
		return nil, err
	}
	s := &site{origin: bench.NewOrigin(filepath.Join(data, "blobs"), cfg.OriginRate), runDir: filepath.Join(cfg.Dir, "fleet-run"), siteDirs: []string{apps, data}}
	var orgAddr string
	var err error
	if s.orgHTTP, orgAddr, err = bench.ServeLoopback(s.origin); err != nil {
		return nil, err
	}
	s.svc, err = service.NewContext(ctx, service.Config{AppsDir: apps, DataDir: data, BlobBaseURL: "http://" + orgAddr})
	if err != nil {
		_ = s.orgHTTP.Close()
		return nil, err
	}
	if s.secret, err = bench.EnrollmentSecret(s.svc); err != nil {
		s.stop()
		return nil, err
	}
	if s.svcHTTP, s.svcURL, s.hc, err = bench.ServeService(s.svc, data, cfg.TLS); err != nil {
		s.stop()
		return nil, err
	}
	if cfg.TLS {
		s.ca = filepath.Join(data, service.CAFile)
	}
	return s, nil
}

func (s *site) stop() {
	if s.svcHTTP != nil {
		_ = s.svcHTTP.Close()
	}
	_ = s.orgHTTP.Close()
	if s.svc != nil {
		_ = s.svc.Close()
	}
	_ = os.RemoveAll(s.runDir)
	for _, d := range s.siteDirs {
		_ = os.RemoveAll(d)
	}
}

// run starts the agents, lets them all fetch at once, and reports.
func (s *site) run(ctx context.Context, cfg Config, mode imeapi.DownloadMode, bad int) (*Report, error) {
	if err := os.RemoveAll(s.runDir); err != nil {
		return nil, fmt.Errorf("fleet: %w", err)
	}
	defer os.RemoveAll(s.runDir)
	cfg.Mode = mode
	agents := make([]*proc, cfg.Agents)
	defer func() {
		for _, a := range agents {
			if a != nil {
				a.kill()
			}
		}
	}()
	// Bad agents are spread through the fleet.
	isBad := map[int]bool{}
	for i := range bad {
		isBad[(i*cfg.Agents)/bad] = true
	}
	for i := range agents {
		name := fmt.Sprintf("agent%02d", i)
		j := childJob{Name: name, Root: filepath.Join(s.runDir, name), Bad: isBad[i], UploadRate: cfg.UploadRate,
			ServiceURL: s.svcURL, Secret: s.secret, CA: s.ca, Mode: mode, GroupID: cfg.GroupID, CacheHost: cfg.CacheHost,
			Connections: cfg.Connections, Policy: cfg.Policy, Refresh: cfg.RefreshInterval, OwnerWait: cfg.OwnerWait,
			Stall: cfg.StallTimeout, Verbose: cfg.Verbose}
		var a *proc
		var err error
		if cfg.InProcess {
			a, err = startLocal(j, cfg, imeapi.NewClient(s.svcURL, s.hc))
		} else {
			a, err = startProc(ctx, cfg.Exe, j, cfg.Logf)
		}
		if err != nil {
			return nil, err
		}
		agents[i] = a
	}
	bench.ResetPeakRSS()
	before, cpu := s.origin.Sent(), s.origin.CPU()
	start := time.Now()
	outs := make([]outcome, len(agents))
	var wg sync.WaitGroup
	for i, a := range agents {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i] = a.fetch()
		}()
	}
	wg.Wait()
	rep := &Report{Agents: cfg.Agents, Mode: mode, OriginRate: cfg.OriginRate, OriginBytes: s.origin.Sent() - before,
		OriginCPUS: (s.origin.CPU() - cpu).Seconds(), CompletionS: time.Since(start).Seconds(), AllVerified: true, Banned: []string{}}
	// Every agent is done: each reports its uploads and its own usage.
	for _, a := range agents {
		if err := a.finish(); err != nil {
			return nil, err
		}
	}
	rep.PeakRSS = bench.SelfPeakRSS()
	// Bytes read from each agent's server by the others (bad agents'
	// pieces are read and refused: not counted as from peers).
	byAddr := map[string]*proc{}
	for _, a := range agents {
		byAddr[a.addr] = a
	}
	toPeers := map[*proc]int64{}
	fromGood := make([]int64, len(outs))
	for i, o := range outs {
		for host, n := range o.fromPeers {
			if a := byAddr[host]; a != nil {
				toPeers[a] += n
				if !a.bad {
					fromGood[i] += n
				}
			}
		}
	}
	banned := map[string]bool{}
	var errs []error
	for i, o := range outs {
		r := AgentRecord{Agent: agents[i].name, Bad: agents[i].bad, Verified: o.verified, CompletionS: o.finished.Seconds(),
			Banned: o.res.Banned, Status: o.res.Status,
			Counted: Counted{FromHttp: o.fromOrigin, FromLanPeers: fromGood[i] - o.res.PeerDiscarded, ToLanPeers: toPeers[agents[i]], NumPeers: o.named}}
		rep.PeerBusy += o.res.PeerBusy
		rep.ArrayCalls += o.res.ArrayCalls
		up := agents[i].end.Up
		r.BytesToLanPeers, r.BytesToGroupPeers, r.BytesToInternetPeers = up.BytesToLanPeers, up.BytesToGroupPeers, up.BytesToInternetPeers
		r.PeakRSS, r.CPUS = agents[i].end.PeakRSS, agents[i].end.CPUS
		if o.err != nil {
			r.Error = o.err.Error()
			errs = append(errs, o.err)
		}
		rep.AllVerified = rep.AllVerified && o.verified
		rep.Size = max(rep.Size, r.FileSize)
		for _, b := range o.res.Banned {
			banned[b] = true
		}
		rep.PerAgent = append(rep.PerAgent, r)
	}
	rep.summarize()
	for b := range banned {
		rep.Banned = append(rep.Banned, b)
	}
	sort.Strings(rep.Banned)
	rep.BannedPeers = len(rep.Banned)
	if len(errs) == len(outs) {
		return rep, errors.Join(errs...)
	}
	return rep, nil
}
