package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/imepipe/imepipe/fetch"
	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/orchestrate"
	"github.com/imepipe/imepipe/orchestrate/reap"
	"github.com/imepipe/imepipe/orchestrate/state"
)

func init() {
	// When the agent re-runs this binary as an installer's process-tree
	// reaper (IMEPIPE_REAPER=1), do that and exit before anything else.
	reap.Main()
	register("agent", "run the endpoint agent: sync, detect, download, install, report", runAgent)
}

// rootFlag adds --root, defaulting to orchestrate.DefaultRoot ($IMEPIPE_ROOT,
// else the OS's agent root): the same default for every command.
func rootFlag(fs *flag.FlagSet) *string {
	return fs.String("root", orchestrate.DefaultRoot(), "agent root `DIR` (state.db, IMECache, Logs, …)")
}

// connect reaches the agent of root (its control socket, or state.db).
// A folder that is not an agent root (no state.db) is an error: a query
// must not create one.
func connect(ctx context.Context, root string) (orchestrate.Control, io.Closer, error) {
	return connectWith(ctx, root, orchestrate.Config{})
}

// connectWith is connect with cfg's hooks (Logf, Progress) for an agent
// opened in this process, when none runs on root.
func connectWith(ctx context.Context, root string, cfg orchestrate.Config) (orchestrate.Control, io.Closer, error) {
	if err := orchestrate.CheckRoot(root); err != nil {
		return nil, nil, err
	}
	if ca := storedCA(root); ca != "" {
		hc, err := trustingClient(ca)
		if err != nil {
			return nil, nil, err
		}
		cfg.HTTP = hc
	}
	return orchestrate.Connect(ctx, root, cfg)
}

// storedCAName is the copy of --ca-file kept in the agent root, so that a
// later run (agent without flags, sync with no agent running) trusts the
// service it enrolled with; a root never given --ca-file trusts the
// system's roots only.
const storedCAName = "service-ca.pem"

// storedCA is the root's kept CA file, or "" when it has none.
func storedCA(root string) string {
	p := filepath.Join(root, storedCAName)
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

// storeCA keeps a copy of caFile in root (temp file, sync, rename).
func storeCA(root, caFile string) error {
	dst := filepath.Join(root, storedCAName)
	if abs, err := filepath.Abs(caFile); err == nil {
		if d, err := filepath.Abs(dst); err == nil && d == abs {
			return nil
		}
	}
	data, err := os.ReadFile(caFile)
	if err != nil {
		return fmt.Errorf("--ca-file: %w", err)
	}
	f, err := os.CreateTemp(root, "."+storedCAName+".*")
	if err != nil {
		return fmt.Errorf("agent: keep CA: %w", err)
	}
	_, err = f.Write(data)
	err = errors.Join(err, f.Chmod(0o644), f.Sync(), f.Close())
	if err == nil {
		err = os.Rename(f.Name(), dst)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("agent: keep CA: %w", err)
	}
	return nil
}

// defaultPeerAddr is where an agent in download mode 1 or 2 shares its
// DO cache when --peer-addr is not given, as Windows DO does on 7680.
// Tests set a free port instead.
var defaultPeerAddr = ":7680"

func runAgent(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "agent")
	svc := fs.String("service", "", "service `URL`, e.g. https://127.0.0.1:8080 (needed until enrolled)")
	caFile := fs.String("ca-file", "", "also trust the CA certificates in `FILE` (PEM; serve --tls writes DATA/ca.pem) for https (stored)")
	secretFile := fs.String("enrollment-secret-file", "", "enrollment secret `FILE` (needed until enrolled)")
	root := rootFlag(fs)
	once := fs.Bool("once", false, "run one sync and exit")
	peerAddr := fs.String("peer-addr", "", "`HOST:PORT` to share the DO cache with peers on (default "+defaultPeerAddr+" in download modes 1 and 2; off: none; stored)")
	lanID := fs.String("lan-id", "", "DO LAN `ID` given to the Array instead of this host's /24, so agents on one host can stand for several LANs (stored)")
	mode := fs.Int("download-mode", int(imeapi.ModeLAN), "DO download `MODE`: 0 HTTP, 1 LAN, 2 Group, 3 Internet, 99 Simple, 100 Bypass; kept for later runs (1 on a new root)")
	groups := fs.String("group-id", "", "group `IDs` (comma-separated) for assignments and DO Group mode")
	cacheHost := fs.String("cache-host", "", "Connected Cache `HOST[:PORT]` tried before the origin")
	syncEvery := fs.Duration("sync-interval", 0, "time between syncs (default 60m)")
	retry := fs.Duration("retry-interval", 0, "minimum time between attempts of a failing app (default 5m)")
	grs := fs.Duration("grs-window", 0, "no new attempt this long after the last failed one (default 24h)")
	attempts := fs.Int("max-attempts", 0, "attempts before GRS (default 3)")
	timeout := fs.Duration("install-timeout", 0, "installer time limit (default: the app's maxRunTimeInMinutes, or 60m)")
	prefetch := fs.Int("prefetch", orchestrate.DefaultPrefetch, "apps whose content a sync downloads and unpacks ahead while an app installs (0: one app after another, as the IME)")
	persist := fs.Bool("persist-content", false, "keep every app's content after install (source resiliency)")
	applyPersist := persistFlags(fs)
	applyLog := logFlags(fs)
	name := fs.String("device-name", "", "device name at enrollment (default: host name)")
	props := devicePropertyFlag(fs)
	osVersion := fs.String("os-version", "", "Windows `VERSION` (MAJOR.MINOR.BUILD) apps' OS minimums are checked against (default: the real one on Windows, "+orchestrate.DefaultOSVersion+" elsewhere)")
	installUser := fs.String("install-user", "", "`USER` that apps with runAsAccount user are installed as (Linux and macOS; the agent must be root; Windows runs them as the logged-on user); unset: such apps fail, never run as root")
	quiet := fs.Bool("q", false, "do not echo the log on stderr")
	jsonOut := fs.Bool("json", false, "with --once: print the status as JSON")
	doPolicy := doPolicyFlags(fs)
	doCache := doCacheFlags(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	pol, maxUpload, err := doPolicy()
	if err != nil {
		return err
	}
	cacheOpt, err := doCache()
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usagef("unexpected arguments %q", pos)
	}
	limitMemoryTo(agentMemory)
	if *prefetch < 0 {
		return usagef("--prefetch %d: want 0 or more", *prefetch)
	}
	dm := imeapi.DownloadMode(*mode)
	if !dm.Valid() {
		return usagef("--download-mode %d: want 0, 1, 2, 3, 99 or 100", *mode)
	}
	for _, d := range []*time.Duration{syncEvery, retry, grs, timeout} {
		if *d < 0 {
			return usagef("intervals must not be negative")
		}
	}
	var secret string
	if *secretFile != "" {
		b, err := os.ReadFile(*secretFile)
		if err != nil {
			fe := fileError(*secretFile, err) // "FILE: no such file"
			fe.path = "enrollment secret file " + fe.path
			return fe
		}
		secret = strings.TrimSpace(string(b))
	}
	if *peerAddr != "" && *peerAddr != orchestrate.PeerOff {
		if _, _, err := net.SplitHostPort(*peerAddr); err != nil {
			return usagef("--peer-addr %q: want HOST:PORT or off", *peerAddr)
		}
	}
	if (*svc == "") != (*secretFile == "") {
		return usagef("--service and --enrollment-secret-file go together")
	}
	if *osVersion != "" {
		if _, err := imeapi.OSBuild(*osVersion); err != nil || strings.Count(*osVersion, ".") < 2 {
			return usagef("--os-version %q: want MAJOR.MINOR.BUILD, e.g. 10.0.19045", *osVersion)
		}
	}
	cfg := orchestrate.Config{
		Root: *root, ServiceURL: *svc, EnrollmentSecret: secret, DeviceName: *name,
		DownloadMode: modeGiven(fs, dm), DefaultDownloadMode: &defaultMode, CacheHost: *cacheHost, PeerAddr: *peerAddr, DefaultPeerAddr: defaultPeerAddr, LanID: *lanID,
		SyncInterval: *syncEvery, RetryInterval: *retry, GRSWindow: *grs, MaxAttempts: *attempts,
		InstallTimeout: *timeout, PersistContent: *persist,
		DeviceProperties: props(*name), OSVersion: *osVersion, InstallUser: *installUser,
		DOPolicy: pol, DOMaxUploadBandwidth: maxUpload, DOCache: cacheOpt, Prefetch: *prefetch,
	}
	if *prefetch == 0 {
		cfg.Prefetch = -1 // Config's 0 is the default
	}
	if err := applyPersist(&cfg); err != nil {
		return err
	}
	if err := applyLog(&cfg); err != nil {
		return err
	}
	trust := *caFile
	if trust == "" {
		trust = storedCA(*root)
	}
	if trust != "" {
		hc, err := trustingClient(trust)
		if err != nil {
			return err
		}
		cfg.HTTP = hc
	}
	if *groups != "" {
		cfg.Groups = strings.Split(*groups, ",")
	}
	bars := newAgentBars(e, *once && !*jsonOut)
	dls := &downloads{next: bars.Hook()}
	cfg.Progress = dls.hook
	if !*quiet && !*jsonOut {
		cfg.Logf = bars.Logf
	}
	if *svc == "" && orchestrate.CheckRoot(*root) != nil {
		return notEnrolled(*root) // before New creates the root
	}
	a, err := orchestrate.New(cfg)
	if errors.Is(err, state.ErrLocked) {
		return rootInUse(ctx, *root)
	}
	if err != nil {
		return err
	}
	defer a.Close()
	if *svc == "" {
		if st, err := a.Status(ctx); err == nil && !st.Enrolled {
			return notEnrolled(*root)
		}
	}
	if *caFile != "" {
		if err := storeCA(*root, *caFile); err != nil {
			return err
		}
	}
	if !*once {
		// A service whose certificate is refused, a secret it rejects or
		// the wrong scheme would only be logged, sync after sync, and
		// never mend: before the first enrollment, say it and exit. A
		// service not reachable yet is waited for.
		if st, err := a.Status(ctx); err == nil && !st.Enrolled {
			if err := a.SyncKind(ctx, orchestrate.SyncCompliance); settled(err) {
				return serviceHint(trustHint(err, trust))
			}
		}
		return a.Run(ctx)
	}
	err = a.Sync(ctx)
	bars.Wait()
	if err != nil && ctx.Err() != nil {
		st, _ := a.Status(context.WithoutCancel(ctx))
		return agentInterrupted(err, st, dls.paused())
	}
	if err != nil {
		return serviceHint(trustHint(err, trust))
	}
	st, err := a.Status(ctx)
	if err != nil {
		return err
	}
	st.AgentRunning = false // this run ends here
	if *jsonOut {
		err = writeJSON(e, st)
	} else {
		printStatus(e.stdout, st, true)
	}
	if err != nil {
		return err
	}
	return onceResult(e, st)
}

// notEnrolled is the usage error of an agent asked to start on a root
// that is not enrolled, without the service to enroll with.
func notEnrolled(root string) error {
	return usagef("%s is not enrolled: pass --service URL and --enrollment-secret-file FILE (or --root DIR of an enrolled agent)", root)
}

// onceResult is agent --once's verdict: nil when every app of the last
// policies came to rest as wanted (orchestrate.AppStatus.Failed), else
// one line per failing app on stderr and an error counting them (exit
// 1). A revision the last policies did not name (the app dropped, or a
// newer version served) is no longer the agent's to bring to rest: its
// old failure neither fails the run nor counts.
func onceResult(e *env, st orchestrate.Status) error {
	n, total := 0, 0
	for _, a := range st.Apps {
		if a.NotInPolicies {
			continue
		}
		total++
		if !a.Failed() {
			continue
		}
		n++
		line := fmt.Sprintf("failed %s_%s", a.AppID, a.Version)
		if a.DisplayName != "" {
			line += " (" + a.DisplayName + ")"
		}
		line += fmt.Sprintf(": enforcement %d %s", a.EnforcementState, codeName(a.EnforcementState))
		if a.ErrorCodeHex != "" {
			line += ", error " + a.ErrorCodeHex // the code once, as Intune shows it
		}
		if msg := a.ErrorMessage; msg != "" {
			line += ": " + msg
		} else if a.LastError != "" {
			line += ": " + a.LastError
		}
		line += seeLog(st.Root, a)
		sayf(e.stderr, "imepipe agent: %s", line)
	}
	if n > 0 {
		return fmt.Errorf("%d of %d apps failed", n, total)
	}
	return nil
}

// seeLog points at an app's installer log, when its failure is the
// installer's: "; see Logs/Win32AppInstaller-APPID_REV.log" (relative to
// root), else "".
func seeLog(root string, a orchestrate.AppStatus) string {
	if a.InstallerLog == "" {
		return ""
	}
	p := a.InstallerLog
	if abs, err := filepath.Abs(root); err == nil {
		if rel, err := filepath.Rel(abs, p); err == nil && filepath.IsLocal(rel) {
			p = rel
		}
	}
	return "; see " + p
}

// serviceHint adds what to check to a sync that failed at the service:
// that it runs, for one that cannot be reached; the secret file, for a
// refused enrollment. Other errors pass unchanged.
func serviceHint(err error) error {
	var se *orchestrate.ServiceError
	if !errors.As(err, &se) {
		return err
	}
	switch se.Problem {
	case orchestrate.ServiceUnreachable:
		return fmt.Errorf("%w; is imepipe serve running?", se)
	case orchestrate.ServiceSecretRejected:
		return fmt.Errorf("%w: check --enrollment-secret-file", se)
	}
	return se
}

// defaultMode is the agent's download mode on a root with none stored.
var defaultMode = imeapi.ModeLAN

// modeGiven is &dm when --download-mode was given, else nil: the root
// keeps the mode an earlier run stored (DODownloadMode is a policy that
// stays set), and a root with none gets mode 1, the flag's default.
func modeGiven(fs *flag.FlagSet, dm imeapi.DownloadMode) *imeapi.DownloadMode {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == "download-mode" })
	if !given {
		return nil
	}
	return &dm
}

// settled reports whether err, the daemon's first enrollment's, is one
// that retrying cannot mend: the service's certificate is not trusted,
// it rejects the enrollment secret, or it speaks the other scheme.
func settled(err error) bool {
	var te *imeapi.TrustError
	if errors.As(err, &te) {
		return true
	}
	var se *orchestrate.ServiceError
	if !errors.As(err, &se) {
		return false
	}
	switch se.Problem {
	case orchestrate.ServiceSecretRejected, orchestrate.ServiceWantsHTTPS, orchestrate.ServiceWantsHTTP, orchestrate.ServiceUntrusted:
		return true
	}
	return false
}

// rootInUse is the error of an agent started on a root whose state.db
// another process holds: a running agent (its control socket answers),
// else another imepipe command acting on the root.
func rootInUse(ctx context.Context, root string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	r := &orchestrate.Remote{Socket: orchestrate.LayoutOf(root).Socket}
	if _, err := r.Status(ctx); err == nil {
		return fmt.Errorf("an agent is already running on %s (use imepipe sync to ask it to sync)", root)
	}
	return fmt.Errorf("%s is in use by another imepipe command (its state.db is locked); try again when it ends", root)
}

// downloads follows agent --once's content downloads (as
// Config.Progress, before the bars' hook next), so that a run stopped
// midway can say how far each got.
type downloads struct {
	next func(string, *fetch.Job) func() // nil: no bars
	mu   sync.Mutex
	keys []string
	jobs map[string]*fetch.Job // by APPID_REV
}

func (d *downloads) hook(key string, job *fetch.Job) func() {
	d.mu.Lock()
	if d.jobs == nil {
		d.jobs = map[string]*fetch.Job{}
	}
	if _, seen := d.jobs[key]; !seen {
		d.keys = append(d.keys, key)
	}
	d.jobs[key] = job
	d.mu.Unlock()
	if d.next != nil {
		return d.next(key, job)
	}
	return func() {}
}

// pausedDownload is a download that stopped before its end.
type pausedDownload struct {
	key        string
	have, size int64
}

// paused lists the downloads that did not complete, in start order.
func (d *downloads) paused() []pausedDownload {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []pausedDownload
	for _, k := range d.keys {
		st := d.jobs[k].Status()
		if st.FileSize > 0 && st.FileSizeInCache < st.FileSize {
			out = append(out, pausedDownload{key: k, have: st.FileSizeInCache, size: st.FileSize})
		}
	}
	return out
}

// agentInterrupted is agent --once's one line when it was stopped
// (Ctrl-C, SIGTERM) with err: not a failure of the agent's, so no error
// chain (it wraps err), but what the next sync takes up: each download
// paused, with how far it got.
func agentInterrupted(err error, st orchestrate.Status, paused []pausedDownload) error {
	if len(paused) == 0 {
		return &reasonErr{msg: "interrupted; the apps not finished are processed at the next sync", err: err}
	}
	names := map[string]string{}
	for _, a := range st.Apps {
		if a.DisplayName != "" {
			names[a.AppID+"_"+a.Version] = a.DisplayName
		}
	}
	parts := make([]string, len(paused))
	for i, p := range paused {
		name := names[p.key]
		if name == "" {
			name = p.key
		}
		parts[i] = fmt.Sprintf("%s download paused at %s of %s", name, humanize.IBytes(uint64(p.have)), humanize.IBytes(uint64(p.size)))
	}
	resumes := "resumes"
	if len(parts) > 1 {
		resumes = "they resume"
	}
	return &reasonErr{msg: fmt.Sprintf("interrupted; %s, %s at the next sync", strings.Join(parts, ", "), resumes), err: err}
}

// trustingClient is the agent's HTTP client when --ca-file is given: the
// system's roots and the CAs in caFile, for the service, its blobs and a
// Connected Cache alike. LAN peers are reached over plain HTTP whatever
// this says (their content is verified by piece hashes and the HMAC).
func trustingClient(caFile string) (*http.Client, error) {
	conf, err := imeapi.ClientTLS(caFile)
	if err != nil {
		return nil, fmt.Errorf("--ca-file: %w", err)
	}
	return fetch.NewClient(conf), nil
}

// trustHint turns a refused service certificate into its one line, with
// what to do about it; other errors pass unchanged.
func trustHint(err error, caFile string) error {
	var te *imeapi.TrustError
	if !errors.As(err, &te) {
		return err
	}
	if !te.UnknownAuthority() {
		return te
	}
	if caFile == "" {
		return fmt.Errorf("%w (pass --ca-file DIR/ca.pem, DIR the service's --data)", te)
	}
	return fmt.Errorf("%w (not by the CA in %s)", te, caFile)
}
