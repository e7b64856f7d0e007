package service

import (
	"math/bits"
	"math/rand/v2"
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
	holds    bool // holds something: listed as a peer (else only a member for assignments)
	npieces  int  // pieces of the file (0: no coordination)
	want     []int
	maxOrig  int
	avoid    []string // peer ids this device banned
	seq      uint64   // registration order, newest highest
	expires  time.Time
}

// peerRegistry is where the Server's Array keeps its state: array (in
// memory, one process) or pgPeers (PostgreSQL, shared by several).
type peerRegistry interface {
	// ask registers r as query does and answers it.
	ask(r registration, holds bool, limit int) (imeapi.ArrayResponse, error)
	// leave removes every registration of a device; it returns how many.
	leaveAll(deviceID string) (int, error)
}

// fileState is what the Array holds of one file.
type fileState struct {
	regs   map[string]*registration // device id → registration
	leases map[string]map[int]lease // scope → piece → its origin assignment
}

func newFileState() *fileState {
	return &fileState{regs: map[string]*registration{}, leases: map[string]map[int]lease{}}
}

// array is the DO peer-matching service: per file, the peers that hold
// (part of) it, and the devices downloading it that can serve (members,
// for the back-to-source assignments, see assign.go). One registration
// per device and file; entries expire after ttl unless renewed. It lives
// in memory: after a restart peers register again at their next request.
type array struct {
	mu    sync.Mutex
	files map[string]*fileState // DoFileId → its registrations and leases
	seq   uint64
	ttl   time.Duration
	lease time.Duration // how long an origin assignment stands (DefaultLease)
	now   func() time.Time
}

// DefaultLease is how long a device keeps a piece the Array assigned it
// to take from the origin; past it, a device that asks for the piece may
// be given it instead.
const DefaultLease = 15 * time.Second

func newArray(ttl time.Duration, now func() time.Time) *array {
	return &array{files: map[string]*fileState{}, ttl: ttl, lease: DefaultLease, now: now}
}

// query registers r (when it shares and has a piece server) and returns
// the peers r may use (see match).
func (a *array) query(r registration, holds bool, limit int) imeapi.ArrayResponse {
	a.mu.Lock()
	defer a.mu.Unlock()
	f := a.files[r.fileID]
	if f == nil {
		f = newFileState()
		a.files[r.fileID] = f
	}
	a.seq++
	r.seq = a.seq
	resp := match(f, r, holds, limit, a.now(), a.ttl, a.lease)
	if len(f.regs) == 0 {
		delete(a.files, r.fileID)
	}
	return resp
}

func (a *array) ask(r registration, holds bool, limit int) (imeapi.ArrayResponse, error) {
	return a.query(r, holds, limit), nil
}

// match drops f's expired registrations, registers r in f (when it
// shares and has a piece server) and returns the peers r may use: those
// holding something, both sides' modes allowing the pair's type, the
// most useful to r first (most pieces r lacks; ties in random order, so
// that load spreads). With r.npieces it also coordinates the
// back-to-source (assign). Registrations live ttl, origin assignments
// lease. Once nobody is registered, f's leases are dropped too.
func match(f *fileState, r registration, holds bool, limit int, now time.Time, ttl, leaseFor time.Duration) imeapi.ArrayResponse {
	regs := f.regs
	for id, x := range regs {
		if !now.Before(x.expires) {
			delete(regs, id)
		}
	}
	defer func() {
		if len(regs) == 0 {
			clear(f.leases)
		}
	}()
	resp := imeapi.ArrayResponse{LanID: r.lanID, Peers: []imeapi.Peer{}}
	if !sharing(r.mode) {
		delete(regs, r.deviceID)
		return resp
	}
	if r.addr != "" {
		r.holds = holds
		r.expires = now.Add(ttl)
		regs[r.deviceID] = &r
		if holds {
			resp.Registered, resp.TTLSeconds = true, int64(ttl/time.Second)
		}
	} else {
		delete(regs, r.deviceID)
	}
	var found []*registration
	var types []string
	for _, x := range regs {
		if x.deviceID == r.deviceID || !x.holds {
			continue
		}
		t := peerType(r.lanID, r.groupID, x.lanID, x.groupID)
		if allows(r.mode, t) && allows(x.mode, t) {
			found = append(found, x)
			types = append(types, t)
		}
	}
	order := map[string]int{imeapi.PeerLAN: 0, imeapi.PeerGroup: 1, imeapi.PeerInternet: 2}
	useful := make([]int, len(found))
	for i, x := range found {
		useful[i] = usefulness(x, &r)
	}
	idx := rand.Perm(len(found))
	sort.SliceStable(idx, func(i, j int) bool {
		x, y := idx[i], idx[j]
		if order[types[x]] != order[types[y]] {
			return order[types[x]] < order[types[y]]
		}
		return useful[x] > useful[y]
	})
	if limit <= 0 || limit > maxPeers {
		limit = maxPeers
	}
	for _, i := range idx[:min(limit, len(idx))] {
		x := found[i]
		resp.Peers = append(resp.Peers, imeapi.Peer{PeerID: x.peerID, Addr: x.addr, Type: types[i], Complete: x.complete, Pieces: x.pieces})
	}
	if r.npieces > 0 {
		assign(f, &r, now, leaseFor, &resp)
	}
	return resp
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

// usefulness is how many pieces x holds that r lacks (the file's piece
// count when x is complete and r's bitmap is empty).
func usefulness(x, r *registration) int {
	if r.complete {
		return 0
	}
	n := 0
	for i := range max(len(x.pieces), len(r.pieces)) {
		var xb, rb byte
		if x.complete {
			xb = 0xff
		} else if i < len(x.pieces) {
			xb = x.pieces[i]
		}
		if i < len(r.pieces) {
			rb = r.pieces[i]
		}
		n += bits.OnesCount8(xb &^ rb)
	}
	if x.complete && len(r.pieces) == 0 {
		n = max(n, r.npieces, 1)
	}
	return n
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
