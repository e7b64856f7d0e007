package orchestrate

import (
	"context"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/imepipe/imepipe/fetch"
	"github.com/imepipe/imepipe/peer"
	"github.com/imepipe/imepipe/service"
)

// PeerService is what a PeerDownloader needs of the service: the piece
// hash files and the DO Array (*service.Client has both).
type PeerService interface {
	peer.ArrayClient
	PieceHashes(ctx context.Context, url string) (service.PieceHashes, error)
}

// PeerDownloader downloads the way Delivery Optimization does
// (peer.Download): from LAN, Group or Internet peers as Fetch.DownloadMode
// allows, every piece checked against the service's piece hashes, then
// the Connected Cache host, then the origin. The content is linked into
// Cache while it downloads and stays there afterwards, so the agent's
// peer.Server keeps sharing it. Modes 0, 99 and 100 are exactly
// FetchDownloader's download: no Array, no peer, no DO cache.
type PeerDownloader struct {
	// Fetch is the HTTP side: client, CacheHost, DownloadMode, Options.
	Fetch FetchDownloader
	Cache *peer.Cache
	// Service gives the piece hashes and the Array.
	Service PeerService
	// PeerID names this device at the Array (the device id); it is
	// called at each download, as the device may enroll after New.
	PeerID func() string
	// PeerAddr is the piece server's address as announced (host:port; an
	// empty host means the address the Array sees the device at).
	PeerAddr string
	GroupID  string
	// Policy is DO's back-to-source policy (its Priority is set from
	// each request).
	Policy peer.Policy
	Logf   func(format string, args ...any)
}

// Download implements Downloader.
func (d *PeerDownloader) Download(ctx context.Context, req DownloadRequest) (fetch.Status, error) {
	mode := d.Fetch.DownloadMode
	if len(peer.PeerKinds(mode)) == 0 || d.Service == nil || d.PeerID == nil || d.PeerID() == "" {
		return d.Fetch.Download(ctx, req)
	}
	if req.Info.PieceHashesURL == "" {
		return fetch.Status{}, fmt.Errorf("orchestrate: %s has no piece hash file: %w", req.Info.DoFileID, ErrContent)
	}
	ph, err := d.Service.PieceHashes(ctx, req.Info.PieceHashesURL)
	if err != nil {
		return fetch.Status{}, fmt.Errorf("orchestrate: piece hashes of %s: %w", req.Info.DoFileID, err)
	}
	hashes, err := peer.ParseHashes(ph)
	if err != nil {
		return fetch.Status{}, fmt.Errorf("orchestrate: piece hashes of %s: %w", req.Info.DoFileID, err)
	}
	if ph.DoFileID != req.Info.DoFileID || ph.Size != req.Info.Size || ph.PieceSize != req.Info.PieceSize {
		return fetch.Status{}, fmt.Errorf("orchestrate: piece hashes for %s (%d bytes, pieces of %d) do not match %s (%d, %d): %w",
			ph.DoFileID, ph.Size, ph.PieceSize, req.Info.DoFileID, req.Info.Size, req.Info.PieceSize, ErrContent)
	}
	opt := d.Fetch.Options
	if !req.Foreground {
		opt.Priority = fetch.Background
	}
	// The DO cache serves a piece to peers only once it matched its piece
	// hash (the Swarm checks peers' pieces, peer's tracked sources the
	// origin's and the cache host's), so a whole-file hash adds nothing
	// to the HMAC the caller checks.
	sum, err := req.wholeFileHash()
	if err != nil {
		return fetch.Status{}, err
	}
	opt.SHA256 = sum
	pol := d.Policy
	pol.Priority = opt.Priority
	res, err := peer.Download(ctx, peer.DownloadConfig{Policy: pol,
		Info: req.Info, Hashes: hashes, Path: req.Path, Cache: d.Cache, Mode: mode,
		PeerID: d.PeerID(), PeerAddr: d.PeerAddr, GroupID: d.GroupID, Array: d.Service,
		CacheHost: d.Fetch.CacheHost, HTTP: d.Fetch.HTTP, Options: opt, Logf: d.Logf, Started: req.Started,
	})
	if err != nil {
		return res.Status, fmt.Errorf("orchestrate: download %s: %w", req.Info.DoFileID, err)
	}
	if len(res.Banned) > 0 && d.Logf != nil {
		d.Logf("[DO] %s: banned peers that sent bad pieces: %v", req.Info.DoFileID, res.Banned)
	}
	return res.Status, nil
}

// Announce tells the Array about every complete content in the DO cache
// (at start-up, and again before the Array's registrations expire).
// Nothing is said in modes 0, 99 and 100 or before the device enrolls.
func (d *PeerDownloader) Announce(ctx context.Context) error {
	if len(peer.PeerKinds(d.Fetch.DownloadMode)) == 0 || d.Service == nil || d.PeerID == nil || d.PeerID() == "" {
		return nil
	}
	for _, ct := range d.Cache.List() {
		if ct.Missing() > 0 {
			continue // still downloading: its own Swarm announces it
		}
		sw, err := peer.NewSwarm(peer.SwarmConfig{Content: ct, Mode: d.Fetch.DownloadMode, PeerID: d.PeerID(),
			Addr: d.PeerAddr, GroupID: d.GroupID, Array: d.Service, Logf: d.Logf})
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

// peering is an agent's DO peer side (Config.PeerAddr set): the DO cache,
// the piece server that shares it, the downloader over both, and the
// announcer that keeps the Array's registrations alive.
type peering struct {
	cache *peer.Cache
	srv   *peer.Server
	ln    net.Listener
	addr  string // the piece server's bound address
	dl    *PeerDownloader
	done  chan struct{}
	ready chan struct{} // closed after the announcer's first pass
	wg    sync.WaitGroup
}

// startPeering opens DOCache, starts the piece server on Config.PeerAddr
// and the announcer, and builds the PeerDownloader.
func (a *Agent) startPeering() error {
	logf := func(format string, args ...any) { a.tracer().info("[DO] "+format, args...) }
	cache, err := peer.OpenCache(a.layout.DOCache, peer.CacheOptions{Now: a.cfg.Now, Logf: logf})
	if err != nil {
		return fmt.Errorf("orchestrate: %w", err)
	}
	ln, err := net.Listen("tcp", a.cfg.PeerAddr)
	if err != nil {
		cache.Close()
		return fmt.Errorf("orchestrate: peer server: %w", err)
	}
	p := &peering{cache: cache, srv: peer.NewServer(peer.ServerConfig{Cache: cache, Metrics: peer.MetricsHandler(cache), Logf: logf,
		UploadRate: a.cfg.DOMaxUploadBandwidth}), ln: ln, addr: ln.Addr().String(), done: make(chan struct{}), ready: make(chan struct{})}
	p.dl = &PeerDownloader{
		Fetch: FetchDownloader{HTTP: a.cfg.HTTP, CacheHost: a.cfg.CacheHost, DownloadMode: a.cfg.DownloadMode},
		Cache: cache, PeerAddr: announced(p.addr), Logf: logf, Policy: a.cfg.DOPolicy,
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
	p.wg.Add(2)
	go func() {
		defer p.wg.Done()
		if err := p.srv.Serve(ln); err != nil && !p.stopping() {
			logf("piece server stopped: %v", err)
		}
	}()
	go func() {
		defer p.wg.Done()
		a.announceLoop(p)
	}()
	a.peer = p
	a.tracer().info("[DO] Sharing DOCache with peers on %s (download mode %d)", p.addr, a.cfg.DownloadMode)
	return nil
}

// announced is the address given to the Array: a wildcard host becomes
// empty, so that the Array uses the address it sees the device at.
func announced(addr string) string {
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
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-p.done
		cancel()
	}()
	first := false
	for {
		if _, err := p.cache.Expire(); err != nil {
			a.tracer().warn("[DO] %v", err)
		}
		if a.enrolled() {
			if err := p.dl.Announce(ctx); err != nil && ctx.Err() == nil {
				a.tracer().warn("[DO] %v", err)
			}
		}
		if !first {
			close(p.ready)
			first = true
		}
		select {
		case <-p.done:
			return
		case <-a.cfg.After(DefaultAnnounceInterval):
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
	close(p.done)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := p.srv.Shutdown(ctx); err != nil {
		_ = p.srv.Close()
	}
	_ = p.ln.Close() // in case Serve had not started yet
	p.wg.Wait()
}

func (p *peering) stopping() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// PeerAddr is the bound address of the agent's piece server ("" when it
// does not share content with peers).
func (a *Agent) PeerAddr() string {
	if a.peer == nil {
		return ""
	}
	return a.peer.addr
}
