package load

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/imepipe/imepipe/imeapi"
)

// Defaults for the Config fields left zero.
const (
	DefaultAgents      = 100
	DefaultRounds      = 3
	DefaultConcurrency = 64
)

// ErrConfig is a Config the benchmark cannot run.
var ErrConfig = errors.New("load: bad configuration")

// Config is one run.
type Config struct {
	Agents      int    // simulated agents (DefaultAgents)
	Rounds      int    // requests of each kind per agent (DefaultRounds)
	Concurrency int    // requests in flight at once, all agents together (DefaultConcurrency)
	Store       string // service.Config.Store: "bbolt" or a postgres:// URL
	Servers     int    // serve processes: 1, or 2 (on one PostgreSQL)
	Dir         string // work folder: apps, each server's data (required)
	// Exe, when set, is the imepipe binary: each server is then an
	// `imepipe serve` child process; else a service.Server in this
	// process.
	Exe  string
	Logf func(format string, a ...any) // progress; silent if nil
}

// Op is the figures of one kind of request.
type Op struct {
	Name      string  `json:"name"`
	Requests  int     `json:"requests"`
	Errors    int     `json:"errors"`
	Seconds   float64 `json:"seconds"`
	PerSecond float64 `json:"requestsPerSecond"`
	P50Ms     float64 `json:"p50Ms"`
	P99Ms     float64 `json:"p99Ms"`
	// FirstError is the first failed request's error, if any failed.
	FirstError string `json:"firstError,omitempty"`
}

// Result is one run's figures.
type Result struct {
	Store       string `json:"store"` // "bbolt" or "postgres" (never the URL)
	Servers     int    `json:"servers"`
	Agents      int    `json:"agents"`
	Rounds      int    `json:"rounds"`
	Concurrency int    `json:"concurrency"`
	Enroll      Op     `json:"enroll"`
	Ops         []Op   `json:"ops"` // policies, contentinfo, reports
}

// agent is one simulated device.
type agent struct {
	priv   *ecdh.PrivateKey
	enroll *imeapi.Client // on server i % servers
	client *imeapi.Client // on server (i+1) % servers, with the token
}

// Run starts the servers, enrolls cfg.Agents agents and times each kind
// of request in turn; it stops the servers before returning. Any failed
// request ends the run with an error (the figures so far in the Result).
func Run(ctx context.Context, cfg Config) (Result, error) {
	if cfg.Agents == 0 {
		cfg.Agents = DefaultAgents
	}
	if cfg.Rounds == 0 {
		cfg.Rounds = DefaultRounds
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.Servers == 0 {
		cfg.Servers = 1
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	kind := "bbolt"
	if cfg.Store != "" && cfg.Store != "bbolt" {
		kind = "postgres"
	}
	switch {
	case cfg.Dir == "":
		return Result{}, fmt.Errorf("%w: Dir is required", ErrConfig)
	case cfg.Agents < 1 || cfg.Rounds < 1 || cfg.Concurrency < 1:
		return Result{}, fmt.Errorf("%w: agents, rounds and concurrency must be at least 1", ErrConfig)
	case cfg.Servers != 1 && cfg.Servers != 2:
		return Result{}, fmt.Errorf("%w: 1 or 2 servers, not %d", ErrConfig, cfg.Servers)
	case cfg.Servers == 2 && kind != "postgres":
		return Result{}, fmt.Errorf("%w: two servers need a PostgreSQL store", ErrConfig)
	}
	res := Result{Store: kind, Servers: cfg.Servers, Agents: cfg.Agents, Rounds: cfg.Rounds, Concurrency: cfg.Concurrency}
	fl, err := startFleet(ctx, cfg)
	if err != nil {
		return res, err
	}
	defer fl.stop()

	tr := &http.Transport{MaxIdleConns: cfg.Concurrency * 2, MaxIdleConnsPerHost: cfg.Concurrency, MaxConnsPerHost: cfg.Concurrency,
		IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: time.Minute}
	agents := make([]*agent, cfg.Agents)
	for i := range agents {
		priv, err := ecdh.X25519().GenerateKey(rand.Reader)
		if err != nil {
			return res, fmt.Errorf("load: %w", err)
		}
		agents[i] = &agent{priv: priv, enroll: imeapi.NewClient(fl.urls[i%len(fl.urls)], hc),
			client: imeapi.NewClient(fl.urls[(i+1)%len(fl.urls)], hc)}
	}
	cfg.Logf("%s, %d server(s): enrolling %d agents", kind, cfg.Servers, cfg.Agents)
	res.Enroll = timeOp(ctx, "enroll", agents, 1, cfg.Concurrency, func(ctx context.Context, a *agent) error {
		if _, err := a.enroll.Enroll(ctx, "load-agent", fl.secret, a.priv.PublicKey()); err != nil {
			return err
		}
		a.client.Token, a.client.DeviceID = a.enroll.Token, a.enroll.DeviceID
		return nil
	})
	if res.Enroll.Errors > 0 {
		return res, fmt.Errorf("load: %d of %d enrollments failed: %s", res.Enroll.Errors, res.Enroll.Requests, res.Enroll.FirstError)
	}
	app := fl.app
	status, _ := json.Marshal(map[string]any{"FileId": app.ID, "BytesFromHttp": 1 << 20, "BytesFromLanPeers": 3 << 20, "DownloadMode": 1})
	ops := []struct {
		name string
		do   func(context.Context, *agent) error
	}{
		{"policies", func(ctx context.Context, a *agent) error {
			p, err := a.client.Policies(ctx)
			if err == nil && len(p.Policies) == 0 {
				err = errors.New("no policies")
			}
			return err
		}},
		{"contentinfo", func(ctx context.Context, a *agent) error {
			ci, err := a.client.ContentInfo(ctx, app.ID, app.Version)
			if err == nil {
				_, err = a.client.OpenDecryptInfo(a.priv, ci.DecryptInfo)
			}
			return err
		}},
		{"reports", func(ctx context.Context, a *agent) error {
			return a.client.Report(ctx, imeapi.Report{AppID: app.ID, Version: app.Version, EnforcementState: imeapi.EnforcementSuccess,
				ComplianceState: imeapi.ComplianceInstalled, DOStatus: status})
		}},
	}
	for _, op := range ops {
		cfg.Logf("%s, %d server(s): %d × %d %s requests", kind, cfg.Servers, cfg.Agents, cfg.Rounds, op.name)
		o := timeOp(ctx, op.name, agents, cfg.Rounds, cfg.Concurrency, op.do)
		res.Ops = append(res.Ops, o)
		if err := ctx.Err(); err != nil {
			return res, fmt.Errorf("load: %w", err)
		}
		if o.Errors > 0 {
			// Figures with failed requests in them would mislead.
			return res, fmt.Errorf("load: %d of %d %s requests failed: %s", o.Errors, o.Requests, o.Name, o.FirstError)
		}
	}
	return res, nil
}

// timeOp runs do rounds times for every agent, at most limit at once,
// and returns the rate and latency percentiles.
func timeOp(ctx context.Context, name string, agents []*agent, rounds, limit int, do func(context.Context, *agent) error) Op {
	n := len(agents) * rounds
	lat := make([]time.Duration, n)
	var mu sync.Mutex
	o := Op{Name: name, Requests: n}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(limit)
	start := time.Now()
	for i := range n {
		a := agents[i%len(agents)]
		g.Go(func() error {
			t0 := time.Now()
			err := do(gctx, a)
			lat[i] = time.Since(t0)
			if err != nil {
				mu.Lock()
				if o.Errors == 0 {
					o.FirstError = err.Error()
				}
				o.Errors++
				mu.Unlock()
			}
			return nil
		})
	}
	_ = g.Wait()
	elapsed := time.Since(start)
	o.Seconds = elapsed.Seconds()
	if o.Seconds > 0 {
		o.PerSecond = float64(n-o.Errors) / o.Seconds
	}
	o.P50Ms, o.P99Ms = percentile(lat, 0.50), percentile(lat, 0.99)
	return o
}

// percentile is the nearest-rank q-quantile of d, in milliseconds; d is sorted in place.
func percentile(d []time.Duration, q float64) float64 {
	if len(d) == 0 {
		return 0
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	i := int(q*float64(len(d))+0.999999) - 1
	i = min(max(i, 0), len(d)-1)
	return float64(d[i]) / float64(time.Millisecond)
}

// writeSecret writes a random token file (mode 0600) and returns its path.
func writeSecret(dir, name string) (string, string, error) {
	b := make([]byte, 24)
	rand.Read(b)
	tok := fmt.Sprintf("%x", b)
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(tok+"\n"), 0o600); err != nil {
		return "", "", fmt.Errorf("load: %w", err)
	}
	return p, tok, nil
}
