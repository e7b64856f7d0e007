package service

import (
	"context"
	"sort"
	"time"

	"github.com/imepipe/imepipe/imeapi"
)

// Coordinated back-to-source: the Array decides which device of a LAN
// (mode 1) or group (modes 2 and 3 with a GroupID) takes each piece from
// the origin, so that the site's internet link carries each piece about
// once. It assigns on demand: a device lists the pieces it needs now and
// knows no holder of (ArrayRequest.Want); each such piece that no member
// of its scope holds and nobody is assigned becomes this device's, while
// it has fewer than its share outstanding — ceil(pieces the members want
// and nobody holds / members), at least 1, at most MaxOrigin (default
// 4) — so the origin fetches of a fleet spread over its devices, rarest
// (held by nobody) and lowest first. The answer lists this device's assignments
// (Origin) and everyone else's (Fetching: wait for them on the LAN).
// An assignment stands for the lease (DefaultLease), or until someone in
// the scope holds the piece, or its device leaves.
//
// A device that a member reports for bad pieces (ArrayRequest.Avoid) is
// given no more pieces and loses the ones it has. A device that does not
// serve (no Addr: no member) is given, without a lease, the pieces it
// wants that nobody holds or is assigned, and told who fetches the rest.
//
// What it does not do: it does not watch transfers; a device that never
// delivers an assigned piece only delays the others until the lease
// ends, or until their own DO delay sends them to the origin.

// lease is one piece's origin assignment.
type lease struct {
	device string
	until  time.Time
}

// Limits of the assignment answers.
const (
	defaultMaxOrigin = 4
	maxMaxOrigin     = 64
	maxFetching      = 256
)

// scopeOf is the set of devices that share back-to-source work with r.
func scopeOf(r *registration) string {
	if (r.mode == imeapi.ModeGroup || r.mode == imeapi.ModeInternet) && r.groupID != "" {
		return "g:" + r.groupID
	}
	return "l:" + r.lanID
}

// has reports whether x holds piece i.
func (x *registration) has(i int) bool {
	if x.complete {
		return true
	}
	return i/8 < len(x.pieces) && x.pieces[i/8]&(0x80>>(i%8)) != 0
}

// assign fills resp.Origin and resp.Fetching for r from f's registrations,
// keeping its origin assignments (each for leaseFor) in f.leases.
func assign(f *fileState, r *registration, now time.Time, leaseFor time.Duration, resp *imeapi.ArrayResponse) {
	regs := f.regs
	scope := scopeOf(r)
	n := r.npieces
	held := make([]bool, n)
	shunned := map[string]bool{}
	var inScope, members []*registration
	for _, x := range regs {
		if scopeOf(x) == scope {
			inScope = append(inScope, x)
			for _, id := range x.avoid {
				shunned[id] = true
			}
		}
	}
	for _, x := range inScope {
		// What a shunned device holds counts as held by nobody.
		if x.addr == "" || x.npieces != n || shunned[x.peerID] {
			continue
		}
		members = append(members, x)
		for i := range n {
			held[i] = held[i] || x.has(i)
		}
	}
	unheld := 0
	for _, h := range held {
		if !h {
			unheld++
		}
	}
	ls := f.leases[scope]
	if ls == nil {
		ls = map[int]lease{}
		f.leases[scope] = ls
	}
	for i, l := range ls {
		x := regs[l.device]
		if i >= n || held[i] || !now.Before(l.until) || x == nil || scopeOf(x) != scope || shunned[x.peerID] {
			delete(ls, i)
		}
	}
	if member := regs[r.deviceID] == r; member && len(r.want) > 0 && unheld > 0 && !shunned[r.peerID] {
		want := r.maxOrig
		if want <= 0 {
			want = defaultMaxOrigin
		}
		want = min(want, maxMaxOrigin)
		// The share spreads what the members want now (not the whole
		// file) over them, so that the pieces fetched at the same time
		// come from different devices, which then serve them in parallel.
		wanted := map[int]bool{}
		for _, x := range members {
			for _, i := range x.want {
				if i >= 0 && i < n && !held[i] {
					wanted[i] = true
				}
			}
		}
		share := min(max((len(wanted)+len(members)-1)/max(len(members), 1), 1), want)
		mine := 0
		for _, l := range ls {
			if l.device == r.deviceID {
				mine++
			}
		}
		mineWanted := append([]int(nil), r.want...)
		sort.Ints(mineWanted)
		for _, i := range mineWanted {
			if mine >= share {
				break
			}
			if i < 0 || i >= n || held[i] {
				continue
			}
			if _, taken := ls[i]; taken {
				continue
			}
			ls[i] = lease{device: r.deviceID, until: now.Add(leaseFor)}
			mine++
		}
	}
	pieces := make([]int, 0, len(ls))
	for i := range ls {
		pieces = append(pieces, i)
	}
	sort.Ints(pieces)
	resp.Coordinated = true
	if regs[r.deviceID] != r {
		// A device without a piece server (its port was taken) is no
		// member: nobody fetches for it what nobody holds, so it takes
		// those pieces from the origin now instead of waiting out its DO
		// delay for them. No lease: it serves nobody.
		resp.Origin = unassigned(r.want, n, held, ls)
	}
	for _, i := range pieces {
		l := ls[i]
		if l.device == r.deviceID {
			resp.Origin = append(resp.Origin, i)
			continue
		}
		if len(resp.Fetching) < maxFetching {
			x := regs[l.device]
			resp.Fetching = append(resp.Fetching, imeapi.PieceFetch{Piece: i, PeerID: x.peerID, Addr: x.addr,
				Type: peerType(r.lanID, r.groupID, x.lanID, x.groupID)})
		}
	}
	if len(ls) == 0 {
		delete(f.leases, scope)
	}
}

// unassigned lists, lowest first and once each, the pieces of want (of n)
// that nobody holds and nobody is assigned in ls.
func unassigned(want []int, n int, held []bool, ls map[int]lease) []int {
	var out []int
	seen := map[int]bool{}
	for _, i := range want {
		if i < 0 || i >= n || held[i] || seen[i] {
			continue
		}
		if _, taken := ls[i]; !taken {
			out = append(out, i)
			seen[i] = true
		}
	}
	sort.Ints(out)
	return out
}

// LocalArray is the Array's matching and back-to-source assignment
// without the HTTP service, for tests and benchmarks that run many peers
// in one process. It trusts each request: PeerID is the device, LanID
// its LAN ("local" when empty). It implements what a peer.Swarm needs of
// *Client (Array); it does not check assignments or peer addresses.
type LocalArray struct {
	a      *array
	pieces map[string]int // DoFileId → pieces; set before Array is called
}

// NewLocalArray returns a LocalArray whose registrations live ttl and
// whose origin assignments live lease (0: DefaultLease), on clock now.
func NewLocalArray(ttl, lease time.Duration, now func() time.Time) *LocalArray {
	a := newArray(ttl, now)
	if lease > 0 {
		a.lease = lease
	}
	return &LocalArray{a: a, pieces: map[string]int{}}
}

// AddFile tells the LocalArray a file's piece count, which turns on
// back-to-source assignment for it. Call it before the peers start.
func (l *LocalArray) AddFile(doFileID string, pieces int) { l.pieces[doFileID] = pieces }

// Array answers req as the service would.
func (l *LocalArray) Array(_ context.Context, req imeapi.ArrayRequest) (imeapi.ArrayResponse, error) {
	lan := req.LanID
	if lan == "" {
		lan = "local"
	}
	reg := registration{fileID: req.DoFileID, deviceID: req.PeerID, peerID: req.PeerID, addr: req.Addr, lanID: lan,
		groupID: req.GroupID, mode: req.DownloadMode, complete: req.Complete, npieces: l.pieces[req.DoFileID],
		want: req.Want, maxOrig: req.MaxOrigin, avoid: req.Avoid}
	holds := req.Complete
	if !req.Complete {
		reg.pieces = req.Pieces
		for _, b := range req.Pieces {
			holds = holds || b != 0
		}
	}
	resp := l.a.query(reg, holds, req.MaxPeers)
	resp.DoFileID = req.DoFileID
	return resp, nil
}
