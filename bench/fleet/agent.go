package fleet

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/imepipe/imepipe/delivery"
	"github.com/imepipe/imepipe/fetch"
	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/peer"
)

// agent is a minimal endpoint: it enrolls, learns its one app, downloads
// it through delivery and peer.Download, verifies it, and serves it from its DO cache.
type agent struct {
	name  string
	root  string
	bad   bool
	cache *peer.Cache
	srv   *peer.Server
	addr  string
	done  chan struct{}
}

// corrupt flips a byte of every piece a bad agent sends.
func corrupt(_ string, _ int, b []byte) { b[len(b)/2] ^= 0x5a }

func startAgent(name, root string, bad bool, uploadRate int64) (*agent, error) {
	cache, err := peer.OpenCache(filepath.Join(root, "DOCache"), peer.CacheOptions{})
	if err != nil {
		return nil, err
	}
	cfg := peer.ServerConfig{Cache: cache, UploadRate: uploadRate}
	if bad {
		cfg.Tamper = corrupt
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("fleet: %w", err)
	}
	a := &agent{name: name, root: root, bad: bad, cache: cache, srv: peer.NewServer(cfg), addr: ln.Addr().String(), done: make(chan struct{})}
	go func() {
		defer close(a.done)
		_ = a.srv.Serve(ln)
	}()
	return a, nil
}

func (a *agent) stop() {
	_ = a.srv.Close()
	<-a.done
	_ = a.cache.Close()
}

// outcome is one agent's run.
type outcome struct {
	res      peer.Result
	verified bool
	finished time.Duration
	err      error
	// What the fleet counted at the agent's boundaries: body bytes from
	// the origin and from each peer (host:port), and the peers the Array
	// named.
	fromOrigin int64
	fromPeers  map[string]int64
	named      int
}

// transports are shared by every agent (one pool of connections, as
// bounded as one agent's); each agent counts through its own wrapper.
var (
	originTransport = fetch.NewClient(nil).Transport
	peerTransport   = &http.Transport{Proxy: nil, MaxIdleConns: 4096, MaxIdleConnsPerHost: 16,
		IdleConnTimeout: 30 * time.Second, DisableCompression: true}
)

// fetch runs the agent's download of its first assigned app.
func (a *agent) fetch(ctx context.Context, cfg Config, c *imeapi.Client, secret string, start time.Time) (out outcome) {
	priv, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		out.err = err
		return out
	}
	if _, err := c.Enroll(ctx, a.name, secret, priv.PublicKey()); err != nil {
		out.err = err
		return out
	}
	pol, err := c.Policies(ctx)
	if err != nil || len(pol.Policies) == 0 {
		out.err = fmt.Errorf("fleet: %s: no policy: %v", a.name, err)
		return out
	}
	p := pol.Policies[0]
	content, err := delivery.Resolve(ctx, c, priv, p.AppID, p.Version)
	if err != nil {
		out.err = fmt.Errorf("fleet: %s: %w", a.name, err)
		return out
	}
	incoming := filepath.Join(a.root, "Content", "Incoming")
	if err := os.MkdirAll(incoming, 0o755); err != nil {
		out.err = err
		return out
	}
	path := filepath.Join(incoming, p.AppID+"_"+p.Version+".bin")
	// The agent's traffic is counted at its HTTP clients and its Array
	// answers, to check its DO record against.
	oc, pc := newCounter(originTransport), newCounter(peerTransport)
	ac := &arrayCounter{ArrayClient: c, self: a.name}
	defer func() {
		for _, n := range oc.byHost() {
			out.fromOrigin += n
		}
		out.fromPeers, out.named = pc.byHost(), ac.count()
	}()
	// The package is verified while it downloads, following the Job.
	dl := &peers{agent: a, cfg: cfg, array: ac, http: &http.Client{Transport: oc}, peerHTTP: &http.Client{Transport: pc}}
	d, err := delivery.Start(ctx, content, dl, delivery.Target{Bin: path, Foreground: true})
	if err == nil {
		var res delivery.Result
		res, err = d.Wait()
		out.res = res.Result
		if err == nil && res.UnpackErr != nil {
			out.finished = time.Since(start)
			out.err = fmt.Errorf("fleet: %s: verify: %w", a.name, res.UnpackErr)
			return out
		}
		out.verified = res.Unpacked
	}
	out.finished = time.Since(start)
	if err != nil {
		out.err = fmt.Errorf("fleet: %s: %w", a.name, err)
	}
	return out
}

// peers is the fleet agent's download strategy: always peer.Download
// (the content is linked into the agent's DO cache in every mode), with
// the fleet's Swarm timings.
type peers struct {
	agent          *agent
	cfg            Config
	array          peer.ArrayClient
	http, peerHTTP *http.Client // counting clients for the origin and the peers
}

// Start implements delivery.Downloader.
func (d *peers) Start(ctx context.Context, req delivery.Request) (*delivery.Transfer, error) {
	hashes, err := req.PieceHashes(ctx)
	if err != nil {
		return nil, err
	}
	cfg := d.cfg
	tr, err := peer.Start(ctx, peer.DownloadConfig{
		Info: req.Info, Hashes: hashes, Path: req.Path, Cache: d.agent.cache, Mode: cfg.Mode,
		PeerID: d.agent.name, PeerAddr: d.agent.addr, LanID: "fleet-lan", GroupID: cfg.GroupID, Array: d.array,
		CacheHost: cfg.CacheHost, HTTP: d.http, PeerHTTP: d.peerHTTP,
		Options:         fetch.Options{Connections: cfg.Connections, Priority: cfg.Policy.Priority},
		RefreshInterval: cfg.RefreshInterval, OwnerWait: cfg.OwnerWait, StallTimeout: cfg.StallTimeout,
		Policy: cfg.Policy, Logf: cfg.Logf,
	})
	if err != nil {
		return nil, err
	}
	return delivery.PeerTransfer(tr, nil), nil
}
