package e2e

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/imepipe/imepipe/bench"
	"github.com/imepipe/imepipe/decrypt"
	"github.com/imepipe/imepipe/fetch"
	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/orchestrate"
)

// sequential is the IME's order of work, timed phase by phase in a
// child process.
func (s *site) sequential(ctx context.Context) (Result, error) {
	return s.child(ctx, job{Kind: kindSequential, Name: NameSequential, DeviceName: fmt.Sprintf("E2E-SEQUENTIAL-%d", s.round)})
}

// sequential runs in the child: enroll, fetch the content info and keys,
// one HTTP stream into Content/Incoming, then bench.StdlibUnpackRaw.
func (j *job) sequential(ctx context.Context) (childResult, error) {
	res := childResult{Phases: map[string]float64{}}
	hc, err := j.client()
	if err != nil {
		return res, err
	}
	priv, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return res, fmt.Errorf("e2e: %w", err)
	}
	c := imeapi.NewClient(j.ServiceURL, hc)
	if _, err := c.Enroll(ctx, j.DeviceName, j.Secret, priv.PublicKey()); err != nil {
		return res, err
	}
	pol, err := c.Policies(ctx)
	if err != nil {
		return res, err
	}
	if len(pol.Policies) == 0 {
		return res, fmt.Errorf("e2e: %w", errNoApp)
	}
	p := pol.Policies[0]
	if p.AppID != appID || p.Version != appVersion {
		return res, fmt.Errorf("e2e: the service offered %s_%s, not the bench's app", p.AppID, p.Version)
	}
	ci, keys, err := contentKeys(ctx, c, priv, appID, appVersion)
	if err != nil {
		return res, err
	}
	incoming := filepath.Join(j.Root, "Content", "Incoming")
	for _, d := range []string{incoming, filepath.Join(j.Root, "IMECache")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return res, fmt.Errorf("e2e: %w", err)
		}
	}
	bin := filepath.Join(incoming, appID+"_"+appVersion+".bin")
	start := time.Now()
	n, err := download(ctx, ci.ContentInfo.UploadLocation, bin)
	if err != nil {
		return res, err
	}
	last := time.Now()
	res.Phases["download"] = last.Sub(start).Seconds()
	mark := func(pass string) {
		now := time.Now()
		res.Phases[pass] = now.Sub(last).Seconds()
		last = now
	}
	tree, err := bench.StdlibUnpackRaw(ctx, bin, keys, filepath.Join(j.Root, "IMECache", appID+"_"+appVersion), mark)
	if err != nil {
		return res, fmt.Errorf("%w: %s: %w", ErrRun, NameSequential, err)
	}
	res.WallS = time.Since(start).Seconds()
	res.ContentS = res.WallS
	res.DO = fetch.Status{FileId: ci.ContentInfo.DoFileID, FileSize: n, FileSizeInCache: n, TotalBytesDownloaded: n,
		BytesFromHttp: n, DownloadMode: imeapi.ModeBypass, Status: imeapi.DOComplete, HttpConnectionCount: 1,
		DownloadDuration: fetch.TimeSpan(time.Duration(res.Phases["download"] * float64(time.Second)))}
	if tree.Files == 0 {
		return res, fmt.Errorf("%w: %s: nothing extracted", ErrRun, NameSequential)
	}
	return res, nil
}

// contentKeys is what the IME asks before an app's download: its content
// info and, opened with priv, its keys. appID and version are the
// bench's own, not names taken from the service.
func contentKeys(ctx context.Context, c *imeapi.Client, priv *ecdh.PrivateKey, appID, version string) (imeapi.ContentInfoResponse, decrypt.Keys, error) {
	ci, err := c.ContentInfo(ctx, appID, version)
	if err != nil {
		return ci, decrypt.Keys{}, err
	}
	di, err := c.OpenDecryptInfo(priv, ci.DecryptInfo)
	if err != nil {
		return ci, decrypt.Keys{}, err
	}
	keys, err := decrypt.KeysFromDecryptInfo(di, ci.ContentInfo.UnencryptedContentSize)
	return ci, keys, err
}

// child runs j in a child process, timed against the origin's counters
// (the caller sets Kind, Name and the run's settings; child the rest).
func (s *site) child(ctx context.Context, j job) (Result, error) {
	res := Result{Name: j.Name}
	j.Root = s.root(j.Name)
	j.ServiceURL, j.Secret, j.CA = s.svcURL, s.secret, s.ca
	if s.cfg.ProfileDir != "" {
		j.CPUProfile = filepath.Join(s.cfg.ProfileDir, fmt.Sprintf("%s-%d.cpu.pprof", j.Name, s.round))
	}
	switch j.Kind {
	case kindAgent:
		j.MemoryLimit = s.cfg.AgentMemoryLimit
	case kindFloor:
		j.MemoryLimit = s.cfg.UnpackMemoryLimit
	}
	bench.EvenStart(s.warm...)
	bench.WarmMemory(s.warmBytes)
	sent, cpu := s.origin.Sent(), s.origin.CPU()
	siteCPU := bench.SelfCPU()
	cr, err := runChild(ctx, s.exe, j)
	if err != nil {
		return res, err
	}
	s.drop(j.Name)
	res.ContentS, res.WallS, res.Phases, res.DO = cr.ContentS, cr.WallS, cr.Phases, cr.DO
	res.PeakRSS, res.CPUS = cr.PeakRSS, cr.CPUS
	res.OriginBytes = s.origin.Sent() - sent
	res.OriginCPUS = (s.origin.CPU() - cpu).Seconds()
	after := bench.SelfCPU()
	res.SiteCPUS = after - siteCPU
	if len(res.Phases) == 0 {
		res.Phases = nil
	}
	return res, nil
}

// drop removes the root of run name in this round unless Config.Keep:
// a run's gigabytes go before the next run, not at the end (on tmpfs
// they are memory).
func (s *site) drop(name string) {
	if !s.cfg.Keep {
		_ = os.RemoveAll(s.root(name))
	}
}

// floor is imepipe unpack of the package in a child process: the local
// floor every run is compared with.
func (s *site) floor(ctx context.Context) (Result, error) {
	return s.child(ctx, job{Kind: kindFloor, Name: NameFloor, Package: s.pkg})
}

// root is the folder of run name in this round.
func (s *site) root(name string) string {
	return filepath.Join(s.runs, fmt.Sprintf("%s-%d", name, s.round))
}

// download is one plain HTTP GET into path, as a single stream.
func download(ctx context.Context, url, path string) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, fmt.Errorf("e2e: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("e2e: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("e2e: GET the blob: %s", resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return 0, fmt.Errorf("e2e: %w", err)
	}
	n, err := io.Copy(f, resp.Body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, fmt.Errorf("e2e: download: %w", err)
	}
	return n, nil
}

// agentRun is one orchestrate.Agent syncing the required app.
type agentRun struct {
	name      string
	mode      imeapi.DownloadMode
	cacheHost bool
	peer      bool
}

// contentReady is the agent's log line that says the content is verified
// and extracted in IMECache.
const contentReady = "Decryption is done successfully"

// timedAgent is an agent with the moment its content was ready.
type timedAgent struct {
	*orchestrate.Agent
	mu    sync.Mutex
	ready time.Time
}

func (s *site) newAgent(r agentRun) (*timedAgent, error) {
	ta := &timedAgent{}
	cfg := orchestrate.Config{
		Root: s.root(r.name), ServiceURL: s.svcURL, EnrollmentSecret: s.secret, HTTP: s.hc,
		DeviceName: fmt.Sprintf("E2E-%s-%d", r.name, s.round), DownloadMode: new(r.mode),
		Logf: func(format string, args ...any) {
			if strings.Contains(fmt.Sprintf(format, args...), contentReady) {
				ta.mu.Lock()
				ta.ready = time.Now()
				ta.mu.Unlock()
			}
		},
	}
	if r.cacheHost {
		cfg.CacheHost = s.mccHost
	}
	if r.peer {
		cfg.PeerAddr = "127.0.0.1:0"
	}
	a, err := orchestrate.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("e2e: %w", err)
	}
	ta.Agent = a
	return ta, nil
}

// sync runs a's sync and returns its record for the bench app, failing
// unless the app ended installed and detected.
func (s *site) sync(ctx context.Context, a *timedAgent, name string) (Result, error) {
	res := Result{Name: name}
	sent := s.origin.Sent()
	start := time.Now()
	if err := a.Sync(ctx); err != nil {
		return res, fmt.Errorf("e2e: %s: %w", name, err)
	}
	res.WallS = time.Since(start).Seconds()
	a.mu.Lock()
	if !a.ready.IsZero() {
		res.ContentS = a.ready.Sub(start).Seconds()
	}
	a.mu.Unlock()
	res.OriginBytes = s.origin.Sent() - sent
	st, err := a.Status(ctx)
	if err != nil {
		return res, fmt.Errorf("e2e: %s: %w", name, err)
	}
	for _, app := range st.Apps {
		if app.AppID != appID {
			continue
		}
		if app.EnforcementState != imeapi.EnforcementSuccess || app.ComplianceState != imeapi.ComplianceInstalled {
			return res, fmt.Errorf("%w: %s: EnforcementState %d, ComplianceState %d (see %s)", ErrRun, name, app.EnforcementState, app.ComplianceState, a.LogPath())
		}
		if err := json.Unmarshal(app.DOStatus, &res.DO); err != nil {
			return res, fmt.Errorf("e2e: %s: DO record: %w", name, err)
		}
		return res, nil
	}
	return res, fmt.Errorf("%w: %s: the agent has no record of the app", ErrRun, name)
}

// imepipe is the agent straight from the origin (download mode 0), in a
// child process.
func (s *site) imepipe(ctx context.Context) (Result, error) {
	return s.child(ctx, job{Kind: kindAgent, Name: NameImepipe, DeviceName: fmt.Sprintf("E2E-%s-%d", NameImepipe, s.round), Mode: imeapi.ModeHTTPOnly})
}

// mcc is the agent through the Connected Cache, warmed first by an
// agent's download through it (not timed; once).
func (s *site) mcc(ctx context.Context) (Result, error) {
	if !s.mccWarm {
		warm, err := s.newAgent(agentRun{name: "mcc-warm", mode: imeapi.ModeHTTPOnly, cacheHost: true})
		if err != nil {
			return Result{}, err
		}
		if _, err := s.sync(ctx, warm, "mcc-warm"); err != nil {
			warm.Close()
			return Result{}, err
		}
		warm.Close()
		s.mccWarm = true
	}
	return s.child(ctx, job{Kind: kindAgent, Name: NameMCC, DeviceName: fmt.Sprintf("E2E-%s-%d", NameMCC, s.round),
		Mode: imeapi.ModeHTTPOnly, CacheHost: s.mccHost})
}

// lan is the agent (a child process) in download mode 1 beside a LAN
// peer in this process that installed the app first (not timed) and
// serves its DO cache.
func (s *site) lan(ctx context.Context) (Result, error) {
	seed, err := s.newAgent(agentRun{name: "lan-seed", mode: imeapi.ModeLAN, peer: true})
	if err != nil {
		return Result{}, err
	}
	defer func() {
		seed.Close()
		s.drop("lan-seed")
	}()
	if _, err := s.sync(ctx, seed, "lan-seed"); err != nil {
		return Result{}, err
	}
	return s.child(ctx, job{Kind: kindAgent, Name: NameLAN, DeviceName: fmt.Sprintf("E2E-%s-%d", NameLAN, s.round),
		Mode: imeapi.ModeLAN, Peer: true})
}
