package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"sync"
	"time"

	"github.com/imepipe/imepipe/bench"
	"github.com/imepipe/imepipe/decrypt"
	"github.com/imepipe/imepipe/fetch"
	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/orchestrate"
)

// EnvChild names the job file of a benchmark child process: a binary
// that calls ChildMain first in its main (or TestMain) runs that job
// instead when it is set.
const EnvChild = "IMEPIPE_BENCH_E2E_CHILD"

// Kinds of child job.
const (
	kindFloor      = "floor"      // imepipe unpack of the package: the local floor
	kindSequential = "sequential" // the IME's order of work
	kindAgent      = "agent"      // an orchestrate.Agent's sync
)

// job is what one child process does, written by the parent as JSON.
type job struct {
	Kind    string `json:"kind"`
	Name    string `json:"name"`
	Root    string `json:"root"`
	Package string `json:"package,omitempty"` // floor: the .intunewin
	// The service and the agent's settings (sequential, agent).
	ServiceURL string              `json:"service_url,omitempty"`
	Secret     string              `json:"secret,omitempty"`
	CA         string              `json:"ca,omitempty"` // service CA file ("": plain HTTP)
	DeviceName string              `json:"device_name,omitempty"`
	Mode       imeapi.DownloadMode `json:"mode"`
	CacheHost  string              `json:"cache_host,omitempty"`
	Peer       bool                `json:"peer,omitempty"`
	// CPUProfile, if set, is where the child writes its CPU profile.
	CPUProfile string `json:"cpu_profile,omitempty"`
	// MemoryLimit is the soft memory limit of the command the child
	// stands for (0: none; GOMEMLIMIT wins).
	MemoryLimit int64  `json:"memory_limit,omitempty"`
	Result      string `json:"result"` // where the child writes its childResult
}

// childResult is what a child reports of itself. PeakRSS and CPUS are
// its own process's (all threads), not its installers': the agent's
// true cost, whatever the parent's resident set was when it started it.
type childResult struct {
	ContentS float64            `json:"content_s"`
	WallS    float64            `json:"wall_s"`
	Phases   map[string]float64 `json:"phases_s,omitempty"`
	DO       fetch.Status       `json:"do"`
	PeakRSS  int64              `json:"peak_rss_bytes"`
	CPUS     float64            `json:"cpu_s"`
	Error    string             `json:"error,omitempty"`
}

// ChildMain runs the benchmark child job named by EnvChild and exits; it
// returns at once when EnvChild is not set. Call it first in main (after
// reap.Main) of any binary Config.Exe names.
func ChildMain() {
	path := os.Getenv(EnvChild)
	if path == "" {
		return
	}
	os.Unsetenv(EnvChild) // not for the installers and reapers it starts
	b, err := os.ReadFile(path)
	var j job
	if err == nil {
		err = json.Unmarshal(b, &j)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "imepipe bench child: %v\n", err)
		os.Exit(1)
	}
	res, err := j.run(context.Background())
	if err != nil {
		res.Error = err.Error()
	}
	res.CPUS, res.PeakRSS = bench.SelfCPU(), bench.SelfPeakRSS()
	out, _ := json.Marshal(res)
	if werr := os.WriteFile(j.Result, out, 0o600); werr != nil {
		fmt.Fprintf(os.Stderr, "imepipe bench child: %v\n", werr)
		os.Exit(1)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "imepipe bench child: %v\n", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func (j *job) run(ctx context.Context) (childResult, error) {
	if j.MemoryLimit > 0 && os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(j.MemoryLimit)
	}
	bench.ResetPeakRSS()
	if j.CPUProfile != "" {
		f, err := os.Create(j.CPUProfile)
		if err != nil {
			return childResult{}, fmt.Errorf("e2e: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return childResult{}, fmt.Errorf("e2e: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	switch j.Kind {
	case kindFloor:
		start := time.Now()
		if _, err := decrypt.Unpack(ctx, j.Package, j.Root, decrypt.UnpackOptions{}); err != nil {
			return childResult{}, err
		}
		s := time.Since(start).Seconds()
		return childResult{ContentS: s, WallS: s}, nil
	case kindSequential:
		return j.sequential(ctx)
	case kindAgent:
		return j.agent(ctx)
	}
	return childResult{}, fmt.Errorf("e2e: unknown child job %q", j.Kind)
}

// client is the HTTP client that reaches the service (nil: the default).
func (j *job) client() (*http.Client, error) {
	if j.CA == "" {
		return nil, nil
	}
	cc, err := imeapi.ClientTLS(j.CA)
	if err != nil {
		return nil, fmt.Errorf("e2e: %w", err)
	}
	return fetch.NewClient(cc), nil
}

// agent is one orchestrate.Agent syncing the required app, failing
// unless the app ended installed and detected.
func (j *job) agent(ctx context.Context) (childResult, error) {
	var res childResult
	hc, err := j.client()
	if err != nil {
		return res, err
	}
	var mu sync.Mutex
	var ready time.Time
	cfg := orchestrate.Config{
		Root: j.Root, ServiceURL: j.ServiceURL, EnrollmentSecret: j.Secret, DeviceName: j.DeviceName,
		DownloadMode: new(j.Mode), CacheHost: j.CacheHost,
		Logf: func(format string, args ...any) {
			if strings.Contains(fmt.Sprintf(format, args...), contentReady) {
				mu.Lock()
				ready = time.Now()
				mu.Unlock()
			}
		},
	}
	if hc != nil {
		cfg.HTTP = hc
	}
	if j.Peer {
		cfg.PeerAddr = "127.0.0.1:0"
	}
	a, err := orchestrate.New(cfg)
	if err != nil {
		return res, fmt.Errorf("e2e: %w", err)
	}
	defer a.Close()
	start := time.Now()
	if err := a.Sync(ctx); err != nil {
		return res, fmt.Errorf("e2e: %s: %w", j.Name, err)
	}
	res.WallS = time.Since(start).Seconds()
	mu.Lock()
	if !ready.IsZero() {
		res.ContentS = ready.Sub(start).Seconds()
	}
	mu.Unlock()
	st, err := a.Status(ctx)
	if err != nil {
		return res, fmt.Errorf("e2e: %s: %w", j.Name, err)
	}
	for _, app := range st.Apps {
		if app.AppID != appID {
			continue
		}
		if app.EnforcementState != imeapi.EnforcementSuccess || app.ComplianceState != imeapi.ComplianceInstalled {
			return res, fmt.Errorf("%w: %s: EnforcementState %d, ComplianceState %d (see %s)", ErrRun, j.Name, app.EnforcementState, app.ComplianceState, a.LogPath())
		}
		if err := json.Unmarshal(app.DOStatus, &res.DO); err != nil {
			return res, fmt.Errorf("e2e: %s: DO record: %w", j.Name, err)
		}
		return res, nil
	}
	return res, fmt.Errorf("%w: %s: the agent has no record of the app", ErrRun, j.Name)
}

// runChild runs j in a child process of exe and returns what it reported.
func runChild(ctx context.Context, exe string, j job) (childResult, error) {
	if err := os.MkdirAll(filepath.Dir(j.Root), 0o755); err != nil {
		return childResult{}, fmt.Errorf("e2e: %w", err)
	}
	path := j.Root + ".job.json"
	j.Result = j.Root + ".result.json"
	b, err := json.Marshal(j)
	if err != nil {
		return childResult{}, fmt.Errorf("e2e: %w", err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil { // holds the enrollment secret
		return childResult{}, fmt.Errorf("e2e: %w", err)
	}
	defer os.Remove(path)
	defer os.Remove(j.Result)
	cmd := exec.CommandContext(ctx, exe)
	cmd.Env = append(os.Environ(), EnvChild+"="+path)
	_, merr := bench.Measure(cmd)
	var res childResult
	b, err = os.ReadFile(j.Result)
	if err == nil {
		err = json.Unmarshal(b, &res)
	}
	switch {
	case res.Error != "":
		return res, fmt.Errorf("%w: %s: %s", ErrRun, j.Name, res.Error)
	case merr != nil:
		return res, fmt.Errorf("e2e: %s: %w", j.Name, merr)
	case err != nil:
		return res, fmt.Errorf("e2e: %s: no result: %w", j.Name, err)
	}
	return res, nil
}
