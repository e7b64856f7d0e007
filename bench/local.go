package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// LocalConfig says what Local measures. Exe is required; zero values of
// the rest take the defaults shown.
type LocalConfig struct {
	Exe     string  // the imepipe binary to time (and to run the stdlib baseline)
	Profile Profile // default Installer
	Size    int64   // setup folder bytes; default 1 GiB
	Seed    uint64  // default 1
	Runs    int     // runs per contender; default 3
	// Out holds the package cache and the run folders; default
	// imepipe-bench under os.TempDir(). Run folders are removed after
	// each run; the cached package stays for the next invocation.
	Out string
	// Keep keeps the generated setup folder and the last round's output
	// folders.
	Keep bool
	// NoTools leaves the unzip + openssl baseline out.
	NoTools bool
	// Phases also times the phases of imepipe and of the stdlib
	// baseline in process, after the runs (MeasurePhases).
	Phases bool
	// Log, if set, receives a line per step.
	Log func(format string, a ...any)
	// Step, if set, is called after each timed run with how many of the
	// total (rounds × contenders) are done, for a progress bar.
	Step func(done, total int)
}

// DefaultSize is the default dataset size: 1 GiB.
const DefaultSize = 1 << 30

// DefaultOut is the default cache and work folder.
func DefaultOut() string { return filepath.Join(os.TempDir(), "imepipe-bench") }

func (c *LocalConfig) defaults() error {
	if c.Exe == "" {
		return errors.New("bench: local: no imepipe binary given")
	}
	if c.Profile == "" {
		c.Profile = Installer
	}
	if c.Size == 0 {
		c.Size = DefaultSize
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.Runs == 0 {
		c.Runs = 3
	}
	if c.Runs < 0 {
		return fmt.Errorf("bench: local: %d runs", c.Runs)
	}
	if c.Out == "" {
		c.Out = DefaultOut()
	}
	if c.Log == nil {
		c.Log = func(string, ...any) {}
	}
	return nil
}

// Local benchmarks the local path. It prepares the package (Prepare),
// then times every contender side by side, interleaved run by run
// (imepipe, sequential-stdlib, tools, imepipe, …), each into a fresh
// output folder under Out/runs-* on the same filesystem as the package.
// Each run's output tree must hold exactly the source folder's file count
// and bytes, or Local fails with ErrOutput instead of timing a wrong
// result. Output folders stay until every run has ended, then go
// together: deleting one contender's thousands of files just before the
// next one runs would charge it for the cleanup (ext4 without a journal,
// this machine's root, scans past recently freed inodes when it allocates
// new ones, for minutes).
func Local(ctx context.Context, cfg LocalConfig) (*Report, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	rep := &Report{Profile: cfg.Profile, Size: cfg.Size, Seed: cfg.Seed, Runs: cfg.Runs,
		CPUs: runtime.NumCPU(), Ratios: map[string]float64{}}
	rep.Load.Start = loadAvg()
	pk, err := Prepare(ctx, cfg.Out, cfg.Profile, cfg.Size, cfg.Seed, cfg.Keep, cfg.Log)
	if err != nil {
		return nil, err
	}
	rep.Files, rep.PackageBytes = pk.Files, pk.PackageBytes

	contenders := []Contender{Imepipe(cfg.Exe), Stdlib(cfg.Exe)}
	switch missing := ToolsMissing(); {
	case cfg.NoTools:
		rep.skip(NameTools, "left out (--no-tools)")
	case missing != "":
		rep.skip(NameTools, missing+" is not on PATH")
	default:
		t, err := Tools(pk.Package)
		if err != nil {
			return nil, err
		}
		contenders = append(contenders, t)
	}

	runs, err := os.MkdirTemp(cfg.Out, "runs-")
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	if cfg.Keep {
		cfg.Log("output folders of the last round stay in %s", runs)
	}
	if cfg.Step != nil {
		cfg.Step(0, cfg.Runs*len(contenders))
	}
	samples := make([][]Sample, len(contenders))
	dropped := true
	for round := 1; round <= cfg.Runs; round++ {
		for i, c := range contenders {
			if !evenStart(pk.Package, cfg.Exe) {
				dropped = false
			}
			s, err := runOnce(ctx, c, pk, runs, round)
			if err != nil {
				if !errors.Is(err, ErrOutput) { // a wrong output stays for inspection
					os.RemoveAll(runs)
				}
				return nil, err
			}
			samples[i] = append(samples[i], s)
			cfg.Log("run %d/%d %-17s %6.2fs wall, %6.2fs user, %6.2fs sys, %s peak RSS",
				round, cfg.Runs, c.Name, s.Wall.Seconds(), s.User.Seconds(), s.Sys.Seconds(), mib(s.PeakRSS))
			if cfg.Step != nil {
				cfg.Step((round-1)*len(contenders)+i+1, cfg.Runs*len(contenders))
			}
		}
	}
	rep.CacheDropped = dropped
	if err := dropRuns(runs, cfg.Keep, cfg.Runs); err != nil {
		return nil, err
	}
	for i, c := range contenders {
		rep.Results = append(rep.Results, Summarize(c.Name, samples[i]))
	}
	ref := rep.Results[0]
	for _, r := range rep.Results[1:] {
		if v, ok := Ratio(r, ref); ok {
			rep.Ratios[r.Name+"/"+ref.Name] = v
		}
	}
	if cfg.Phases {
		cfg.Log("timing the phases")
		if rep.Phases, err = MeasurePhases(ctx, pk.Package, cfg.Out); err != nil {
			return nil, err
		}
	}
	rep.Load.End = loadAvg()
	return rep, nil
}

// dropRuns removes the runs folder, or with keep every output folder but
// those of the last round.
func dropRuns(runs string, keep bool, last int) error {
	if !keep {
		if err := os.RemoveAll(runs); err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		return nil
	}
	entries, err := os.ReadDir(runs)
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	for _, e := range entries {
		i := strings.LastIndexByte(e.Name(), '-')
		if i < 0 || e.Name()[i+1:] != strconv.Itoa(last) {
			if err := os.RemoveAll(filepath.Join(runs, e.Name())); err != nil {
				return fmt.Errorf("bench: %w", err)
			}
		}
	}
	return nil
}

// runOnce times one run of c into a fresh folder and checks its output,
// which stays for dropRuns.
func runOnce(ctx context.Context, c Contender, pk Packed, runs string, round int) (Sample, error) {
	dir := filepath.Join(runs, fmt.Sprintf("%s-%d", c.Name, round))
	scratch := dir + ".scratch"
	if err := os.Mkdir(scratch, 0o755); err != nil {
		return Sample{}, fmt.Errorf("bench: %w", err)
	}
	defer os.RemoveAll(scratch)
	floor := settle()
	s, err := Measure(c.Command(ctx, pk.Package, dir, scratch))
	if err != nil {
		os.RemoveAll(dir)
		return Sample{}, fmt.Errorf("bench: %s run %d: %w", c.Name, round, err)
	}
	if err := pk.check(c.Name, dir); err != nil {
		return Sample{}, fmt.Errorf("%w (output kept in %s)", err, dir)
	}
	s.RSSFloor = floor
	return s, nil
}
