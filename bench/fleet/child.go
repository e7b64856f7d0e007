package fleet

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/imepipe/imepipe/bench"
	"github.com/imepipe/imepipe/fetch"
	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/peer"
)

// EnvChild marks a fleet agent's child process: a binary whose main (or
// TestMain) calls ChildMain first runs one agent instead, driven over
// its stdin and stdout, when it is set.
const EnvChild = "IMEPIPE_BENCH_FLEET_AGENT"

// childJob is one agent's settings, the first line its parent writes.
type childJob struct {
	Name        string              `json:"name"`
	Root        string              `json:"root"`
	Bad         bool                `json:"bad,omitempty"`
	UploadRate  int64               `json:"upload_rate,omitempty"`
	ServiceURL  string              `json:"service_url"`
	Secret      string              `json:"secret"`
	CA          string              `json:"ca,omitempty"` // "": plain HTTP
	Mode        imeapi.DownloadMode `json:"mode"`
	GroupID     string              `json:"group_id,omitempty"`
	CacheHost   string              `json:"cache_host,omitempty"`
	Connections int                 `json:"connections"`
	Policy      peer.Policy         `json:"policy"`
	Refresh     time.Duration       `json:"refresh"`
	OwnerWait   time.Duration       `json:"owner_wait"`
	Stall       time.Duration       `json:"stall"`
	Verbose     bool                `json:"verbose,omitempty"` // log swarm events to stderr
}

// childOutcome is an agent's outcome on the wire (peer.Result keeps its
// counters out of JSON).
type childOutcome struct {
	Res           peer.Result      `json:"res"`
	PeerBusy      int64            `json:"peer_busy"`
	ArrayCalls    int64            `json:"array_calls"`
	PeerDiscarded int64            `json:"peer_discarded"`
	Verified      bool             `json:"verified"`
	FinishedS     float64          `json:"finished_s"`
	Err           string           `json:"err,omitempty"`
	FromOrigin    int64            `json:"from_origin"`
	FromPeers     map[string]int64 `json:"from_peers"`
	Named         int              `json:"named"`
}

// childEnd is the agent's last line: what it uploaded, and its own
// process's peak RSS and CPU seconds.
type childEnd struct {
	Up      fetch.Status `json:"up"`
	PeakRSS int64        `json:"peak_rss_bytes"`
	CPUS    float64      `json:"cpu_s"`
}

// ChildMain runs a fleet agent when EnvChild is set, then exits; it
// returns at once otherwise. The protocol, a line each: the parent sends
// the childJob; the agent answers its peer address once it serves; the
// parent sends "go" and the agent fetches and answers its childOutcome;
// the parent sends "stop" (every agent is done) and the agent answers
// its childEnd and exits.
func ChildMain() {
	if os.Getenv(EnvChild) == "" {
		return
	}
	os.Unsetenv(EnvChild)
	if err := child(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "imepipe bench fleet agent: %v\n", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func child(in io.Reader, out io.Writer) error {
	bench.ResetPeakRSS()
	r := bufio.NewReader(in)
	line, err := r.ReadBytes('\n')
	if err != nil {
		return fmt.Errorf("fleet: read the job: %w", err)
	}
	var j childJob
	if err := json.Unmarshal(line, &j); err != nil {
		return fmt.Errorf("fleet: job: %w", err)
	}
	a, err := startAgent(j.Name, j.Root, j.Bad, j.UploadRate)
	if err != nil {
		return err
	}
	defer a.stop()
	enc := json.NewEncoder(out)
	if err := enc.Encode(a.addr); err != nil {
		return fmt.Errorf("fleet: %w", err)
	}
	if err := expect(r, "go"); err != nil {
		return err
	}
	var hc *http.Client
	if j.CA != "" {
		cc, err := imeapi.ClientTLS(j.CA)
		if err != nil {
			return fmt.Errorf("fleet: %w", err)
		}
		hc = fetch.NewClient(cc)
	}
	cfg := Config{Mode: j.Mode, GroupID: j.GroupID, CacheHost: j.CacheHost, Connections: j.Connections, Policy: j.Policy,
		RefreshInterval: j.Refresh, OwnerWait: j.OwnerWait, StallTimeout: j.Stall, Logf: func(string, ...any) {}}
	if j.Verbose {
		cfg.Logf = func(format string, args ...any) { fmt.Fprintf(os.Stderr, j.Name+": "+format+"\n", args...) }
	}
	o := a.fetch(context.Background(), cfg, imeapi.NewClient(j.ServiceURL, hc), j.Secret, time.Now())
	co := childOutcome{Res: o.res, PeerBusy: o.res.PeerBusy, ArrayCalls: o.res.ArrayCalls, PeerDiscarded: o.res.PeerDiscarded,
		Verified: o.verified, FinishedS: o.finished.Seconds(), FromOrigin: o.fromOrigin, FromPeers: o.fromPeers, Named: o.named}
	if o.err != nil {
		co.Err = o.err.Error()
	}
	if err := enc.Encode(co); err != nil {
		return fmt.Errorf("fleet: %w", err)
	}
	if err := expect(r, "stop"); err != nil {
		return err
	}
	var end childEnd
	if ct, ok := a.cache.Get(o.res.FileId); ok {
		end.Up = ct.Status()
	}
	end.CPUS, end.PeakRSS = bench.SelfCPU(), bench.SelfPeakRSS()
	if err := enc.Encode(end); err != nil {
		return fmt.Errorf("fleet: %w", err)
	}
	return nil
}

// expect reads the parent's next line and fails unless it is want.
func expect(r *bufio.Reader, want string) error {
	line, err := r.ReadString('\n')
	if err != nil {
		return fmt.Errorf("fleet: waiting for %q: %w", want, err)
	}
	if strings.TrimSpace(line) != want {
		return fmt.Errorf("fleet: got %q, want %q", strings.TrimSpace(line), want)
	}
	return nil
}

// proc is the parent's handle on one agent: its child process, or with
// Config.InProcess the agent itself (local).
type proc struct {
	name string
	bad  bool
	addr string
	// local is the in-process agent, with what its fetch needs.
	local  *agent
	cfg    Config
	svc    *imeapi.Client
	secret string
	done   bool
	fileid string
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    *json.Decoder
	errs   *tail
	end    childEnd
}

// startProc starts j's agent in a child process of exe and waits until
// it serves.
func startProc(ctx context.Context, exe string, j childJob, logf func(string, ...any)) (*proc, error) {
	cmd := exec.CommandContext(ctx, exe)
	cmd.Env = append(os.Environ(), EnvChild+"=1")
	cmd.WaitDelay = 10 * time.Second
	p := &proc{name: j.Name, bad: j.Bad, cmd: cmd, errs: &tail{logf: logf}}
	cmd.Stderr = p.errs
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("fleet: %w", err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("fleet: %w", err)
	}
	p.in, p.out = in, json.NewDecoder(out)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("fleet: %w", err)
	}
	b, _ := json.Marshal(j)
	if err := p.send(string(b)); err != nil {
		p.kill()
		return nil, err
	}
	if err := p.read(&p.addr); err != nil {
		p.kill()
		return nil, err
	}
	return p, nil
}

func (p *proc) send(line string) error {
	if _, err := io.WriteString(p.in, line+"\n"); err != nil {
		return fmt.Errorf("fleet: %s: %w%s", p.name, err, p.errs.text())
	}
	return nil
}

func (p *proc) read(v any) error {
	if err := p.out.Decode(v); err != nil {
		return fmt.Errorf("fleet: %s: %w%s", p.name, err, p.errs.text())
	}
	return nil
}

// startLocal starts j's agent in this process (Config.InProcess).
func startLocal(j childJob, cfg Config, svc *imeapi.Client) (*proc, error) {
	a, err := startAgent(j.Name, j.Root, j.Bad, j.UploadRate)
	if err != nil {
		return nil, err
	}
	return &proc{name: j.Name, bad: j.Bad, addr: a.addr, local: a, cfg: cfg, svc: svc, secret: j.Secret}, nil
}

// fetch tells the agent to go and returns its outcome.
func (p *proc) fetch() outcome {
	if p.local != nil {
		o := p.local.fetch(context.Background(), p.cfg, p.svc, p.secret, time.Now())
		p.fileid = o.res.FileId
		return o
	}
	var co childOutcome
	if err := p.send("go"); err != nil {
		return outcome{err: err}
	}
	if err := p.read(&co); err != nil {
		return outcome{err: err}
	}
	o := outcome{res: co.Res, verified: co.Verified, finished: time.Duration(co.FinishedS * float64(time.Second)),
		fromOrigin: co.FromOrigin, fromPeers: co.FromPeers, named: co.Named}
	o.res.PeerBusy, o.res.ArrayCalls, o.res.PeerDiscarded = co.PeerBusy, co.ArrayCalls, co.PeerDiscarded
	if co.Err != "" {
		o.err = errors.New(co.Err)
	}
	return o
}

// finish stops the agent and reads its last line (p.end; an in-process
// agent has no usage of its own: 0).
func (p *proc) finish() error {
	if p.local != nil {
		if ct, ok := p.local.cache.Get(p.fileID()); ok {
			p.end.Up = ct.Status()
		}
		p.kill()
		return nil
	}
	err := p.send("stop")
	if err == nil {
		err = p.read(&p.end)
	}
	p.in.Close()
	p.done = true
	if werr := p.cmd.Wait(); err == nil && werr != nil {
		err = fmt.Errorf("fleet: %s: %w%s", p.name, werr, p.errs.text())
	}
	return err
}

// kill ends an agent that is not done.
func (p *proc) kill() {
	if p.done {
		return
	}
	p.done = true
	if p.local != nil {
		p.local.stop()
		return
	}
	p.in.Close()
	_ = p.cmd.Process.Kill()
	_ = p.cmd.Wait()
}

// fileID is the DoFileId the in-process agent fetched ("" before).
func (p *proc) fileID() string { return p.fileid }

// tail passes a child's stderr lines to logf and keeps the last ones
// for its errors.
type tail struct {
	mu   sync.Mutex
	logf func(string, ...any)
	part string
	last []string
}

func (t *tail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.part += string(b)
	for {
		i := strings.IndexByte(t.part, '\n')
		if i < 0 {
			break
		}
		line := t.part[:i]
		t.part = t.part[i+1:]
		t.logf("%s", line)
		if t.last = append(t.last, line); len(t.last) > 5 {
			t.last = t.last[1:]
		}
	}
	return len(b), nil
}

func (t *tail) text() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.last) == 0 {
		return ""
	}
	return ": " + strings.Join(t.last, "; ")
}
