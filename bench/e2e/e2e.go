package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/dustin/go-humanize"

	"github.com/imepipe/imepipe/bench"
	"github.com/imepipe/imepipe/fetch"
)

// Run names.
const (
	NameSequential = "ime-sequential"
	NameImepipe    = "imepipe"
	NameMCC        = "imepipe-mcc"
	NameLAN        = "imepipe-lan"
	// NameFloor is imepipe unpack of the same package from local disk:
	// the floor of every run, timed in every round.
	NameFloor = "floor"
)

// ErrRun: a run did not end with the content in place (verified,
// installed and detected for the agent runs).
var ErrRun = errors.New("e2e: run failed")

// Config is one benchmark. Zero fields take the defaults shown.
type Config struct {
	Size    int64         // setup folder bytes (1 GiB)
	Profile bench.Profile // dataset (installer)
	Seed    uint64        // dataset seed (1)
	// Dir holds the cached package and the runs' roots
	// (bench.DefaultOut()/e2e); the roots are removed at the end unless
	// Keep is set (to read the agents' CMTrace logs and state).
	Dir  string
	Keep bool
	// OriginRate caps the origin's egress in bytes per second, all
	// connections together (0: loopback speed).
	OriginRate int64
	// Connections per agent download (0: fetch's default).
	Connections int
	// Runs is how many rounds of every run, interleaved (3); results are
	// medians.
	Runs int
	// Only names the runs to time (NameSequential, NameImepipe, NameMCC,
	// NameLAN); empty means all. Ratios need NameSequential.
	Only []string
	// TLS serves the service API over HTTPS with a generated CA that the
	// agents trust (blobs stay on the plain-HTTP origin, as a CDN's would
	// be its own; LAN peers are plain HTTP by design).
	TLS bool
	// Exe is the binary every timed run executes as a child process
	// (its main or TestMain calls ChildMain first), so that the run's
	// CPU seconds and peak RSS are its own; default os.Executable().
	Exe string
	// ProfileDir, if set, receives CPU profiles: site.cpu.pprof of this
	// process over all the runs (service, origin, Connected Cache, the
	// LAN seed) and one per timed child (<run>-<round>.cpu.pprof).
	ProfileDir string
	// AgentMemoryLimit and UnpackMemoryLimit are the soft memory limits
	// (runtime/debug.SetMemoryLimit) of the commands the agent runs and
	// the floor stand for, `imepipe agent` and `imepipe unpack`, so that
	// each child's peak RSS is the command's (0: none; GOMEMLIMIT wins).
	AgentMemoryLimit, UnpackMemoryLimit int64
	Logf                                func(format string, args ...any)
	// Step, if set, is called after each timed run with how many of the
	// total (rounds × runs) are done, for a progress bar.
	Step func(done, total int)
}

func (c *Config) defaults() {
	if c.Size <= 0 {
		c.Size = 1 << 30
	}
	if c.Profile == "" {
		c.Profile = bench.Installer
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.Runs <= 0 {
		c.Runs = 3
	}
	if c.Dir == "" {
		c.Dir = filepath.Join(bench.DefaultOut(), "e2e")
	}
	if c.Logf == nil {
		c.Logf = func(string, ...any) {}
	}
	if c.Exe == "" {
		c.Exe, _ = os.Executable()
	}
}

// Result is one run: its wall time, the phases it went through one after
// the other (the sequential run only: imepipe's overlap), and its DO
// record.
type Result struct {
	Name string `json:"name"`
	// ContentRunsS is every round's ContentS; the others are medians (the
	// DO record and origin bytes are the last round's).
	ContentRunsS []float64 `json:"content_runs_s"`
	// ContentS is the time until the content was verified and extracted
	// in IMECache: all of the sequential run; for an agent, until its log
	// says so (the rest of WallS is install, detection, report, cleanup).
	ContentS float64            `json:"content_s"`
	WallS    float64            `json:"wall_s"`
	Phases   map[string]float64 `json:"phases_s,omitempty"`
	// PeakRSS and CPUS are the run's child process's own peak resident
	// set and CPU seconds (user + system, all threads; not the
	// installer's): for an agent run, the agent's (0 where unmeasured).
	PeakRSS int64   `json:"peak_rss_bytes"`
	CPUS    float64 `json:"cpu_s"`
	// OriginBytes is what the origin sent during the run, OriginCPUS the
	// CPU seconds its handlers spent sending it.
	OriginBytes int64   `json:"origin_bytes"`
	OriginCPUS  float64 `json:"origin_cpu_s"`
	// SiteCPUS is this process's CPU seconds during the run: the serving
	// side (origin, Connected Cache, the LAN seed) and the service.
	SiteCPUS float64 `json:"site_cpu_s"`
	// DO is the run's record with Get-DeliveryOptimizationStatus names.
	DO fetch.Status `json:"do"`
}

// Report is the outcome of Run.
type Report struct {
	Size         int64         `json:"size"`
	Profile      bench.Profile `json:"profile"`
	Files        int           `json:"files"`
	PackageBytes int64         `json:"package_bytes"`
	// BlobBytes is the encrypted inner file every run downloads.
	BlobBytes  int64 `json:"blob_bytes"`
	CPUs       int   `json:"cpus"`
	OriginRate int64 `json:"origin_rate"`
	Runs       int   `json:"runs"`
	// Load is the one-minute load average before and after the runs.
	Load bench.Load `json:"load_avg_1m"`
	// FloorS is the median time of imepipe unpack of the same package
	// from local disk (the floor run, one per round, interleaved).
	FloorS       float64   `json:"floor_s"`
	FloorRunsS   []float64 `json:"floor_runs_s"`
	FloorPeakRSS int64     `json:"floor_peak_rss_bytes"`
	FloorCPUS    float64   `json:"floor_cpu_s"`
	Results      []Result  `json:"results"`
	// Ratios: "ime-sequential/<run>" (the baseline's content time over
	// the run's) and "<run>/floor" (the run's content time over FloorS).
	Ratios map[string]float64 `json:"ratios"`
}

// Run prepares the package, starts the service, and times every run.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg.defaults()
	pk, err := preparePackage(ctx, cfg)
	if err != nil {
		return nil, err
	}
	s, err := startSite(ctx, cfg, pk.path)
	if err != nil {
		return nil, err
	}
	defer s.stop()
	rep := &Report{Size: cfg.Size, Profile: cfg.Profile, Files: pk.files, PackageBytes: pk.bytes,
		CPUs: runtime.NumCPU(), OriginRate: cfg.OriginRate, Runs: cfg.Runs, Ratios: map[string]float64{}}
	rep.Load.Start = bench.LoadAvg()
	if cfg.ProfileDir != "" {
		stop, err := profileSite(cfg.ProfileDir)
		if err != nil {
			return nil, err
		}
		defer stop()
	}
	runs, err := s.pick(cfg.Only)
	if err != nil {
		return nil, err
	}
	if cfg.Step != nil {
		cfg.Step(0, cfg.Runs*len(runs))
	}
	rounds := make([][]Result, len(runs))
	var floors []Result
	for round := 1; round <= cfg.Runs; round++ {
		s.round = round
		f, err := s.floor(ctx)
		if err != nil {
			return nil, err
		}
		cfg.Logf("round %d/%d %-15s %.2fs, %.2f CPU s, %s peak RSS", round, cfg.Runs, NameFloor, f.ContentS, f.CPUS, humanize.IBytes(uint64(f.PeakRSS)))
		floors = append(floors, f)
		for i, run := range runs {
			r, err := run(ctx)
			if err != nil {
				return nil, err
			}
			cfg.Logf("round %d/%d %-15s content in %.2fs, all done in %.2fs, %.2f CPU s, %s peak RSS; %s from the origin, %s", round, cfg.Runs,
				r.Name, r.ContentS, r.WallS, r.CPUS, humanize.IBytes(uint64(r.PeakRSS)), humanize.IBytes(uint64(r.OriginBytes)), sources(r.DO))
			rounds[i] = append(rounds[i], r)
			if cfg.Step != nil {
				cfg.Step((round-1)*len(runs)+i+1, cfg.Runs*len(runs))
			}
		}
	}
	for _, rs := range rounds {
		rep.Results = append(rep.Results, medianOf(rs))
	}
	fl := medianOf(floors)
	rep.FloorS, rep.FloorRunsS, rep.FloorPeakRSS, rep.FloorCPUS = fl.ContentS, fl.ContentRunsS, fl.PeakRSS, fl.CPUS
	if rep.FloorS > 0 {
		for _, r := range rep.Results {
			rep.Ratios[r.Name+"/"+NameFloor] = r.ContentS / rep.FloorS
		}
	}
	rep.Load.End = bench.LoadAvg()
	rep.BlobBytes = rep.Results[0].DO.FileSize
	if base := rep.Results[0]; base.Name == NameSequential {
		for _, r := range rep.Results[1:] {
			if r.ContentS > 0 {
				rep.Ratios[NameSequential+"/"+r.Name] = base.ContentS / r.ContentS
			}
		}
	}
	return rep, nil
}

// pick returns the runs named in only (all when empty), in their order.
func (s *site) pick(only []string) ([]func(context.Context) (Result, error), error) {
	all := map[string]func(context.Context) (Result, error){
		NameSequential: s.sequential, NameImepipe: s.imepipe, NameMCC: s.mcc, NameLAN: s.lan,
	}
	order := []string{NameSequential, NameImepipe, NameMCC, NameLAN}
	for _, name := range only {
		if all[name] == nil {
			return nil, fmt.Errorf("e2e: no run named %q (%s)", name, strings.Join(order, ", "))
		}
	}
	var out []func(context.Context) (Result, error)
	for _, name := range order {
		if len(only) == 0 || slices.Contains(only, name) {
			out = append(out, all[name])
		}
	}
	return out, nil
}

// medianOf is the last of rs with its times replaced by the medians of
// all of them.
func medianOf(rs []Result) Result {
	out := rs[len(rs)-1]
	var content, wall, rss, cpu, ocpu, scpu []float64
	phases := map[string][]float64{}
	for _, r := range rs {
		content, wall = append(content, r.ContentS), append(wall, r.WallS)
		rss, cpu, ocpu = append(rss, float64(r.PeakRSS)), append(cpu, r.CPUS), append(ocpu, r.OriginCPUS)
		scpu = append(scpu, r.SiteCPUS)
		for k, v := range r.Phases {
			phases[k] = append(phases[k], v)
		}
	}
	out.ContentRunsS = content
	out.ContentS, out.WallS = bench.Median(content), bench.Median(wall)
	out.PeakRSS, out.CPUS, out.OriginCPUS = int64(bench.Median(rss)), bench.Median(cpu), bench.Median(ocpu)
	out.SiteCPUS = bench.Median(scpu)
	if len(phases) > 0 {
		out.Phases = map[string]float64{}
		for k, vs := range phases {
			out.Phases[k] = bench.Median(vs)
		}
	}
	return out
}

// sources says where a run's bytes came from, in DO's terms.
func sources(s fetch.Status) string {
	var parts []string
	for _, p := range []struct {
		name string
		n    int64
	}{
		{"HTTP (origin)", s.BytesFromHttp - s.BytesFromCacheServer}, {"cache server", s.BytesFromCacheServer},
		{"LAN peers", s.BytesFromLanPeers}, {"group peers", s.BytesFromGroupPeers}, {"internet peers", s.BytesFromInternetPeers},
	} {
		if p.n > 0 {
			parts = append(parts, humanize.IBytes(uint64(p.n))+" "+p.name)
		}
	}
	if len(parts) == 0 {
		return "nothing downloaded"
	}
	return strings.Join(parts, ", ")
}

// WriteText writes the report as a table: per run, the wall time, the
// DO bytes per source and the phases.
func (r *Report) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "bench e2e: %s, %s in %d files, package %s, origin %s, %d CPUs, load %.2f → %.2f, medians of %d round(s)\n",
		r.Profile, humanize.IBytes(uint64(r.Size)), r.Files, humanize.IBytes(uint64(r.PackageBytes)), rateText(r.OriginRate), r.CPUs, r.Load.Start, r.Load.End, r.Runs)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "run\tcontent s\twall s\t/floor\tCPU s\tpeak RSS\torigin CPU s\tserving CPU s\tBytesFromHttp\tBytesFromCacheServer\tBytesFromLanPeers\tBytesFromGroupPeers\tBytesFromInternetPeers\t")
	fmt.Fprintf(tw, "%s\t%.2f\t%.2f\t1.00\t%.2f\t%s\t-\t-\t-\t-\t-\t-\t-\t\n", NameFloor, r.FloorS, r.FloorS, r.FloorCPUS, rssText(r.FloorPeakRSS))
	for _, res := range r.Results {
		d := res.DO
		ratio := "-"
		if v, ok := r.Ratios[res.Name+"/"+NameFloor]; ok {
			ratio = fmt.Sprintf("%.2f", v)
		}
		fmt.Fprintf(tw, "%s\t%.2f\t%.2f\t%s\t%.2f\t%s\t%.2f\t%.2f\t%d\t%d\t%d\t%d\t%d\t\n", res.Name, res.ContentS, res.WallS, ratio, res.CPUS, rssText(res.PeakRSS), res.OriginCPUS, res.SiteCPUS,
			d.BytesFromHttp, d.BytesFromCacheServer, d.BytesFromLanPeers, d.BytesFromGroupPeers, d.BytesFromInternetPeers)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, res := range r.Results {
		if len(res.Phases) == 0 {
			continue
		}
		var parts []string
		for _, p := range phaseOrder {
			if v, ok := res.Phases[p]; ok {
				parts = append(parts, fmt.Sprintf("%s %.2fs", p, v))
			}
		}
		fmt.Fprintf(w, "phases of %s: %s\n", res.Name, strings.Join(parts, "; "))
	}
	for _, res := range r.Results[1:] {
		if v, ok := r.Ratios[NameSequential+"/"+res.Name]; ok {
			fmt.Fprintf(w, "%s/%s: %.2f× (time to verified content in IMECache)\n", NameSequential, res.Name, v)
		}
	}
	_, err := fmt.Fprintln(w, "content s: until the content is verified and extracted in IMECache; wall s: agents also install, detect, report and clean up\n"+
		"floor: imepipe unpack of the same package from local disk; /floor: content s over the floor's; CPU s and peak RSS: the run's own process (the agent's); serving CPU s: the bench's process meanwhile (service, origin, cache, LAN seed)\nBytesFromHttp includes BytesFromCacheServer, as in Get-DeliveryOptimizationStatus")
	return err
}

// rssText formats a peak RSS ("-": not measured).
func rssText(n int64) string {
	if n <= 0 {
		return "-"
	}
	return humanize.IBytes(uint64(n))
}

// phaseOrder is the sequential run's phases in the order they run.
var phaseOrder = []string{"download", "hmac", "decrypt", "sha256", "extract"}
