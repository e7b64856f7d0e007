package orchestrate

import (
	"context"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/imepipe/imepipe/orchestrate/imelog"
	"github.com/imepipe/imepipe/peer"
)

// announce tells the Array about every complete content in the DO cache
// (at start-up, and again before the Array's registrations expire), as
// d would find it. Nothing is said in modes 0, 99 and 100 or before the
// device enrolls.
func announce(ctx context.Context, d *PeerDownloader) error {
	if !d.peering() {
		return nil
	}
	for _, ct := range d.Cache.List() {
		if ct.Missing() > 0 {
			continue // still downloading: its own Swarm announces it
		}
		sw, err := peer.NewSwarm(peer.SwarmConfig{Content: ct, Mode: d.Fetch.DownloadMode, PeerID: d.PeerID(),
			Addr: d.PeerAddr, LanID: d.LanID, GroupID: d.GroupID, Array: d.Service, Clock: d.Clock, Logf: d.Logf})
		if err != nil {
			return fmt.Errorf("orchestrate: announce %s: %w", ct.ID, err)
		}
		if err := sw.Refresh(ctx); err != nil {
			return fmt.Errorf("orchestrate: announce %s: %w", ct.ID, err)
		}
	}
	return nil
}

// DefaultAnnounceInterval is how often an agent tells the Array again
// what its DO cache holds: half the service's default registration
// lifetime (10 minutes).
const DefaultAnnounceInterval = 5 * time.Minute

// peering is the lifecycle of an agent's DO peer side (Config.PeerAddr set): the DO cache,
// the piece server that shares it, the downloader over both, and the
// announcer that keeps the Array's registrations alive.
type peering struct {
	cache *peer.Cache
	srv   *peer.Server
	ln    net.Listener
	addr  string // the piece server's bound address
	dl    *PeerDownloader
	// ctx ends when the peer side stops (stop calls cancel): the
	// announcer and the saver of the DO records run until then.
	ctx    context.Context
	cancel context.CancelFunc
	ready  chan struct{} // closed after the announcer's first pass
	wg     sync.WaitGroup
}

// doLogf logs a DO line.
func (a *Agent) doLogf(format string, args ...any) {
	a.agentTracer().log(imelog.PeerLog, fmt.Sprintf(format, args...))
}

// openDOCache opens DOCache with the cache policy of Config.DOCache,
// writes the policy there for `imepipe do status`, and applies it once.
// Every download of the daemon keeps its DO record there, in every mode.
func (a *Agent) openDOCache() error {
	opt := a.cfg.DOCache
	if opt.Clock == nil {
		opt.Clock = a.cfg.Clock
	}
	opt.Logf = a.doLogf
	cache, err := peer.OpenCache(a.layout.DOCache, opt)
	if err != nil {
		return fmt.Errorf("orchestrate: %w", err)
	}
	a.doCache = cache
	if err := cache.WritePolicy(); err != nil {
		a.agentTracer().log(imelog.PeerWarn, err)
	}
	if a.cfg.PeerAddr == "" { // with peering the announcer expires
		if _, err := cache.Expire(); err != nil {
			a.agentTracer().log(imelog.PeerWarn, err)
		}
	}
	return nil
}

// SaveDORecords writes now the DO records whose figures changed since
// they were last written, as the agent does by itself every
// SaveInterval (peer.DefaultSaveInterval) while it serves peers.
func (a *Agent) SaveDORecords() error {
	if a.doCache == nil {
		return nil
	}
	return a.doCache.Flush()
}

// startPeering starts the piece server over DOCache on Config.PeerAddr,
// the announcer and the saver of the DO records (peer.Cache.Persist),
// and builds the PeerDownloader.
func (a *Agent) startPeering() error {
	logf := a.doLogf
	cache := a.doCache
	ln, err := net.Listen("tcp", a.cfg.PeerAddr)
	switch {
	case addrInUse(err):
		// Another DO (or agent) has the port: download from peers
		// all the same, without serving or registering.
		a.agentTracer().log(imelog.PeerPortInUse, a.cfg.PeerAddr, err)
		ln = nil
	case err != nil:
		return fmt.Errorf("orchestrate: peer server: %w", err)
	}
	p := &peering{cache: cache, srv: peer.NewServer(peer.ServerConfig{Cache: cache, Metrics: peer.MetricsHandler(cache, a.metrics.collectors()...), Clock: a.cfg.Clock, Logf: logf,
		UploadRate: a.cfg.DOMaxUploadBandwidth}), ln: ln, ready: make(chan struct{})}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	if ln != nil {
		p.addr = ln.Addr().String()
	}
	p.dl = &PeerDownloader{
		Fetch: *a.fetchDownloader(cache),
		Cache: cache, PeerAddr: announced(p.addr), LanID: a.cfg.LanID, Clock: a.cfg.Clock, Logf: logf, Policy: a.cfg.DOPolicy,
		PeerID: func() string { return a.client.DeviceID },
	}
	if a.client != nil {
		p.dl.Service = a.client
	} else {
		p.dl.PeerID = nil // not enrolled and no service: nothing to download anyway
	}
	if len(a.cfg.Groups) > 0 {
		p.dl.GroupID = a.cfg.Groups[0]
	}
	if ln != nil {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			if err := p.srv.Serve(ln); err != nil && !p.stopping() {
				logf("piece server stopped: %v", err)
			}
		}()
	}
	p.wg.Add(2)
	go func() {
		defer p.wg.Done()
		a.announceLoop(p)
	}()
	go func() {
		defer p.wg.Done()
		cache.Persist(p.ctx)
	}()
	a.peer = p
	if ln != nil {
		a.agentTracer().log(imelog.PeerSharing, p.addr, *a.cfg.DownloadMode)
	}
	return nil
}

// announced is the address given to the Array: a wildcard host becomes
// empty, so that the Array uses the address it sees the device at.
func announced(addr string) string {
	if addr == "" {
		return ""
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		return ":" + port
	}
	return addr
}

// announceLoop expires old DO cache content and announces what is left,
// now and every DefaultAnnounceInterval, until the agent closes.
func (a *Agent) announceLoop(p *peering) {
	ctx := p.ctx
	first := false
	for {
		if _, err := p.cache.Expire(); err != nil {
			a.agentTracer().log(imelog.PeerWarn, err)
		}
		if a.enrolled() {
			if err := announce(ctx, p.dl); err != nil && ctx.Err() == nil {
				a.agentTracer().log(imelog.PeerWarn, err)
			}
		}
		if !first {
			close(p.ready)
			first = true
		}
		select {
		case <-ctx.Done():
			return
		case <-a.cfg.Clock.After(DefaultAnnounceInterval):
		}
	}
}

// enrolled reports whether the device has its identity (read under the
// flow lock, as enrollment writes it there).
func (a *Agent) enrolled() bool {
	if a.lock() != nil {
		return false
	}
	defer a.mu.Unlock()
	return a.client != nil && a.client.Token != ""
}

// stop stops the announcer and the piece server (requests in flight get
// a moment to finish); the cache is closed by close, after the last flow.
func (p *peering) stop() {
	p.cancel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if p.ln != nil {
		if err := p.srv.Shutdown(ctx); err != nil {
			_ = p.srv.Close()
		}
		_ = p.ln.Close() // in case Serve had not started yet
	}
	p.wg.Wait()
}

// leaveArray removes the device's registrations from the Array when its
// piece server stops (an agent --once that exits, or a daemon stopped),
// so that other agents are not sent to a closed port for the
// registrations' lifetime. Best effort, bounded: the service may be gone.
func (a *Agent) leaveArray() {
	if a.peer == nil || a.peer.ln == nil || a.client == nil || a.client.Token == "" || len(peer.Kinds(*a.cfg.DownloadMode)) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	n, err := a.client.LeaveArray(ctx)
	if err != nil {
		// One line naming the service and why, not net/http's chain
		// ("imeapi: DELETE …: Delete "URL": dial tcp …").
		a.agentTracer().log(imelog.PeerUnregisterFail, a.serviceError(ctx, "leave", err))
		return
	}
	a.agentTracer().log(imelog.PeerUnregistered, n)
}

func (p *peering) stopping() bool { return p.ctx.Err() != nil }

// PeerAddr is the bound address of the agent's piece server ("" when it
// does not share content with peers).
func (a *Agent) PeerAddr() string {
	if a.peer == nil {
		return ""
	}
	return a.peer.addr
}
