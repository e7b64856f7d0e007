package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/imepipe/imepipe/bench"
	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/orchestrate"
	"github.com/imepipe/imepipe/service"
)

// Names of the sync benchmark's runs.
const (
	NameSyncOverlap = "imepipe"        // the agent's default look-ahead
	NameSyncSerial  = "imepipe-serial" // the agent with --prefetch 0: download, install, next
	NameSyncIME     = "ime-sequential" // the IME's order and passes, app after app (imeOrder)
)

// SyncConfig is one sync benchmark: Apps required apps of Size bytes
// each, synced the IME's way (one app after another, each downloaded,
// verified, decrypted and unzipped in the IME's passes, then installed),
// by the agent with its look-ahead, and by the agent one app after
// another (--prefetch 0: the look-ahead's own share). Zero fields take
// the defaults shown.
type SyncConfig struct {
	Apps int   // 10
	Size int64 // setup folder bytes per app (100 MiB)
	// OriginRate caps the origin's egress, bytes per second (0: loopback speed).
	OriginRate int64
	// Install is how long each installer runs (a sleep in the installer
	// process: the workload). 0: no sleep.
	Install time.Duration
	Runs    int    // rounds, each run once per round, interleaved (3)
	Dir     string // packages and runs (bench.DefaultOut()/sync)
	// Keep keeps every run's root (agent log, state.db, IMECache,
	// Program Files) in Dir/runs instead of removing it after the run.
	Keep bool
	Logf func(format string, args ...any)
	Step func(done, total int)
}

// SyncReport is the outcome of Sync. Times are medians over the rounds;
// Ratio is ImepipeS over SequentialS (the IME's order), SerialRatio
// ImepipeS over SerialS (the agent without its look-ahead).
type SyncReport struct {
	Apps            int        `json:"apps"`
	Size            int64      `json:"size"`
	OriginRate      int64      `json:"origin_rate"`
	InstallS        float64    `json:"install_s"`
	CPUs            int        `json:"cpus"`
	Load            bench.Load `json:"load_avg_1m"`
	Runs            int        `json:"runs"`
	ImepipeS        float64    `json:"imepipe_s"`
	SequentialS     float64    `json:"sequential_s"`
	Ratio           float64    `json:"ratio"`
	SerialS         float64    `json:"serial_s"`
	SerialRatio     float64    `json:"serial_ratio"`
	ImepipeRunsS    []float64  `json:"imepipe_runs_s"`
	SequentialRunsS []float64  `json:"sequential_runs_s"`
	SerialRunsS     []float64  `json:"serial_runs_s"`
	// AllInstalled: in every run every app ended installed and detected,
	// its installer run exactly once.
	AllInstalled bool `json:"allInstalled"`
}

// ErrSync: a sync run did not install every app exactly once.
var ErrSync = errors.New("e2e: sync run failed")

func (c *SyncConfig) defaults() {
	if c.Apps <= 0 {
		c.Apps = 10
	}
	if c.Size <= 0 {
		c.Size = 100 << 20
	}
	if c.Runs <= 0 {
		c.Runs = 3
	}
	if c.Dir == "" {
		c.Dir = filepath.Join(bench.DefaultOut(), "sync")
	}
	if c.Logf == nil {
		c.Logf = func(string, ...any) {}
	}
}

// syncAppID is the id of the sync benchmark's app i.
func syncAppID(i int) string { return fmt.Sprintf("00000000-0000-4000-8000-0000000e3%03d", i) }

// Sync prepares the packages (one per app, cached in Dir), serves them,
// and times the sync of all of them in the three orders, interleaved.
func Sync(ctx context.Context, cfg SyncConfig) (*SyncReport, error) {
	cfg.defaults()
	rep := &SyncReport{Apps: cfg.Apps, Size: cfg.Size, OriginRate: cfg.OriginRate, InstallS: cfg.Install.Seconds(),
		CPUs: runtime.NumCPU(), Runs: cfg.Runs, AllInstalled: true}
	rep.Load.Start = bench.LoadAvg()
	apps := filepath.Join(cfg.Dir, "apps")
	data := filepath.Join(cfg.Dir, "service")
	runs := filepath.Join(cfg.Dir, "runs")
	for _, d := range []string{apps, runs} {
		if err := os.RemoveAll(d); err != nil {
			return nil, fmt.Errorf("e2e: %w", err)
		}
	}
	if !cfg.Keep {
		defer os.RemoveAll(runs)
	}
	own := make(map[string]imeapi.Win32LobApp, cfg.Apps) // the bench's apps by id, for imeOrder
	for i := range cfg.Apps {
		pk, err := preparePackage(ctx, Config{Dir: cfg.Dir, Profile: bench.Installer, Size: cfg.Size, Seed: uint64(i + 1), Logf: cfg.Logf})
		if err != nil {
			return nil, err
		}
		dir := fmt.Sprintf("ImepipeSync%02d", i)
		app := imeapi.Win32LobApp{
			ODataType: imeapi.TypeWin32LobApp, ID: syncAppID(i), Version: "1",
			DisplayName: fmt.Sprintf("imepipe sync bench %02d", i), SetupFilePath: "install.sh",
			InstallCommandLine: fmt.Sprintf(`sleep %.3f && mkdir -p "$ProgramFiles/%s" && echo installed >> "$ProgramFiles/%s/installed.txt"`,
				cfg.Install.Seconds(), dir, dir),
			UninstallCommandLine: "true",
			Rules: []imeapi.Rule{{ODataType: imeapi.TypeFileSystemRule, RuleType: "detection", Path: `%ProgramFiles%\` + dir,
				FileOrFolderName: "installed.txt", OperationType: "exists"}},
			Assignments: []imeapi.Assignment{{Intent: "required", Target: imeapi.AssignmentTarget{ODataType: imeapi.TypeAllDevices}}},
		}
		if err := bench.WriteApp(apps, fmt.Sprintf("sync-app-%02d", i), app, pk.path); err != nil {
			return nil, err
		}
		own[app.ID] = app
	}
	origin := bench.NewOrigin(filepath.Join(data, "blobs"), cfg.OriginRate)
	ohs, orgAddr, err := bench.ServeLoopback(origin)
	if err != nil {
		return nil, err
	}
	defer ohs.Close()
	svc, err := service.NewContext(ctx, service.Config{AppsDir: apps, DataDir: data, BlobBaseURL: "http://" + orgAddr})
	if err != nil {
		return nil, err
	}
	defer svc.Close()
	if n := len(svc.Apps()); n != cfg.Apps {
		return nil, fmt.Errorf("e2e: the service loaded %d of %d apps: %v", n, cfg.Apps, svc.Skipped())
	}
	secret, err := bench.EnrollmentSecret(svc)
	if err != nil {
		return nil, err
	}
	shs, svcURL, _, err := bench.ServeService(svc, data, false)
	if err != nil {
		return nil, err
	}
	defer shs.Close()
	blobs, _ := filepath.Glob(filepath.Join(data, "blobs", "*"))

	names := []string{NameSyncOverlap, NameSyncSerial, NameSyncIME}
	total := len(names) * cfg.Runs
	if cfg.Step != nil {
		cfg.Step(0, total)
	}
	for round := 1; round <= cfg.Runs; round++ {
		for k, name := range names {
			root := filepath.Join(runs, fmt.Sprintf("%s-%d", name, round))
			bench.EvenStart(blobs...)
			var s float64
			switch name {
			case NameSyncOverlap:
				s, err = syncOnce(ctx, cfg, svcURL, secret, root, 0) // the agent's default
			case NameSyncSerial:
				s, err = syncOnce(ctx, cfg, svcURL, secret, root, -1)
			default:
				s, err = imeOrder(ctx, cfg, own, svcURL, secret, root)
			}
			if err != nil {
				rep.AllInstalled = false
				return rep, err
			}
			cfg.Logf("round %d/%d %-14s %d apps synced in %.2fs", round, cfg.Runs, name, cfg.Apps, s)
			switch name {
			case NameSyncOverlap:
				rep.ImepipeRunsS = append(rep.ImepipeRunsS, s)
			case NameSyncSerial:
				rep.SerialRunsS = append(rep.SerialRunsS, s)
			default:
				rep.SequentialRunsS = append(rep.SequentialRunsS, s)
			}
			if cfg.Step != nil {
				cfg.Step(len(names)*(round-1)+k+1, total)
			}
		}
	}
	rep.ImepipeS, rep.SequentialS = bench.Median(rep.ImepipeRunsS), bench.Median(rep.SequentialRunsS)
	rep.SerialS = bench.Median(rep.SerialRunsS)
	if rep.SequentialS > 0 {
		rep.Ratio = rep.ImepipeS / rep.SequentialS
	}
	if rep.SerialS > 0 {
		rep.SerialRatio = rep.ImepipeS / rep.SerialS
	}
	rep.Load.End = bench.LoadAvg()
	return rep, nil
}

// syncOnce is one agent's first sync from a fresh root: its time, or an
// ErrSync error unless every app ended installed with its installer run
// once.
func syncOnce(ctx context.Context, cfg SyncConfig, svcURL, secret, root string, prefetch int) (float64, error) {
	a, err := orchestrate.New(orchestrate.Config{Root: root, ServiceURL: svcURL, EnrollmentSecret: secret,
		DeviceName: "SYNC-" + filepath.Base(root), DownloadMode: new(imeapi.ModeHTTPOnly), Prefetch: prefetch,
		InstallTimeout: cfg.Install + 10*time.Minute})
	if err != nil {
		return 0, fmt.Errorf("e2e: %w", err)
	}
	defer a.Close()
	start := time.Now()
	if err := a.Sync(ctx); err != nil {
		return 0, fmt.Errorf("e2e: sync: %w", err)
	}
	took := time.Since(start).Seconds()
	st, err := a.Status(ctx)
	if err != nil {
		return 0, fmt.Errorf("e2e: sync: %w", err)
	}
	ids := map[string]bool{}
	for i := range cfg.Apps {
		ids[syncAppID(i)] = true
	}
	installed := 0
	for _, app := range st.Apps {
		if !ids[app.AppID] {
			continue
		}
		if app.EnforcementState != imeapi.EnforcementSuccess || app.ComplianceState != imeapi.ComplianceInstalled {
			return 0, fmt.Errorf("%w: app %s: EnforcementState %d, ComplianceState %d (see %s)", ErrSync, app.AppID, app.EnforcementState, app.ComplianceState, a.LogPath())
		}
		installed++
	}
	if installed != cfg.Apps {
		return 0, fmt.Errorf("%w: %d of %d apps installed (see %s)", ErrSync, installed, cfg.Apps, a.LogPath())
	}
	if err := checkInstalledOnce(cfg, root); err != nil {
		return 0, err
	}
	return took, dropRun(cfg, root)
}

// dropRun removes a run's root unless cfg.Keep.
func dropRun(cfg SyncConfig, root string) error {
	if cfg.Keep {
		return nil
	}
	if err := os.RemoveAll(root); err != nil {
		return fmt.Errorf("e2e: %w", err)
	}
	return nil
}

// checkInstalledOnce fails with ErrSync unless every app's installer
// ran exactly once under root's emulated Program Files.
func checkInstalledOnce(cfg SyncConfig, root string) error {
	for i := range cfg.Apps {
		b, err := os.ReadFile(filepath.Join(root, "Drive", "C", "Program Files", fmt.Sprintf("ImepipeSync%02d", i), "installed.txt"))
		if err != nil || strings.Count(string(b), "installed\n") != 1 {
			return fmt.Errorf("%w: app %d: installer ran %d times, want once (%v)", ErrSync, i, strings.Count(string(b), "installed\n"), err)
		}
	}
	return nil
}

// WriteText writes the report as a line per order and the ratios.
func (r *SyncReport) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "bench sync: %d required apps of %s, origin %s, installers of %.1f s, %d CPUs, load %.2f → %.2f, medians of %d round(s)\n",
		r.Apps, humanize.IBytes(uint64(r.Size)), rateText(r.OriginRate), r.InstallS, r.CPUs, r.Load.Start, r.Load.End, r.Runs)
	fmt.Fprintf(w, "%-14s %7.2f s  (look-ahead: the next apps download and unpack while one installs) %v\n", NameSyncOverlap, r.ImepipeS, r.ImepipeRunsS)
	fmt.Fprintf(w, "%-14s %7.2f s  (the agent one app after another, --prefetch 0) %v\n", NameSyncSerial, r.SerialS, r.SerialRunsS)
	fmt.Fprintf(w, "%-14s %7.2f s  (the IME's order: download, HMAC, decrypt, SHA-256, unzip, install, next app) %v\n", NameSyncIME, r.SequentialS, r.SequentialRunsS)
	_, err := fmt.Fprintf(w, "%s/%s: %.2f; %s/%s: %.2f; every app installed once: %v\n",
		NameSyncOverlap, NameSyncIME, r.Ratio, NameSyncOverlap, NameSyncSerial, r.SerialRatio, r.AllInstalled)
	return err
}

// WriteSVG draws the three orders' sync times.
func (r *SyncReport) WriteSVG(w io.Writer) error {
	p := bench.Panel{Title: "Sync of every required app (s)"}
	for _, row := range []struct {
		name string
		v    float64
	}{{NameSyncOverlap, r.ImepipeS}, {NameSyncSerial, r.SerialS}, {NameSyncIME, r.SequentialS}} {
		p.Rows = append(p.Rows, bench.Row{Label: row.name, Segments: []bench.Segment{{Value: row.v, Color: "#4e79a7"}}, Text: fmt.Sprintf("%.2f s", row.v)})
	}
	title := fmt.Sprintf("imepipe bench sync: %d apps of %s, origin %s, installers %.1f s", r.Apps, humanize.IBytes(uint64(r.Size)), rateText(r.OriginRate), r.InstallS)
	return bench.WriteSVG(w, title, []bench.Panel{p}, nil)
}
