package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"

	"github.com/imepipe/imepipe/bench"
	"github.com/imepipe/imepipe/decrypt"
	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/peer"
	"github.com/imepipe/imepipe/service"
)

// appID and appVersion name the benchmark app.
const (
	appID      = "00000000-0000-4000-8000-0000000000e2"
	appVersion = "1"
)

// installScript stands in for the installer: it copies the setup file
// where the detection rule looks.
const installScript = "set -e\n" +
	"mkdir -p \"$ProgramFiles/ImepipeBench\"\n" +
	"echo installed > \"$ProgramFiles/ImepipeBench/installed.txt\"\n"

// packed is the cached benchmark package.
type packed struct {
	path  string
	files int
	bytes int64
}

// preparePackage generates the dataset with an install script beside it
// and packs it, once per profile, size and seed (kept in cfg.Dir).
func preparePackage(ctx context.Context, cfg Config) (packed, error) {
	dir := filepath.Join(cfg.Dir, bench.CacheKey(cfg.Profile, cfg.Size, cfg.Seed))
	pk := packed{path: filepath.Join(dir, "setup.intunewin")}
	if b, err := os.ReadFile(filepath.Join(dir, "dataset.json")); err == nil {
		var ds bench.Dataset
		if json.Unmarshal(b, &ds) == nil && ds.Files > 0 {
			if fi, err := os.Stat(pk.path); err == nil {
				pk.files, pk.bytes = ds.Files, fi.Size()
				return pk, nil
			}
		}
	}
	partial := dir + ".partial"
	if err := os.RemoveAll(partial); err != nil {
		return pk, fmt.Errorf("e2e: %w", err)
	}
	setup := filepath.Join(partial, "setup")
	cfg.Logf("generating %s, %d bytes, seed %d", cfg.Profile, cfg.Size, cfg.Seed)
	ds, err := bench.Generate(setup, cfg.Profile, cfg.Size, cfg.Seed)
	if err != nil {
		return pk, err
	}
	if err := os.WriteFile(filepath.Join(setup, "install.sh"), []byte(installScript), 0o644); err != nil {
		return pk, fmt.Errorf("e2e: %w", err)
	}
	ds.Files++
	ds.Bytes += int64(len(installScript))
	cfg.Logf("packing")
	if _, err := decrypt.Pack(ctx, setup, "install.sh", filepath.Join(partial, "setup.intunewin"), decrypt.PackOptions{}); err != nil {
		os.RemoveAll(partial)
		return pk, err
	}
	if err := os.RemoveAll(setup); err != nil {
		return pk, fmt.Errorf("e2e: %w", err)
	}
	meta, err := json.Marshal(ds)
	if err == nil {
		err = os.WriteFile(filepath.Join(partial, "dataset.json"), meta, 0o644)
	}
	if err == nil {
		err = os.RemoveAll(dir)
	}
	if err == nil {
		err = os.Rename(partial, dir)
	}
	if err != nil {
		return pk, fmt.Errorf("e2e: %w", err)
	}
	fi, err := os.Stat(pk.path)
	if err != nil {
		return pk, fmt.Errorf("e2e: %w", err)
	}
	pk.files, pk.bytes = ds.Files, fi.Size()
	return pk, nil
}

// site is the service, the origin that serves its blobs and a Connected
// Cache in front of the origin.
type site struct {
	cfg     Config
	svc     *service.Server
	servers []*http.Server
	svcURL  string
	hc      *http.Client // reaches svcURL (trusts its CA); nil: the default
	secret  string
	origin  *bench.Origin
	mccHost string
	mccWarm bool   // the cache holds the blob
	runs    string // the runs' roots, kept until the end
	round   int
	exe     string   // the children's binary (Config.Exe)
	ca      string   // the service's CA file ("": plain HTTP)
	pkg     string   // the .intunewin (the floor's input)
	warm    []string // read into the page cache before every run: the package and the blob
	// warmBytes of fresh memory are touched and freed before every run
	// (bench.WarmMemory): what the biggest run writes (Content/Incoming
	// and IMECache) and a margin for its heap.
	warmBytes int64
}

func startSite(ctx context.Context, cfg Config, pkg string) (*site, error) {
	apps := filepath.Join(cfg.Dir, "apps")
	data := filepath.Join(cfg.Dir, "service")
	s := &site{cfg: cfg, runs: filepath.Join(cfg.Dir, "runs"), exe: cfg.Exe, pkg: pkg}
	if s.exe == "" {
		return nil, fmt.Errorf("e2e: no binary to run the children with")
	}
	for _, d := range []string{apps, s.runs} {
		if err := os.RemoveAll(d); err != nil {
			return nil, fmt.Errorf("e2e: %w", err)
		}
	}
	app := imeapi.Win32LobApp{
		ODataType: imeapi.TypeWin32LobApp, ID: appID, Version: appVersion,
		DisplayName: "imepipe bench package", SetupFilePath: "install.sh",
		InstallCommandLine: "sh install.sh", UninstallCommandLine: "true",
		Rules: []imeapi.Rule{{ODataType: imeapi.TypeFileSystemRule, RuleType: "detection", Path: `%ProgramFiles%\ImepipeBench`,
			FileOrFolderName: "installed.txt", OperationType: "exists"}},
		Assignments: []imeapi.Assignment{{Intent: "required", Target: imeapi.AssignmentTarget{ODataType: imeapi.TypeAllDevices}}},
	}
	if err := bench.WriteApp(apps, "bench-app", app, pkg); err != nil {
		return nil, err
	}
	s.origin = bench.NewOrigin(filepath.Join(data, "blobs"), cfg.OriginRate)
	hs, orgAddr, err := bench.ServeLoopback(s.origin)
	if err != nil {
		return nil, err
	}
	s.servers = append(s.servers, hs)
	if s.svc, err = service.NewContext(ctx, service.Config{AppsDir: apps, DataDir: data, BlobBaseURL: "http://" + orgAddr}); err != nil {
		s.stop()
		return nil, err
	}
	if len(s.svc.Apps()) != 1 {
		s.stop()
		return nil, fmt.Errorf("e2e: the service did not load the bench app: %v", s.svc.Skipped())
	}
	if s.secret, err = bench.EnrollmentSecret(s.svc); err != nil {
		s.stop()
		return nil, err
	}
	if hs, s.svcURL, s.hc, err = bench.ServeService(s.svc, data, cfg.TLS); err != nil {
		s.stop()
		return nil, err
	}
	s.servers = append(s.servers, hs)
	if cfg.TLS {
		s.ca = filepath.Join(data, service.CAFile)
	}
	blobs, _ := filepath.Glob(filepath.Join(data, "blobs", "*"))
	s.warm = append([]string{pkg}, blobs...)
	if st, err := os.Stat(pkg); err == nil {
		s.warmBytes = st.Size() + cfg.Size + 256<<20
	}
	mcc, err := peer.NewMCC(peer.MCCConfig{Dir: filepath.Join(s.runs, "mcc"), Origins: []string{orgAddr}})
	if err != nil {
		s.stop()
		return nil, err
	}
	if hs, s.mccHost, err = bench.ServeLoopback(mcc); err != nil {
		s.stop()
		return nil, err
	}
	s.servers = append(s.servers, hs)
	return s, nil
}

func (s *site) stop() {
	for _, hs := range s.servers {
		_ = hs.Close()
	}
	if s.svc != nil {
		_ = s.svc.Close()
	}
	if !s.cfg.Keep {
		_ = os.RemoveAll(s.runs)
	}
}

var errNoApp = errors.New("the service offered no app")
