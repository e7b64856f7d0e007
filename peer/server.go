package peer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/imepipe/imepipe/fetch"
	"github.com/imepipe/imepipe/internal/clock"
)

// Protocol paths and headers of the piece server.
const (
	pathPrefix = "/do/v1/"
	// HeaderPeerType carries the requester's type (LAN, Group, Internet)
	// as the Array gave it, for BytesTo…Peers accounting.
	HeaderPeerType = "X-Do-Peer-Type"
	// HeaderPeerID names the requesting peer (for logs).
	HeaderPeerID = "X-Do-Peer-Id"
)

// Defaults of ServerConfig.
const (
	DefaultMaxConns   = 128
	DefaultMaxUploads = 32
	DefaultMaxWait    = 10 * time.Second
	// DefaultHeaderTimeout bounds how long a connection may take to send
	// a request's headers; DefaultIdleTimeout how long a keep-alive
	// connection may wait for its next request.
	DefaultHeaderTimeout = 5 * time.Second
	DefaultIdleTimeout   = 30 * time.Second
	// DefaultConnGrace is how long a new connection may go without a
	// request before, at the cap, it is closed to make room.
	DefaultConnGrace = time.Second
	// DefaultMaxUploadsPerPeer and DefaultQueueWait: see ServerConfig.
	DefaultMaxUploadsPerPeer = 4
	DefaultQueueWait         = 100 * time.Millisecond
)

// ServerConfig configures a Server. Cache is required.
type ServerConfig struct {
	Cache *Cache
	// MaxConns caps open connections (DefaultMaxConns). At the cap an
	// idle keep-alive connection, or one silent past ConnGrace, is closed
	// for the new one; when every one is busy, the new one's request is
	// answered 503 with Retry-After (never before it sends one).
	MaxConns int
	// HeaderTimeout, IdleTimeout and ConnGrace: see their defaults.
	HeaderTimeout time.Duration
	IdleTimeout   time.Duration
	ConnGrace     time.Duration
	// MaxUploads caps pieces being sent at once (DefaultMaxUploads).
	// They are shared in turn among the peers asking: one peer holds at
	// most MaxUploadsPerPeer (DefaultMaxUploadsPerPeer); when none is
	// free a request waits its peer's turn for up to QueueWait
	// (DefaultQueueWait) — at most MaxUploads requests wait, so that
	// the rest try another peer at once — then gets 503 with Retry-After.
	MaxUploads        int
	MaxUploadsPerPeer int
	QueueWait         time.Duration
	// UploadRate caps all uploads together, in bytes per second (0: none).
	UploadRate int64
	// MaxWait is the longest a request may wait (?wait=ms) for a piece
	// this peer is still downloading (DefaultMaxWait).
	MaxWait time.Duration
	// Tamper, when set, may change the bytes of every piece sent: the
	// tests and the fleet bench use it to make a bad peer.
	Tamper func(id string, piece int, b []byte)
	// Metrics, when set, is served at /metrics.
	Metrics http.Handler
	// Clock paces uploads, ages connections and times a request's
	// QueueWait (nil: the real clock; tests inject their own).
	Clock Clock
	Logf  func(format string, args ...any)

	onAccept func() // test hook: the listener accepted and counted a connection
}

// Server serves the verified pieces of the DO cache to peers over HTTP:
//
//	GET /do/v1/{DoFileId}/bitmap        which pieces are held (JSON)
//	GET /do/v1/{DoFileId}/piece/{i}     the bytes of piece i (?wait=ms)
//
// It refuses DoFileIds outside the strict charset, unknown content,
// pieces not complete and verified, and indexes out of range; it never
// opens anything but the cache's own data files.
type Server struct {
	cfg     ServerConfig
	mux     *http.ServeMux
	slots   *fairSlots
	pace    *fetch.Pacer
	served  atomic.Int64
	refused atomic.Int64
	sentMu  sync.Mutex
	sentTo  map[string]int64 // whole pieces' bytes sent, by requesting peer id

	mu  sync.Mutex
	hs  *http.Server
	lis *limitListener
}

// NewServer returns a Server over cfg.Cache.
func NewServer(cfg ServerConfig) *Server {
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = DefaultMaxConns
	}
	if cfg.MaxUploads <= 0 {
		cfg.MaxUploads = DefaultMaxUploads
	}
	if cfg.MaxWait <= 0 {
		cfg.MaxWait = DefaultMaxWait
	}
	if cfg.MaxUploadsPerPeer <= 0 {
		cfg.MaxUploadsPerPeer = DefaultMaxUploadsPerPeer
	}
	if cfg.QueueWait <= 0 {
		cfg.QueueWait = DefaultQueueWait
	}
	if cfg.HeaderTimeout <= 0 {
		cfg.HeaderTimeout = DefaultHeaderTimeout
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.ConnGrace <= 0 {
		cfg.ConnGrace = DefaultConnGrace
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	s := &Server{cfg: cfg, mux: http.NewServeMux(), slots: newFairSlots(cfg.MaxUploads, cfg.MaxUploadsPerPeer, cfg.MaxUploads),
		pace: fetch.NewPacer(cfg.UploadRate, cfg.Clock.Now, nil), sentTo: map[string]int64{}}
	s.mux.HandleFunc("GET "+pathPrefix+"{id}/bitmap", s.handleBitmap)
	s.mux.HandleFunc("GET "+pathPrefix+"{id}/piece/{i}", s.handlePiece)
	if cfg.Metrics != nil {
		s.mux.Handle("GET /metrics", cfg.Metrics)
	}
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Serve accepts connections on ln until Shutdown, at most MaxConns open.
func (s *Server) Serve(ln net.Listener) error {
	lis := newLimitListener(ln, s.cfg.MaxConns, s.cfg.ConnGrace, min(s.cfg.HeaderTimeout, time.Second), s.cfg.Clock.Now)
	lis.onAccept = s.cfg.onAccept
	// No ReadTimeout: requests have no body, and its deadline would cancel
	// a paced piece upload's context mid-send.
	hs := &http.Server{Handler: s, ReadHeaderTimeout: s.cfg.HeaderTimeout, IdleTimeout: s.cfg.IdleTimeout,
		ConnState: lis.track, MaxHeaderBytes: 16 << 10}
	s.mu.Lock()
	s.hs, s.lis = hs, lis
	s.mu.Unlock()
	err := hs.Serve(lis)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return fmt.Errorf("peer: serve: %w", err)
}

// Shutdown stops accepting and waits for requests in flight (or ctx).
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	hs := s.hs
	s.mu.Unlock()
	if hs == nil {
		return nil
	}
	return hs.Shutdown(ctx)
}

// Close closes the listener and every connection at once.
func (s *Server) Close() error {
	s.mu.Lock()
	hs := s.hs
	s.mu.Unlock()
	if hs == nil {
		return nil
	}
	return hs.Close()
}

// Served is how many pieces were sent; Refused how many requests or
// connections were turned away as busy.
func (s *Server) Served() int64 { return s.served.Load() }

// Evicted counts idle or silent connections closed to make room at MaxConns.
func (s *Server) Evicted() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lis == nil {
		return 0
	}
	return s.lis.evicted.Load()
}

// Refused counts requests answered 503 and connections closed at the cap.
func (s *Server) Refused() int64 {
	n := s.refused.Load()
	s.mu.Lock()
	if s.lis != nil {
		n += s.lis.refused.Load()
	}
	s.mu.Unlock()
	return n
}

// bitmapBody is the JSON answer of the bitmap endpoint.
type bitmapBody struct {
	Pieces   int    `json:"pieces"`
	Complete bool   `json:"complete"`
	Have     []byte `json:"have"`
}

func (s *Server) content(w http.ResponseWriter, r *http.Request) *Content {
	id := r.PathValue("id")
	if err := CheckID(id); err != nil {
		http.Error(w, "bad DoFileId", http.StatusBadRequest)
		return nil
	}
	ct, ok := s.cfg.Cache.Get(id)
	if !ok {
		http.Error(w, "unknown DoFileId", http.StatusNotFound)
		return nil
	}
	return ct
}

func (s *Server) handleBitmap(w http.ResponseWriter, r *http.Request) {
	ct := s.content(w, r)
	if ct == nil {
		return
	}
	have, complete := ct.Bitmap()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(bitmapBody{Pieces: ct.Pieces(), Complete: complete, Have: have})
}

// parseIndex accepts a plain decimal index: no sign, no spaces, no hex.
func parseIndex(s string) (int, bool) {
	if s == "" || len(s) > 9 {
		return 0, false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	i, err := strconv.Atoi(s)
	return i, err == nil
}

func (s *Server) handlePiece(w http.ResponseWriter, r *http.Request) {
	ct := s.content(w, r)
	if ct == nil {
		return
	}
	i, ok := parseIndex(r.PathValue("i"))
	if !ok {
		http.Error(w, "bad piece index", http.StatusBadRequest)
		return
	}
	if i >= ct.Pieces() {
		http.Error(w, "piece index out of range", http.StatusRequestedRangeNotSatisfiable)
		return
	}
	if !ct.Has(i) {
		if !s.waitFor(r, ct, i) {
			http.Error(w, "piece not held", http.StatusNotFound)
			return
		}
	}
	who := r.Header.Get(HeaderPeerID)
	if who == "" {
		who = r.RemoteAddr
	}
	if !s.slots.acquire(r.Context(), who, s.cfg.Clock.After(s.cfg.QueueWait)) {
		s.refused.Add(1)
		w.Header().Set("Retry-After", "1")
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	}
	defer s.slots.release(who)
	kind := fetch.LanPeer
	if k, ok := kindOf(r.Header.Get(HeaderPeerType)); ok {
		kind = k
	}
	if s.cfg.Tamper == nil && s.pace == nil {
		if f, size, ok := ct.openPiece(i); ok {
			// Verified here already: from the file to the connection
			// (sendfile), no copy through this process.
			s.cfg.Cache.touch(ct)
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
			n, err := io.Copy(w, io.LimitReader(f, size))
			f.Close()
			s.sent(ct, kind, who, n, err == nil && n == size)
			return
		}
	}
	bp := fetch.PieceBuffer(ct.PieceSize)
	defer fetch.ReleasePieceBuffer(bp)
	b, err := ct.ReadPiece(i, *bp)
	switch {
	case errors.Is(err, ErrNoPiece), errors.Is(err, ErrCorrupt), errors.Is(err, ErrUnknown):
		if errors.Is(err, ErrCorrupt) {
			s.cfg.Logf("peer: %v", err)
		}
		http.Error(w, "piece not held", http.StatusNotFound)
		return
	case err != nil:
		s.cfg.Logf("peer: %v", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if s.cfg.Tamper != nil {
		s.cfg.Tamper(ct.ID, i, b)
	}
	s.cfg.Cache.touch(ct)
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	n, err := s.pace.Writer(r.Context(), w).Write(b)
	s.sent(ct, kind, who, int64(n), err == nil)
}

// sent counts a piece of n bytes sent to who, a peer of kind, when it
// went out whole: a piece cut short (the peer took it elsewhere in an
// endgame race and hung up) is no upload the peer can count.
func (s *Server) sent(ct *Content, kind fetch.SourceKind, who string, n int64, whole bool) {
	if whole {
		ct.addUploaded(kind, n)
		s.served.Add(1)
		s.sentMu.Lock()
		if _, known := s.sentTo[who]; !known && (len(s.sentTo) >= maxSentPeers || len(who) > maxPeerIDLen) {
			who = OtherPeers // the id is the peer's choice: the map stays bounded
		}
		s.sentTo[who] += n
		s.sentMu.Unlock()
	}
}

// maxSentPeers bounds SentTo's peers, maxPeerIDLen the length of an id
// it keeps: past them the bytes are counted under OtherPeers.
const (
	maxSentPeers = 4096
	maxPeerIDLen = 128
)

// OtherPeers is SentTo's key for the peers past its bound (and ids too
// long to keep).
const OtherPeers = "(other peers)"

// SentTo returns the bytes of whole pieces sent to each requesting peer
// (by its X-Do-Peer-Id), as the server counted them: at most
// maxSentPeers ids, the rest under OtherPeers.
func (s *Server) SentTo() map[string]int64 {
	s.sentMu.Lock()
	defer s.sentMu.Unlock()
	return maps.Clone(s.sentTo)
}

// waitFor waits, when the request asks (?wait=ms) and the content is
// still downloading, until piece i is held; capped by MaxWait.
func (s *Server) waitFor(r *http.Request, ct *Content, i int) bool {
	ms, ok := parseIndex(r.URL.Query().Get("wait"))
	if !ok || ms == 0 {
		return false
	}
	ct.mu.Lock()
	complete := ct.complete
	ct.mu.Unlock()
	if complete {
		return false
	}
	d := min(time.Duration(ms)*time.Millisecond, s.cfg.MaxWait)
	ctx, cancel := context.WithTimeout(r.Context(), d)
	defer cancel()
	return ct.waitPiece(i, ctx.Done())
}
