package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"github.com/imepipe/imepipe/orchestrate"
	"github.com/imepipe/imepipe/orchestrate/reap"
)

func init() {
	// When the agent re-runs this binary as an installer's process-tree
	// reaper (IMEPIPE_REAPER=1), do that and exit before anything else.
	reap.Main()
	register("agent", "run the endpoint agent: sync, detect, download, install, report", runAgent)
}

// rootFlag adds --root, defaulting to $IMEPIPE_ROOT (set for installers)
// or ./imepipe-agent.
func rootFlag(fs *flag.FlagSet) *string {
	def := os.Getenv("IMEPIPE_ROOT")
	if def == "" {
		def = "imepipe-agent"
	}
	return fs.String("root", def, "agent root `DIR` (state.db, IMECache, Logs, …)")
}

// connect reaches the agent of root (its control socket, or state.db).
// A root that does not exist is an error: a query must not create one.
func connect(ctx context.Context, root string) (orchestrate.Control, io.Closer, error) {
	if _, err := os.Stat(root); err != nil {
		return nil, nil, fmt.Errorf("agent root %s: %w (give --root or set IMEPIPE_ROOT)", root, err)
	}
	return orchestrate.Connect(ctx, root, orchestrate.Config{})
}

func runAgent(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "agent")
	svc := fs.String("service", "", "service `URL`, e.g. http://127.0.0.1:8080 (needed until enrolled)")
	secretFile := fs.String("enrollment-secret-file", "", "enrollment secret `FILE` (needed until enrolled)")
	root := rootFlag(fs)
	once := fs.Bool("once", false, "run one sync and exit")
	peerAddr := fs.String("peer-addr", "", "`HOST:PORT` to share the DO cache with LAN peers on (e.g. :7680, 127.0.0.1:0; stored)")
	mode := fs.Int("download-mode", 1, "DO download `MODE`: 0 HTTP, 1 LAN, 2 Group, 3 Internet, 99 Simple, 100 Bypass")
	groups := fs.String("group-id", "", "group `IDs` (comma-separated) for assignments and DO Group mode")
	cacheHost := fs.String("cache-host", "", "Connected Cache `HOST[:PORT]` tried before the origin")
	syncEvery := fs.Duration("sync-interval", 0, "time between syncs (default 60m)")
	retry := fs.Duration("retry-interval", 0, "minimum time between attempts of a failing app (default 5m)")
	grs := fs.Duration("grs-window", 0, "no new attempt this long after the last failed one (default 24h)")
	attempts := fs.Int("max-attempts", 0, "attempts before GRS (default 3)")
	timeout := fs.Duration("install-timeout", 0, "installer time limit (default: the app's maxRunTimeInMinutes, or 60m)")
	persist := fs.Bool("persist-content", false, "keep every app's content after install (source resiliency)")
	name := fs.String("device-name", "", "device name at enrollment (default: host name)")
	quiet := fs.Bool("q", false, "do not echo the log on stderr")
	jsonOut := fs.Bool("json", false, "with --once: print the status as JSON")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usagef("unexpected arguments %q", pos)
	}
	switch *mode {
	case 0, 1, 2, 3, 99, 100:
	default:
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
			return fmt.Errorf("agent: enrollment secret: %w", err)
		}
		secret = strings.TrimSpace(string(b))
	}
	if *peerAddr != "" {
		if _, _, err := net.SplitHostPort(*peerAddr); err != nil {
			return usagef("--peer-addr %q: want HOST:PORT", *peerAddr)
		}
	}
	if (*svc == "") != (*secretFile == "") {
		return usagef("--service and --enrollment-secret-file go together")
	}
	cfg := orchestrate.Config{
		Root: *root, ServiceURL: *svc, EnrollmentSecret: secret, DeviceName: *name,
		DownloadMode: *mode, CacheHost: *cacheHost, PeerAddr: *peerAddr,
		SyncInterval: *syncEvery, RetryInterval: *retry, GRSWindow: *grs, MaxAttempts: *attempts,
		InstallTimeout: *timeout, PersistContent: *persist,
	}
	if *groups != "" {
		cfg.Groups = strings.Split(*groups, ",")
	}
	if !*quiet && !*jsonOut {
		cfg.Logf = func(format string, a ...any) { fmt.Fprintf(e.stderr, "imepipe agent: "+format+"\n", a...) }
	}
	a, err := orchestrate.New(cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	if !*once {
		return a.Run(ctx)
	}
	if err := a.Sync(ctx); err != nil {
		return err
	}
	st, err := a.Status(ctx)
	if err != nil {
		return err
	}
	return showStatus(e, st, *jsonOut)
}
