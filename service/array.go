package service

import (
	"net/netip"
	"sort"
	"sync"
	"time"

	"github.com/imepipe/imepipe/imeapi"
)

const maxPeers = 64

// registration is what one device's peer holds of one file.
type registration struct {
	fileID   string
	deviceID string
	peerID   string
	addr     string
	lanID    string
	groupID  string
	mode     imeapi.DownloadMode
	complete bool
	pieces   []byte
	seq      uint64 // registration order, newest highest
	expires  time.Time
}

// array is the DO peer-matching service: per file, the peers that hold
// (part of) it. One registration per device and file; entries expire
// after ttl unless renewed. It lives in memory: after a restart peers
// register again at their next request.
type array struct {
	mu    sync.Mutex
	files map[string]map[string]*registration // DoFileId → device id → registration
	seq   uint64
	ttl   time.Duration
	now   func() time.Time
}

func newArray(ttl time.Duration, now func() time.Time) *array {
	return &array{files: map[string]map[string]*registration{}, ttl: ttl, now: now}
}

// sharing reports whether a download mode takes part in peering at all.
func sharing(mode imeapi.DownloadMode) bool {
	return mode == imeapi.ModeLAN || mode == imeapi.ModeGroup || mode == imeapi.ModeInternet
}

// allows reports whether a peer in mode may exchange with a peer of type typ.
func allows(mode imeapi.DownloadMode, typ string) bool {
	switch typ {
	case imeapi.PeerLAN:
		return sharing(mode)
	case imeapi.PeerGroup:
		return mode == imeapi.ModeGroup || mode == imeapi.ModeInternet
	case imeapi.PeerInternet:
		return mode == imeapi.ModeInternet
	}
	return false
}

// peerType classifies how b is reached from a.
func peerType(aLan, aGroup, bLan, bGroup string) string {
	switch {
	case aLan == bLan:
		return imeapi.PeerLAN
	case aGroup != "" && aGroup == bGroup:
		return imeapi.PeerGroup
	}
	return imeapi.PeerInternet
}

// query registers r (when it shares and holds something) and returns the
// peers r may use. Both sides' modes must allow the pair's type.
func (a *array) query(r registration, holds bool, limit int) imeapi.ArrayResponse {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	regs := a.files[r.fileID]
	if regs == nil {
		regs = map[string]*registration{}
		a.files[r.fileID] = regs
	}
	for id, x := range regs {
		if !now.Before(x.expires) {
			delete(regs, id)
		}
	}
	resp := imeapi.ArrayResponse{LanID: r.lanID, Peers: []imeapi.Peer{}}
	if !sharing(r.mode) {
		delete(regs, r.deviceID)
		return resp
	}
	if holds && r.addr != "" {
		a.seq++
		r.seq, r.expires = a.seq, now.Add(a.ttl)
		regs[r.deviceID] = &r
		resp.Registered, resp.TTLSeconds = true, int64(a.ttl/time.Second)
	} else {
		delete(regs, r.deviceID)
	}
	var found []*registration
	var types []string
	for _, x := range regs {
		if x.deviceID == r.deviceID {
			continue
		}
		t := peerType(r.lanID, r.groupID, x.lanID, x.groupID)
		if allows(r.mode, t) && allows(x.mode, t) {
			found = append(found, x)
			types = append(types, t)
		}
	}
	order := map[string]int{imeapi.PeerLAN: 0, imeapi.PeerGroup: 1, imeapi.PeerInternet: 2}
	idx := make([]int, len(found))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(i, j int) bool {
		x, y := idx[i], idx[j]
		if order[types[x]] != order[types[y]] {
			return order[types[x]] < order[types[y]]
		}
		if found[x].complete != found[y].complete {
			return found[x].complete
		}
		return found[x].seq > found[y].seq
	})
	if limit <= 0 || limit > maxPeers {
		limit = maxPeers
	}
	for _, i := range idx[:min(limit, len(idx))] {
		x := found[i]
		resp.Peers = append(resp.Peers, imeapi.Peer{PeerID: x.peerID, Addr: x.addr, Type: types[i], Complete: x.complete, Pieces: x.pieces})
	}
	if len(regs) == 0 {
		delete(a.files, r.fileID)
	}
	return resp
}

// lanOf is the default LAN id of a remote address: its /24 (IPv4) or /64 (IPv6).
func lanOf(remoteAddr string) string {
	ap, err := netip.ParseAddrPort(remoteAddr)
	if err != nil {
		return "unknown"
	}
	ip := ap.Addr().Unmap()
	bits := 64
	if ip.Is4() {
		bits = 24
	}
	p, err := ip.Prefix(bits)
	if err != nil {
		return "unknown"
	}
	return p.String()
}
