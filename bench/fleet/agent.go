package fleet

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/imepipe/imepipe/decrypt"
	"github.com/imepipe/imepipe/fetch"
	"github.com/imepipe/imepipe/peer"
	"github.com/imepipe/imepipe/service"
)

// agent is a minimal endpoint: it enrolls, learns its one app, downloads
// it through peer.Download, verifies it, and serves it from its DO cache.
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
func (a *agent) fetch(ctx context.Context, cfg Config, c *service.Client, secret string, start time.Time) (out outcome) {
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
	ci, err := c.ContentInfo(ctx, p.AppID, p.Version)
	if err != nil {
		out.err = err
		return out
	}
	ph, err := c.PieceHashes(ctx, ci.ContentInfo.PieceHashesURL)
	if err != nil {
		out.err = err
		return out
	}
	hashes, err := peer.ParseHashes(ph)
	if err != nil {
		out.err = err
		return out
	}
	di, err := c.OpenDecryptInfo(priv, ci.DecryptInfo)
	if err != nil {
		out.err = err
		return out
	}
	keys, err := di.Keys(ci.ContentInfo.UnencryptedContentSize)
	if err != nil {
		out.err = err
		return out
	}
	incoming := filepath.Join(a.root, "Content", "Incoming")
	if err := os.MkdirAll(incoming, 0o755); err != nil {
		out.err = err
		return out
	}
	path := filepath.Join(incoming, p.AppID+"_"+p.Version+".bin")
	// The package is verified while it downloads, following the Job.
	type verdict struct {
		ok  bool
		err error
	}
	vctx, cancel := context.WithCancel(ctx)
	defer cancel()
	verified := make(chan verdict, 1)
	started := func(job *fetch.Job) {
		go func() {
			pr := job.NewPrefixReader(vctx)
			defer pr.Close()
			r, err := decrypt.Open(vctx, io.Discard, pr, keys)
			verified <- verdict{ok: err == nil && r.Verified(), err: err}
		}()
	}
	oc, pc := newCounter(originTransport), newCounter(peerTransport)
	ac := &arrayCounter{ArrayClient: c, self: a.name}
	defer func() {
		for _, n := range oc.byHost() {
			out.fromOrigin += n
		}
		out.fromPeers, out.named = pc.byHost(), ac.count()
	}()
	out.res, out.err = peer.Download(ctx, peer.DownloadConfig{
		Info: ci.ContentInfo, Hashes: hashes, Path: path, Cache: a.cache, Mode: cfg.Mode,
		PeerID: a.name, PeerAddr: a.addr, LanID: "fleet-lan", GroupID: cfg.GroupID, Array: ac,
		CacheHost: cfg.CacheHost, HTTP: &http.Client{Transport: oc}, PeerHTTP: &http.Client{Transport: pc},
		Options:         fetch.Options{Connections: cfg.Connections, Priority: cfg.Policy.Priority},
		RefreshInterval: cfg.RefreshInterval, OwnerWait: cfg.OwnerWait, StallTimeout: cfg.StallTimeout,
		Policy: cfg.Policy, Started: started, Logf: cfg.Logf,
	})
	if out.err != nil {
		cancel()
		out.finished = time.Since(start)
		out.err = fmt.Errorf("fleet: %s: %w", a.name, out.err)
		return out
	}
	v := <-verified
	out.finished = time.Since(start)
	if v.err != nil {
		out.err = fmt.Errorf("fleet: %s: verify: %w", a.name, v.err)
		return out
	}
	out.verified = v.ok
	return out
}
