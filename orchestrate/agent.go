package orchestrate

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/orchestrate/cmtrace"
	"github.com/imepipe/imepipe/orchestrate/imelog"
	"github.com/imepipe/imepipe/orchestrate/rules"
	"github.com/imepipe/imepipe/orchestrate/state"
	"github.com/imepipe/imepipe/peer"
)

// Agent is the endpoint agent of one root folder. Create it with New,
// then call Sync (one pass) or Run (the sync loop); Close when done.
// Sync, Install, Uninstall and the control socket's requests are
// serialised: one app flow runs at a time.
type Agent struct {
	cfg     Config
	layout  Layout
	store   *state.Store
	log     *cmtrace.Writer // IntuneManagementExtension.log
	execLog *cmtrace.Writer // AgentExecutor.log
	daemon  bool            // started by New: logs EMS Agent Started/Stopped
	flow    *tracer         // the flow in progress (under mu): its thread carries every app it processes
	client  *imeapi.Client
	priv    *ecdh.PrivateKey
	dl      Downloader
	peer    *peering    // DO peer side, when Config.PeerAddr is set
	doCache *peer.Cache // DOCache, while the agent daemon runs (New)
	rules   *rules.Env
	folders map[string]string
	threads atomic.Int64
	runs    inflight   // per-app guard and recorded installer runs
	related relatedSet // the policies of the current flow (under mu), for relationships
	metrics *agentMetrics

	mu        sync.Mutex // one flow at a time
	ln        net.Listener
	ctlWG     sync.WaitGroup
	closeOnce sync.Once
	closed    atomic.Bool
}

// New starts the agent daemon on cfg.Root: it opens the root (as Open
// does) and starts its control socket and, with Config.PeerAddr, its DO
// peer side. It does not touch the network: enrollment happens at the
// first sync. An agent already running on the root makes New fail with
// state.ErrLocked.
func New(cfg Config) (*Agent, error) {
	a, err := Open(cfg)
	if err != nil {
		return nil, err
	}
	if err := a.listen(); err != nil {
		a.closeFiles()
		return nil, err
	}
	if err := a.openDOCache(); err != nil {
		a.Close()
		return nil, err
	}
	if a.cfg.PeerAddr != "" {
		if err := a.startPeering(); err != nil {
			a.Close()
			return nil, err
		}
		if cfg.Downloader == nil {
			a.dl = a.peer.dl
		}
	} else if cfg.Downloader == nil {
		a.dl = a.fetchDownloader(a.doCache)
	}
	a.daemon = true
	t := a.agentTracer()
	t.log(imelog.EMSAgentStarted)
	t.log(imelog.AgentSettings, a.cfg.Root, a.cfg.SyncInterval, a.cfg.RetryInterval, a.cfg.MaxAttempts, a.cfg.GRSWindow)
	return a, nil
}

// Open is the handle of a CLI command acting on cfg.Root's state.db while
// no agent runs there (Connect uses it): it opens the root (creating its
// folders, state.db and log) and the device's identity, and starts
// nothing — no control socket, no peer server, no loop. Its methods
// (Status, Sync, Install, Reg, …) act once; Close releases state.db. An
// agent running on the root makes Open fail with state.ErrLocked.
func Open(cfg Config) (*Agent, error) {
	if cfg.Root == "" {
		return nil, fmt.Errorf("orchestrate: Config.Root is required")
	}
	root, err := filepath.Abs(cfg.Root)
	if err != nil {
		return nil, fmt.Errorf("orchestrate: %w", err)
	}
	cfg.Root = root
	layout := LayoutOf(root)
	if err := layout.create(); err != nil {
		return nil, fmt.Errorf("orchestrate: %w", err)
	}
	st, err := state.Open(layout.State, time.Second)
	if err != nil {
		return nil, fmt.Errorf("orchestrate: %w", err)
	}
	if err := loadSettings(st, &cfg); err != nil {
		st.Close()
		return nil, err
	}
	cfg = cfg.withDefaults()
	lw, err := cmtrace.Open(filepath.Join(layout.Logs, imelog.FileIME), cmtrace.Options{MaxSize: cfg.LogMaxSize, Keep: cfg.LogKeep, Clock: cfg.Clock, Component: imelog.ComponentIME})
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("orchestrate: %w", err)
	}
	ew, err := cmtrace.Open(filepath.Join(layout.Logs, imelog.FileAgentExecutor), cmtrace.Options{MaxSize: cfg.LogMaxSize, Keep: cfg.LogKeep, Clock: cfg.Clock, Component: imelog.ComponentAgentExecutor})
	if err != nil {
		lw.Close()
		st.Close()
		return nil, fmt.Errorf("orchestrate: %w", err)
	}
	a := &Agent{cfg: cfg, layout: layout, store: st, log: lw, execLog: ew, metrics: newAgentMetrics()}
	a.folders = rules.KnownFolders(root, cfg.Folders)
	a.dl = cfg.Downloader
	if a.dl == nil {
		a.dl = a.fetchDownloader(nil)
	}
	scriptEnv := append(installerEnv(), rules.FolderEnv(a.folders)...)
	a.rules = &rules.Env{Registry: st, Folders: a.folders, Scripts: rules.Scripts{Dir: layout.Staging, Timeout: cfg.ScriptTimeout, Env: scriptEnv}} // Observe: scriptRules
	if !cfg.EmulatedRegistry {
		a.rules.UseSystem()
	}
	if err := a.loadIdentity(); err != nil {
		a.closeFiles()
		return nil, err
	}
	return a, nil
}

// loadSettings fills unset intervals from state.db and stores the given
// ones, so that CLI commands acting on the root use the agent's values.
func loadSettings(st *state.Store, cfg *Config) error {
	durs := []struct {
		name string
		v    *time.Duration
	}{{"SyncInterval", &cfg.SyncInterval}, {"RetryInterval", &cfg.RetryInterval}, {"GRSWindow", &cfg.GRSWindow}, {"InstallTimeout", &cfg.InstallTimeout}}
	for _, d := range durs {
		if *d.v > 0 {
			if err := st.SetValue(d.name, d.v.String()); err != nil {
				return fmt.Errorf("orchestrate: %w", err)
			}
			continue
		}
		if s, _ := st.Value(d.name); s != "" {
			*d.v, _ = time.ParseDuration(s)
		}
	}
	if cfg.MaxAttempts > 0 {
		_ = st.SetValue("MaxAttempts", strconv.Itoa(cfg.MaxAttempts))
	} else if s, _ := st.Value("MaxAttempts"); s != "" {
		cfg.MaxAttempts, _ = strconv.Atoi(s)
	}
	strs := []struct {
		name string
		v    *string
	}{{"CacheHost", &cfg.CacheHost}, {"PeerAddr", &cfg.PeerAddr}, {"LanID", &cfg.LanID}}
	for _, s := range strs {
		if *s.v != "" {
			_ = st.SetValue(s.name, *s.v)
		} else {
			*s.v, _ = st.Value(s.name)
		}
	}
	mode := imeapi.ModeHTTPOnly
	stored, _ := st.Value("DownloadMode")
	given := cfg.DownloadMode
	if given == nil && stored == "" {
		given = cfg.DefaultDownloadMode
	}
	if given != nil {
		mode = *given
		if err := mode.Check(); err != nil {
			return fmt.Errorf("orchestrate: %w", err)
		}
		_ = st.SetValue("DownloadMode", strconv.Itoa(int(mode)))
	} else if m, err := imeapi.ParseDownloadMode(stored); err == nil {
		mode = m
	}
	cfg.DownloadMode = &mode
	switch {
	case cfg.PeerAddr == PeerOff:
		cfg.PeerAddr = ""
	case cfg.PeerAddr == "" && (mode == imeapi.ModeLAN || mode == imeapi.ModeGroup):
		cfg.PeerAddr = cfg.DefaultPeerAddr
	}
	return nil
}

// PeerOff, as Config.PeerAddr (--peer-addr off), turns peering off; it is
// stored, so later runs on the root keep it off.
const PeerOff = "off"

// loadIdentity restores the enrolled device, unless a different service
// is configured (then the next sync enrolls again).
func (a *Agent) loadIdentity() error {
	id, ok, err := a.store.Identity()
	if err != nil {
		return fmt.Errorf("orchestrate: %w", err)
	}
	url := a.cfg.ServiceURL
	if ok && (url == "" || url == id.ServiceURL) {
		priv, err := ecdh.X25519().NewPrivateKey(id.PrivateKey)
		if err != nil {
			return fmt.Errorf("orchestrate: stored device key: %w", err)
		}
		a.priv = priv
		a.client = imeapi.NewClient(id.ServiceURL, a.cfg.HTTP)
		a.client.Token, a.client.DeviceID = id.Token, id.DeviceID
		a.client.DeviceProperties = a.cfg.DeviceProperties
		return nil
	}
	if url != "" {
		a.client = imeapi.NewClient(url, a.cfg.HTTP)
		a.client.DeviceProperties = a.cfg.DeviceProperties
	}
	return nil
}

// enroll enrolls the device when it has no token yet.
func (a *Agent) enroll(ctx context.Context, t *tracer) error {
	if a.client == nil {
		return fmt.Errorf("%w (no service URL and enrollment secret given)", ErrNotEnrolled)
	}
	if a.client.Token != "" {
		return nil
	}
	if a.cfg.EnrollmentSecret == "" {
		return fmt.Errorf("%w: no enrollment secret given", ErrNotEnrolled)
	}
	priv, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return fmt.Errorf("orchestrate: device key: %w", err)
	}
	resp, err := a.client.Enroll(ctx, a.cfg.DeviceName, a.cfg.EnrollmentSecret, priv.PublicKey(), a.cfg.Groups...)
	if err != nil {
		return a.serviceError(ctx, "enroll", err)
	}
	a.priv = priv
	t.log(imelog.Enrolled, a.client.BaseURL, resp.DeviceID)
	return a.store.SetIdentity(state.Identity{ServiceURL: a.client.BaseURL, DeviceID: resp.DeviceID, DeviceName: a.cfg.DeviceName, Token: resp.Token, PrivateKey: priv.Bytes()})
}

// Root is the agent's root folder; Layout its folders.
func (a *Agent) Root() string        { return a.layout.Root }
func (a *Agent) Layout() Layout      { return a.layout }
func (a *Agent) LogPath() string     { return a.log.Path() }
func (a *Agent) Store() *state.Store { return a.store }

// Run syncs now and then every SyncInterval, waking earlier when an app's
// retry or GRS window is due, until ctx ends (then it returns nil). A
// failed sync (the service down, the enrollment refused) is logged by
// SyncKind and tried again at the next wake-up; Run does not retry
// sooner.
func (a *Agent) Run(ctx context.Context) error {
	for {
		if err := a.Sync(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, ErrClosed) {
				return err
			}
		}
		wait := a.nextWake()
		select {
		case <-ctx.Done():
			return nil
		case <-a.cfg.Clock.After(wait):
		}
	}
}

// nextWake is the time to the next sync or due retry or GRS expiry.
func (a *Agent) nextWake() time.Duration {
	wait := a.cfg.SyncInterval
	apps, err := a.store.Apps()
	if err != nil {
		return wait
	}
	now := a.cfg.Clock.Now()
	for _, ap := range apps {
		var due time.Time
		switch {
		case !ap.GRS.IsZero():
			due = ap.GRS.Add(a.cfg.GRSWindow)
		case ap.Attempts.Count > 0:
			due = ap.Attempts.Last.Add(a.cfg.RetryInterval)
		default:
			continue
		}
		if d := due.Sub(now); d < wait {
			wait = max(d, time.Millisecond)
		}
	}
	return wait
}

// Close stops the control socket and closes state.db and the log, after
// any flow in progress (cancel its context first to stop it early).
func (a *Agent) Close() error {
	var err error
	a.closeOnce.Do(func() {
		a.closed.Store(true)
		if a.ln != nil {
			a.ln.Close()
			a.ctlWG.Wait()
			os.Remove(a.layout.Socket)
		}
		if a.peer != nil {
			a.peer.stop()
		}
		a.mu.Lock()
		defer a.mu.Unlock()
		a.leaveArray() // after the last flow: nothing registers again
		if a.daemon {
			a.agentTracer().log(imelog.EMSAgentStopped)
		}
		err = a.closeFiles()
		if a.doCache != nil {
			if cerr := a.doCache.Close(); err == nil {
				err = cerr
			}
		}
	})
	return err
}

func (a *Agent) closeFiles() error {
	err := a.store.Close()
	if lerr := a.log.Close(); err == nil {
		err = lerr
	}
	if lerr := a.execLog.Close(); err == nil {
		err = lerr
	}
	return err
}
