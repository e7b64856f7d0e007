package orchestrate

import (
	"context"

	"github.com/imepipe/imepipe/delivery"
	"github.com/imepipe/imepipe/fetch"
	"github.com/imepipe/imepipe/peer"
)

// PeerDownloader downloads the way Delivery Optimization does
// (peer.Download): from LAN, Group or Internet peers as Fetch.DownloadMode
// allows, every piece checked against the service's piece hashes, then
// the Connected Cache host, then the origin. The content is linked into
// Cache while it downloads and stays there afterwards, so the agent's
// peer.Server keeps sharing it. Modes 0, 99 and 100 are exactly
// FetchDownloader's download: no Array, no peer, no content in the DO
// cache (Fetch.Records keeps only the DO record).
type PeerDownloader struct {
	// Fetch is the HTTP side: client, CacheHost, DownloadMode, Options.
	Fetch FetchDownloader
	Cache *peer.Cache
	// Service is the DO Array (*imeapi.Client); the piece hashes come
	// through the delivery.Request.
	Service peer.ArrayClient
	// PeerID names this device at the Array (the device id); it is
	// called at each download, as the device may enroll after New.
	PeerID func() string
	// PeerAddr is the piece server's address as announced (host:port; an
	// empty host means the address the Array sees the device at).
	PeerAddr string
	// LanID overrides the LAN id the Array derives from the source
	// address; GroupID is DO's group.
	LanID, GroupID string
	// Policy is DO's back-to-source policy (its Priority is set from
	// each request).
	Policy peer.Policy
	// Clock times the Swarm (nil: the real clock; the agent passes its own).
	Clock peer.Clock
	Logf  func(format string, args ...any)
}

// Start implements Downloader.
func (d *PeerDownloader) Start(ctx context.Context, req delivery.Request) (*delivery.Transfer, error) {
	mode := d.Fetch.DownloadMode
	if !d.peering() {
		return d.Fetch.Start(ctx, req)
	}
	hashes, err := req.PieceHashes(ctx)
	if err != nil {
		return nil, err
	}
	opt := d.Fetch.Options
	if !req.Foreground {
		opt.Priority = fetch.Background
	}
	// The DO cache serves a piece to peers only once it matched its piece
	// hash (the Swarm checks peers' pieces, peer's tracked sources the
	// origin's and the cache host's). That check stands in for the HMAC of
	// the unpack that follows the download; a piece that matched no hash
	// fails it, and the finished file's HMAC decides.
	pol := d.Policy
	pol.Priority = opt.Priority
	tr, err := peer.Start(ctx, peer.DownloadConfig{Policy: pol,
		Info: req.Info, Hashes: hashes, Path: req.Path, Cache: d.Cache, Mode: mode,
		PeerID: d.PeerID(), PeerAddr: d.PeerAddr, LanID: d.LanID, GroupID: d.GroupID, Array: d.Service,
		CacheHost: d.Fetch.CacheHost, HTTP: d.Fetch.HTTP, Options: opt, Clock: d.Clock, Logf: d.Logf,
	})
	if err != nil {
		return nil, err
	}
	return delivery.PeerTransfer(tr, func(res peer.Result, err error) {
		if err == nil && len(res.Banned) > 0 && d.Logf != nil {
			d.Logf("%s: banned peers that sent bad pieces: %v", req.Info.DoFileID, res.Banned)
		}
	}), nil
}

// peering reports whether downloads go through DO peers: a mode that
// uses them, a service and an enrolled device.
func (d *PeerDownloader) peering() bool {
	return len(peer.Kinds(d.Fetch.DownloadMode)) > 0 && d.Service != nil && d.PeerID != nil && d.PeerID() != ""
}
