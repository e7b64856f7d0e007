package peer

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cespare/xxhash/v2"

	"github.com/imepipe/imepipe/fetch"
	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/internal/clock"
)

// ArrayClient is what a Swarm needs of the service: the DO Array
// (*imeapi.Client implements it).
type ArrayClient interface {
	Array(ctx context.Context, req imeapi.ArrayRequest) (imeapi.ArrayResponse, error)
}

// Defaults of SwarmConfig.
const (
	DefaultRefreshInterval = 2 * time.Second
	DefaultOwnerWait       = 5 * time.Second
	DefaultStallTimeout    = 5 * time.Second
	DefaultPeerBan         = 2 * time.Minute
	DefaultMaxPerPeer      = 4
	DefaultEndgamePieces   = 4
)

// SwarmConfig configures a Swarm. Content, PeerID and Array are required.
type SwarmConfig struct {
	// Content is this device's copy: what it holds is announced, and
	// pieces taken from peers are marked in it as they are written.
	Content *Content
	Mode    imeapi.DownloadMode
	// PeerID names this peer at the Array; Addr is its piece server
	// (host:port; an empty host means the address the Array sees). With
	// no Addr it downloads from peers but is never listed.
	PeerID, Addr string
	// LanID overrides the LAN id the Array derives from the source
	// address (tests on one host); GroupID is DO's GroupID.
	LanID, GroupID string
	Array          ArrayClient
	HTTP           *http.Client
	// RefreshInterval is how often the Array is asked for peers and told
	// what this peer holds (DefaultRefreshInterval).
	RefreshInterval time.Duration
	// OwnerWait is how long to wait for the peer that owns a piece (the
	// one that fetches it from the origin) to have it (DefaultOwnerWait).
	OwnerWait time.Duration
	// StallTimeout drops a request to a peer that sends nothing for this
	// long; the peer is then avoided for BanDuration (DefaultStallTimeout).
	StallTimeout time.Duration
	// BanDuration is how long a stalled or failing peer is avoided
	// (DefaultPeerBan). A peer that sends a bad piece is banned for good.
	BanDuration time.Duration
	// MaxPerPeer caps requests in flight to one peer (DefaultMaxPerPeer).
	MaxPerPeer int
	// EndgamePieces: when this few pieces are missing, a piece held by
	// two peers is asked of both and the first good answer wins
	// (DefaultEndgamePieces).
	EndgamePieces int
	// Policy is DO's back-to-source policy: priority, delays, QoS.
	Policy Policy
	// MaxOrigin is the most pieces the Array may assign this peer to take
	// from the origin at once (its connections; 0: the Array's default).
	MaxOrigin int
	// Clock times refreshes, bans and every wait (the held-back workers',
	// the planned pieces' delays; nil: the real clock).
	Clock Clock
	Logf  func(format string, args ...any)
}

func (c *SwarmConfig) defaults() {
	if c.RefreshInterval <= 0 {
		c.RefreshInterval = DefaultRefreshInterval
	}
	if c.OwnerWait <= 0 {
		c.OwnerWait = DefaultOwnerWait
	}
	if c.StallTimeout <= 0 {
		c.StallTimeout = DefaultStallTimeout
	}
	if c.BanDuration <= 0 {
		c.BanDuration = DefaultPeerBan
	}
	if c.MaxPerPeer <= 0 {
		c.MaxPerPeer = DefaultMaxPerPeer
	}
	if c.EndgamePieces <= 0 {
		c.EndgamePieces = DefaultEndgamePieces
	}
	if c.Clock == nil {
		c.Clock = clock.Real{}
	}
	c.Policy.defaults()
	if c.Logf == nil {
		c.Logf = func(string, ...any) {}
	}
	if c.HTTP == nil {
		c.HTTP = peerClient
	}
}

// peerClient keeps a few idle connections per peer.
var peerClient = &http.Client{Transport: &http.Transport{
	Proxy: nil, MaxIdleConns: 512, MaxIdleConnsPerHost: 16, IdleConnTimeout: 30 * time.Second,
	DisableCompression: true,
}}

// Swarm is the set of peers for one DoFileId, as the Array reports them,
// and the piece scheduling over them. It yields one fetch.Source per peer
// kind the mode allows (Sources). Every piece from a peer is checked
// against its SHA-256 before it is handed on; a peer that sends a bad
// piece is banned for good, one that stalls or fails for BanDuration.
//
// Who fetches what from the origin: the Array decides (coordinated
// back-to-source, coord.go): a piece no peer holds is this device's to
// take from the origin (the Source says ErrNotHave so the Job moves on)
// or another's, which this one waits for on the LAN for the Policy's
// delay. With an Array that does not coordinate, each such piece has an
// owner chosen by rendezvous hashing over the peers known, who takes it
// from the origin while the others wait up to OwnerWait. So a site
// downloads each piece from the internet about once.
type Swarm struct {
	cfg  SwarmConfig
	file string

	mu          sync.Mutex
	peers       map[string]*remote
	bad         map[string]bool // peer ids banned for bad pieces
	registered  bool
	lastRefresh time.Time
	refreshed   chan struct{} // closed after each Refresh, then replaced
	started     time.Time
	// Origin fetches let through while no peer is known (holdBack):
	// soloGranted of them since this peer held soloHave0 pieces.
	soloStarted bool
	soloGranted int
	soloHave0   int

	// Coordinated back-to-source (the Array's last answer, coord.go).
	coordinated bool
	origin      map[int]bool    // pieces this peer is to take from the origin
	fetching    map[int]*remote // pieces others take from the origin
	assignees   map[string]*remote
	want        map[int]int // pieces workers wait on with no plan → workers
	kick        chan struct{}
	qosStart    time.Time // start of the QoS window, and pieces held then
	qosHave     int
	known       map[string]bool // every peer the Array named (NumPeers)
	toldOrigin  map[int]bool    // pieces whose way to the origin was logged (logOrigin)

	arrayCalls atomic.Int64
	requests   atomic.Int64
	busy       atomic.Int64
	discarded  atomic.Int64
}

// remote is what this peer knows of another.
type remote struct {
	id, addr    string
	kind        fetch.SourceKind
	have        Bitmap
	active      int
	bannedUntil time.Time // a stall or failure: avoided until then
	busyUntil   time.Time // answered 503: not asked again before its Retry-After
}

// NewSwarm returns a Swarm for cfg.Content.
func NewSwarm(cfg SwarmConfig) (*Swarm, error) {
	if cfg.Content == nil || cfg.PeerID == "" || cfg.Array == nil {
		return nil, fmt.Errorf("peer: swarm needs Content, PeerID and Array")
	}
	if err := checkMode(cfg.Mode); err != nil {
		return nil, err
	}
	cfg.defaults()
	now := cfg.Clock.Now()
	return &Swarm{cfg: cfg, file: cfg.Content.ID, peers: map[string]*remote{}, bad: map[string]bool{},
		refreshed: make(chan struct{}), started: now, origin: map[int]bool{}, fetching: map[int]*remote{},
		assignees: map[string]*remote{}, want: map[int]int{}, kick: make(chan struct{}, 1),
		qosStart: now, qosHave: cfg.Content.Pieces() - cfg.Content.Missing(), known: map[string]bool{}}, nil
}

// Sources returns one fetch.Source per peer kind the mode allows, LAN
// first; none for modes 0, 99 and 100.
func (s *Swarm) Sources() []fetch.Source {
	var out []fetch.Source
	for _, k := range Kinds(s.cfg.Mode) {
		out = append(out, &Source{s: s, kind: k})
	}
	return out
}

// Banned returns the ids of the peers banned for sending bad pieces.
func (s *Swarm) Banned() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.bad))
	for id := range s.bad {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// ArrayCalls and Requests count calls to the Array and piece requests
// to peers (tests check that modes 0 and 99 make none).
func (s *Swarm) ArrayCalls() int64 { return s.arrayCalls.Load() }

// Requests counts piece requests sent to peers.
func (s *Swarm) Requests() int64 { return s.requests.Load() }

// Busy counts the 503 (or refused) answers of busy peers; they never
// count against a peer.
func (s *Swarm) Busy() int64 { return s.busy.Load() }

// Discarded counts the bytes of good pieces received whole from a peer
// and dropped because another peer's copy won an endgame race.
func (s *Swarm) Discarded() int64 { return s.discarded.Load() }

// NumPeers is how many distinct peers the Array named for this download.
func (s *Swarm) NumPeers() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.known)
}

// Refresh tells the Array what this peer holds and learns its peers.
func (s *Swarm) Refresh(ctx context.Context) error {
	if !usesArray(s.cfg.Mode) {
		return nil
	}
	have, complete := s.cfg.Content.Bitmap()
	req := imeapi.ArrayRequest{DoFileID: s.file, PeerID: s.cfg.PeerID, Addr: s.cfg.Addr, LanID: s.cfg.LanID,
		GroupID: s.cfg.GroupID, DownloadMode: s.cfg.Mode, Complete: complete, MaxOrigin: s.cfg.MaxOrigin}
	if !complete {
		req.Pieces = have
		req.Want = s.wanted(have, max(s.cfg.MaxOrigin, minAhead))
	}
	if b := s.Banned(); len(b) > 0 {
		req.Avoid = b[:min(len(b), 64)]
	}
	s.arrayCalls.Add(1)
	resp, err := s.cfg.Array.Array(ctx, req)
	if err != nil {
		return fmt.Errorf("peer: array: %w", err)
	}
	allowed := map[fetch.SourceKind]bool{}
	for _, k := range Kinds(s.cfg.Mode) {
		allowed[k] = true
	}
	n := s.cfg.Content.Pieces()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.registered, s.lastRefresh = resp.Registered, s.cfg.Clock.Now()
	seen := map[string]bool{}
	for _, p := range resp.Peers {
		k, ok := kindOf(p.Type)
		if !ok || !allowed[k] || p.PeerID == s.cfg.PeerID || p.Addr == "" || s.bad[p.PeerID] {
			continue
		}
		seen[p.PeerID] = true
		s.known[p.PeerID] = true
		r := s.peers[p.PeerID]
		// A remote never changes after it is made (Source reads kind
		// without the lock): a new address or type makes a new one.
		if r == nil || r.addr != p.Addr || r.kind != k {
			r = &remote{id: p.PeerID, addr: p.Addr, kind: k, have: NewBitmap(n)}
			s.peers[p.PeerID] = r
		}
		switch {
		case p.Complete:
			for i := range n {
				r.have.Set(i)
			}
		case Bitmap(p.Pieces).valid(n):
			for i := range n {
				if Bitmap(p.Pieces).Has(i) {
					r.have.Set(i)
				}
			}
		}
	}
	for id, r := range s.peers {
		if !seen[id] && r.active == 0 {
			delete(s.peers, id)
		}
	}
	s.plan(resp, allowed, n)
	close(s.refreshed)
	s.refreshed = make(chan struct{})
	return nil
}

// holdBack decides, for a piece this peer would fetch from the origin
// while it knows no peer at all and the Array does not coordinate,
// whether to wait. In the first two
// refresh intervals the origin fetches ramp up like TCP's slow start: one
// at a time at first, then one more in flight for every piece that lands
// (a fetch counts as in flight until a piece more is held). A fleet that
// starts at once so fetches a few pieces each before the peers see each
// other, not a whole request window each, while a lone device reaches
// full width after a handful of pieces. It returns when this worker
// should go on (false: go to the origin; true: look again).
func (s *Swarm) holdBack(ctx context.Context) bool {
	have := s.cfg.Content.Pieces() - s.cfg.Content.Missing()
	s.mu.Lock()
	alone := true
	now := s.cfg.Clock.Now()
	for _, r := range s.peers {
		if s.usable(r, now) {
			alone = false
			break
		}
	}
	window := now.Sub(s.started) < 2*s.cfg.RefreshInterval
	if alone && window {
		if !s.soloStarted {
			s.soloStarted, s.soloHave0 = true, have
		}
		landed := have - s.soloHave0
		if s.soloGranted-landed >= 1+landed {
			ch := s.refreshed
			s.mu.Unlock()
			s.wait(ctx, min(s.cfg.RefreshInterval, holdPoll), ch)
			return true
		}
		s.soloGranted++
	}
	s.mu.Unlock()
	return false
}

// minAhead is the fewest pieces past the awaited ones a Refresh asks the
// Array to plan (the Array's own default share is 4).
const minAhead = 4

// holdPoll is how often a held-back worker looks whether a piece landed.
const holdPoll = 20 * time.Millisecond

// Run refreshes every RefreshInterval, at once when this peer gets its
// first piece or completes, and soon (kickGap) when a worker waits on a
// piece the Array has not planned, until ctx is done.
func (s *Swarm) Run(ctx context.Context) {
	if !usesArray(s.cfg.Mode) {
		return
	}
	tick := s.cfg.Clock.After(s.cfg.RefreshInterval)
	ct := s.cfg.Content
	for {
		ct.mu.Lock()
		changed, nhave := ct.changed, ct.nhave
		ct.mu.Unlock()
		s.mu.Lock()
		registered, last := s.registered, s.lastRefresh
		s.mu.Unlock()
		wake := changed
		if registered && nhave < ct.Pieces()-1 {
			wake = nil // only the first piece and completion need an early word
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
			if ct.Missing() > 0 && registered {
				continue
			}
		case <-s.kick:
			if gap := s.kickGap() - s.cfg.Clock.Now().Sub(last); gap > 0 {
				select {
				case <-ctx.Done():
					return
				case <-s.cfg.Clock.After(gap):
				}
			}
		case <-tick:
			tick = nil
		}
		if err := s.Refresh(ctx); err != nil && ctx.Err() == nil {
			s.cfg.Logf("%v", err)
		}
		if tick == nil {
			tick = s.cfg.Clock.After(s.cfg.RefreshInterval)
		}
	}
}

// usable reports whether r may be asked now; s.mu held.
func (s *Swarm) usable(r *remote, now time.Time) bool {
	return !s.bad[r.id] && !now.Before(r.bannedUntil)
}

// holders returns the usable peers of kind k that hold piece i and have
// a request slot and are not busy (a 503's Retry-After), least loaded
// first (ties in random order); s.mu held.
func (s *Swarm) holders(k fetch.SourceKind, i int, skip map[*remote]bool) []*remote {
	now := s.cfg.Clock.Now()
	var out []*remote
	for _, r := range s.peers {
		if r.kind == k && r.have.Has(i) && !skip[r] && r.active < s.cfg.MaxPerPeer && s.usable(r, now) && !now.Before(r.busyUntil) {
			out = append(out, r)
		}
	}
	rand.Shuffle(len(out), func(a, b int) { out[a], out[b] = out[b], out[a] })
	sort.SliceStable(out, func(a, b int) bool { return out[a].active < out[b].active })
	return out
}

// heldByOther reports whether a usable peer of a kind other than k holds
// piece i; s.mu held.
func (s *Swarm) heldByOther(k fetch.SourceKind, i int) bool {
	now := s.cfg.Clock.Now()
	for _, r := range s.peers {
		if r.kind != k && r.have.Has(i) && s.usable(r, now) {
			return true
		}
	}
	return false
}

// owner is the peer that should fetch piece i from the origin: the
// highest rendezvous score among usable peers and this one; nil means
// this peer. s.mu held.
func (s *Swarm) owner(i int) *remote {
	best, bestScore := (*remote)(nil), score(s.cfg.PeerID, s.file, i)
	now := s.cfg.Clock.Now()
	for _, r := range s.peers {
		if !s.usable(r, now) {
			continue
		}
		if sc := score(r.id, s.file, i); sc > bestScore || (sc == bestScore && best != nil && r.id < best.id) {
			best, bestScore = r, sc
		}
	}
	return best
}

func score(peerID, file string, i int) uint64 {
	d := xxhash.New()
	_, _ = d.WriteString(peerID)
	_, _ = d.WriteString("\x00" + file + "\x00")
	_, _ = fmt.Fprint(d, i)
	return d.Sum64()
}
