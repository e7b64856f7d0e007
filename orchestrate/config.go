package orchestrate

import (
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/imepipe/imepipe/fetch"
	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/internal/clock"
	"github.com/imepipe/imepipe/internal/privdir"
	"github.com/imepipe/imepipe/orchestrate/rules"
	"github.com/imepipe/imepipe/peer"
)

// Defaults of the intervals, as the IME has them.
const (
	DefaultSyncInterval   = 60 * time.Minute
	DefaultRetryInterval  = 5 * time.Minute
	DefaultMaxAttempts    = 3
	DefaultGRSWindow      = 24 * time.Hour
	DefaultInstallTimeout = 60 * time.Minute
	DefaultScriptTimeout  = rules.DefaultScriptTimeout
)

// Config is an agent's configuration. Root is required; ServiceURL and
// EnrollmentSecret are needed only until the device is enrolled (the
// identity is kept in state.db).
type Config struct {
	// Root holds Content/Incoming, Content/Staging, IMECache, DOCache,
	// Logs, state.db and the control socket.
	Root string

	ServiceURL       string
	EnrollmentSecret string
	DeviceName       string   // default: the host name
	Groups           []string // Entra group ids sent at enrollment (--group-id)
	// DeviceProperties are reported at enrollment and every sync, for
	// assignment filters (imeapi.DeviceProperties); nil: none reported.
	DeviceProperties map[string]string
	HTTP             *http.Client

	// Downloader fetches content; nil: FetchDownloader over the origin,
	// with CacheHost (a Connected Cache host) first when set, or with
	// PeerAddr set a PeerDownloader over the DO cache and LAN peers.
	Downloader Downloader
	// DownloadMode is DO's download mode, stored in state.db; nil keeps
	// the stored one (DefaultDownloadMode when none is), so that CLI
	// commands on the root do not change it and an explicit ModeHTTPOnly
	// (0) is kept, as Windows keeps its DODownloadMode policy.
	DownloadMode *imeapi.DownloadMode
	// DefaultDownloadMode, when set, is the mode of a root that has none
	// stored and is given none, stored as if given (the agent command's
	// default); nil: HTTP only, not stored.
	DefaultDownloadMode *imeapi.DownloadMode
	CacheHost           string // MCC host[:port]
	// PeerAddr, when set (host:port; "127.0.0.1:0" picks a port), makes
	// the agent share its DOCache with peers: a peer.Server listens there
	// while the agent runs (not for CLI commands on the root), and
	// downloads go through PeerDownloader. Agent.PeerAddr is the bound address.
	PeerAddr string
	// DefaultPeerAddr is where the piece server listens when PeerAddr is
	// neither given nor stored and the download mode is LAN (1) or Group
	// (2), as Windows DO listens on 7680 there; the CLI gives ":7680",
	// tests a free port. Empty: no peering unless PeerAddr is set.
	// PeerAddr "off" (stored too) turns peering off whatever this says.
	DefaultPeerAddr string
	// LanID overrides the LAN id the Array derives from the agent's
	// address (its /24), so that agents on one host can stand for
	// several LANs (--lan-id); stored.
	LanID string
	// DOPolicy is DO's back-to-source policy for peer downloads (delays,
	// DOMinBackgroundQos; the priority is each download's own).
	DOPolicy peer.Policy
	// DOMaxUploadBandwidth caps the peer server's uploads in bytes per
	// second (DO's DOMaxUploadBandwidth; 0: no cap).
	DOMaxUploadBandwidth int64
	// DOCache is DO's cache policy for the agent's DOCache (MaxBytes:
	// DOAbsoluteMaxCacheSize, MaxPercent: DOMaxCacheSize, MaxAge:
	// DOMaxCacheAge; zero values: DO's defaults). Its Clock (last use,
	// Caching, the saves' interval) is the agent's unless set; Logf is
	// the agent's own.
	DOCache peer.CacheOptions

	SyncInterval  time.Duration // between syncs (DefaultSyncInterval)
	RetryInterval time.Duration // minimum gap between attempts (DefaultRetryInterval)
	MaxAttempts   int           // attempts before GRS (DefaultMaxAttempts)
	GRSWindow     time.Duration // no new attempt this long after the last failed one (DefaultGRSWindow)
	// InstallTimeout overrides every app's maxRunTimeInMinutes (0: the
	// app's, or DefaultInstallTimeout).
	InstallTimeout time.Duration
	ScriptTimeout  time.Duration // detection/requirement scripts (DefaultScriptTimeout)
	// OrphanPoll is how often an installer run left by an earlier agent
	// process (re-adopted, see adopt) is looked at again (DefaultOrphanPoll).
	OrphanPoll time.Duration

	// PersistContent keeps every app's IMECache folder after install
	// (source resiliency); an app can ask for it alone with
	// "persistContent": true in its app.json. Kept content is bounded by
	// PersistMaxBytes and PersistMaxApps, least recently used evicted.
	PersistContent  bool
	PersistMaxBytes int64 // default 10 GiB
	PersistMaxApps  int   // default 20

	// Folders maps Windows known folders (%ProgramFiles%, %ProgramData%, …,
	// and drive letters as "C:") to local paths; unset ones default to
	// Root/Drive/C/…; see KnownFolders.
	Folders map[string]string

	// EmulatedRegistry keeps the rules on the emulated registry in
	// state.db (the `imepipe reg` one) on Windows too, where they read
	// the system's registry and Windows Installer by default
	// (rules.Env.UseSystem). Off Windows the registry is always emulated.
	EmulatedRegistry bool

	// System reports the machine for requirement rules (default: this host).
	System func() (SystemInfo, error)
	// OSVersion is the device's OS version ("10.0.19045") that an app's
	// minimumSupportedOperatingSystem and minimumSupportedWindowsRelease
	// are checked against (agent --os-version). Empty: System's (the real
	// build on Windows), else DefaultOSVersion.
	OSVersion string
	// Location is the device's time zone, for installTimeSettings with
	// useLocalTime (nil: time.Local).
	Location *time.Location
	// InstallUser is the account an app with runAsAccount user is
	// installed as (agent --install-user, Linux and macOS): the installer
	// runs with that user's uid, gid and groups, which needs the agent to
	// be root. Empty: such apps fail with ErrInstallUser, never run as root.
	// Not used on Windows, where such apps run as the logged-on user
	// (runas_windows.go).
	InstallUser string

	// Reaper is the executable re-run as the process-tree reaper
	// (reap.Main must run first in its main); default os.Executable().
	Reaper string

	LogMaxSize int64 // IntuneManagementExtension.log rotation size (2 MiB)
	LogKeep    int   // rotated logs kept (1)

	// Clock is the agent's one time source, passed down to its log, DO
	// cache, piece server, Swarm and downloads: Now dates, After waits
	// (the sync loop, the orphan poll, the announcer). Tests drive it;
	// nil: the real clock.
	Clock Clock
	// Progress, when set, is called as each content download starts, with
	// the app's key (APPID_REV) and the download's Job (read its Status as
	// it runs); the function it returns is called once the download and
	// the unpack that overlaps it are over. The CLI draws progress bars
	// with it. Content served from the caches runs no Job and calls nothing.
	Progress func(key string, job *fetch.Job) (done func())
	// Prefetch is how many apps' content a sync downloads and unpacks
	// ahead while an app installs (agent --prefetch): installs stay one
	// at a time. 0: DefaultPrefetch; negative: none, one app after
	// another as the IME does.
	Prefetch int
	// Logf also receives every log line in plain text (nil: silent).
	Logf func(format string, args ...any)
}

func (c Config) withDefaults() Config {
	if c.SyncInterval <= 0 {
		c.SyncInterval = DefaultSyncInterval
	}
	if c.RetryInterval <= 0 {
		c.RetryInterval = DefaultRetryInterval
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = DefaultMaxAttempts
	}
	if c.GRSWindow <= 0 {
		c.GRSWindow = DefaultGRSWindow
	}
	if c.OrphanPoll <= 0 {
		c.OrphanPoll = DefaultOrphanPoll
	}
	if c.ScriptTimeout <= 0 {
		c.ScriptTimeout = DefaultScriptTimeout
	}
	if c.PersistMaxBytes <= 0 {
		c.PersistMaxBytes = 10 << 30
	}
	if c.PersistMaxApps <= 0 {
		c.PersistMaxApps = 20
	}
	if c.DeviceName == "" {
		c.DeviceName, _ = os.Hostname()
	}
	if c.Clock == nil {
		c.Clock = clock.Real{}
	}
	if c.Logf == nil {
		c.Logf = func(string, ...any) {}
	}
	if c.System == nil {
		c.System = hostSystem(c.Root)
	}
	if c.Location == nil {
		c.Location = time.Local
	}
	return c
}

// Layout is the folder layout under a root.
type Layout struct {
	Root, Incoming, Staging, IMECache, DOCache, Logs, State, Socket string
}

// LayoutOf returns the layout under root.
func LayoutOf(root string) Layout {
	return Layout{
		Root:     root,
		Incoming: filepath.Join(root, "Content", "Incoming"),
		Staging:  filepath.Join(root, "Content", "Staging"),
		IMECache: filepath.Join(root, "IMECache"),
		DOCache:  filepath.Join(root, "DOCache"),
		Logs:     filepath.Join(root, "Logs"),
		State:    filepath.Join(root, "state.db"),
		Socket:   filepath.Join(root, "agent.sock"),
	}
}

// create makes the layout's folders. Those holding content (Content with
// Incoming and Staging, IMECache's plaintext installers, DOCache) are
// private to the agent's user, 0700; one that exists with looser bits is
// tightened. The root and Logs stay 0755.
func (l Layout) create() error {
	if err := os.MkdirAll(l.Root, 0o755); err != nil {
		return err
	}
	for _, d := range []string{filepath.Dir(l.Incoming), l.Incoming, l.Staging, l.IMECache, l.DOCache} {
		if err := privdir.Make(d); err != nil {
			return err
		}
	}
	return os.MkdirAll(l.Logs, 0o755)
}

// Clock is the agent's time source (internal/clock's Real; tests pass
// internal/clocktest's). Its value also serves as the log's, the DO
// cache's, the piece server's, the Swarm's and the downloads' clock.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}
