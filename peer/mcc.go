package peer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/imepipe/imepipe/internal/clock"
)

// DefaultAuthTTL is how long an origin's yes to one URL (path and query)
// is reused before the origin is asked again.
const DefaultAuthTTL = 30 * time.Second

// ErrOpenProxy: an MCC with no origins that was not told any origin will do.
var ErrOpenProxy = errors.New("peer: mcc: no origins listed (an open proxy needs AnyOrigin)")

// MCCConfig configures an MCC. Dir and Origins (or AnyOrigin) are required.
type MCCConfig struct {
	// Dir holds the cached objects (one file per origin host and path).
	Dir string
	// Origins lists the only origin hosts (host[:port]) the cache fetches
	// from. Empty is refused unless AnyOrigin is set.
	Origins []string
	// AnyOrigin lets an empty Origins mean every host: an open proxy.
	AnyOrigin bool
	// AuthTTL is how long an origin's answer to one URL authorises hits
	// for that same URL (DefaultAuthTTL).
	AuthTTL time.Duration
	// Clock times AuthTTL (nil: the real clock).
	Clock Clock
	// Scheme is how origins are reached ("http" unless "https").
	Scheme string
	// HTTP is the client for the origins (nil: a default one).
	HTTP *http.Client
	Logf func(format string, args ...any)
}

// MCC is a minimal Connected Cache: a caching HTTP server for the
// ?cacheHostOrigin=<host> scheme. A request for /path?cacheHostOrigin=h&q
// is answered from the cache, filled on a miss by one GET of
// <scheme>://h/path?q (the rest of the query is passed on, so signed URLs
// work). Objects are keyed by origin host and path, not the query: blob
// URLs are signed per device and expire, and keying by the query would
// make every device miss. The origin still decides who may read: a hit
// is served only when the origin accepts that request's own query, asked
// with a one-byte GET (Range: bytes=0-0) and remembered for AuthTTL per
// path and query; the origin's refusal (403, 401, 404) is passed on. It
// serves ranges (http.ServeContent). It does not revalidate or expire
// objects (content is immutable, named by version) and is meant for a
// LAN, not the internet.
type MCC struct {
	cfg    MCCConfig
	mu     sync.Mutex
	fills  map[string]*fill
	auth   map[string]time.Time // upstream URL → until when the origin's yes holds; under mu
	hits   atomic.Int64
	misses atomic.Int64
	checks atomic.Int64
}

// maxAuth bounds the remembered authorisations.
const maxAuth = 4096

// fill is one object being fetched; done is closed when it ends.
type fill struct {
	done chan struct{}
	err  error
}

// NewMCC returns a cache server over cfg.Dir (created).
func NewMCC(cfg MCCConfig) (*MCC, error) {
	if cfg.Dir == "" {
		return nil, errors.New("peer: mcc: a cache folder is required")
	}
	if len(cfg.Origins) == 0 && !cfg.AnyOrigin {
		return nil, ErrOpenProxy
	}
	if cfg.AuthTTL <= 0 {
		cfg.AuthTTL = DefaultAuthTTL
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("peer: mcc: %w", err)
	}
	if cfg.Scheme != "https" {
		cfg.Scheme = "http"
	}
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{Timeout: 0}
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	return &MCC{cfg: cfg, fills: map[string]*fill{}, auth: map[string]time.Time{}}, nil
}

// Hits and Misses count requests answered from the cache and fills.
func (m *MCC) Hits() int64 { return m.hits.Load() }

// Misses counts objects fetched from an origin.
func (m *MCC) Misses() int64 { return m.misses.Load() }

// Checks counts the one-byte requests that asked an origin whether a hit
// may be served.
func (m *MCC) Checks() int64 { return m.checks.Load() }

// mccMeta is kept beside each object.
type mccMeta struct {
	ETag         string    `json:"etag,omitempty"`
	LastModified string    `json:"lastModified,omitempty"`
	ModTime      time.Time `json:"modTime"`
}

func (m *MCC) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	q := r.URL.Query()
	host := q.Get("cacheHostOrigin")
	if !m.allowed(host) {
		http.Error(w, "bad or unknown cacheHostOrigin", http.StatusBadRequest)
		return
	}
	q.Del("cacheHostOrigin")
	p := r.URL.EscapedPath()
	if !strings.HasPrefix(p, "/") || strings.Contains(p, "/../") || strings.HasSuffix(p, "/..") {
		http.Error(w, "bad path", http.StatusBadRequest)
		return
	}
	sum := sha256.Sum256([]byte(host + p))
	key := hex.EncodeToString(sum[:])
	upstream := m.cfg.Scheme + "://" + host + p
	if enc := q.Encode(); enc != "" {
		upstream += "?" + enc
	}
	filled, err := m.ensure(r.Context(), key, upstream)
	if err == nil && !filled {
		err = m.authorize(r.Context(), upstream)
	}
	if err != nil {
		m.cfg.Logf("peer: mcc: %s: %v", redactQuery(upstream), err)
		var se *upstreamStatus
		if errors.As(err, &se) {
			http.Error(w, "origin answered "+http.StatusText(se.code), se.code)
			return
		}
		http.Error(w, "origin unavailable", http.StatusBadGateway)
		return
	}
	f, err := os.Open(filepath.Join(m.cfg.Dir, key))
	if err != nil {
		http.Error(w, "cache read failed", http.StatusInternalServerError)
		return
	}
	defer f.Close()
	var meta mccMeta
	if b, err := os.ReadFile(filepath.Join(m.cfg.Dir, key+".json")); err == nil {
		_ = json.Unmarshal(b, &meta)
	}
	if meta.ETag != "" {
		w.Header().Set("ETag", meta.ETag)
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("X-Cache", "HIT")
	http.ServeContent(w, r, "", meta.ModTime, f)
}

func (m *MCC) allowed(host string) bool {
	if host == "" || strings.ContainsAny(host, "/?#@\\ ") {
		return false
	}
	if u, err := url.Parse("http://" + host); err != nil || u.Host != host {
		return false
	}
	if len(m.cfg.Origins) == 0 {
		return true
	}
	for _, o := range m.cfg.Origins {
		if strings.EqualFold(o, host) {
			return true
		}
	}
	return false
}

// upstreamStatus is an origin's refusal, passed on to the client.
type upstreamStatus struct{ code int }

func (e *upstreamStatus) Error() string { return fmt.Sprintf("origin: HTTP %d", e.code) }

// ensure makes the object key present, filling it once from upstream
// however many requests ask at the same time. filled says this request's
// own upstream GET filled it: the origin accepted its query.
func (m *MCC) ensure(ctx context.Context, key, upstream string) (filled bool, err error) {
	for {
		if _, err := os.Stat(filepath.Join(m.cfg.Dir, key)); err == nil {
			m.hits.Add(1)
			return false, nil
		}
		m.mu.Lock()
		fl, busy := m.fills[key]
		if !busy {
			fl = &fill{done: make(chan struct{})}
			m.fills[key] = fl
		}
		m.mu.Unlock()
		if busy {
			select {
			case <-fl.done:
				// The origin's refusal was of that request's query, not
				// this one's: try again, filling with this query if need be.
				var refused *upstreamStatus
				if fl.err != nil && !(errors.As(fl.err, &refused) && refused.code < 500) {
					return false, fl.err
				}
				continue
			case <-ctx.Done():
				return false, ctx.Err()
			}
		}
		m.misses.Add(1)
		// The fill outlives the request that started it: others wait on it.
		fl.err = m.fetch(context.WithoutCancel(ctx), key, upstream)
		m.mu.Lock()
		delete(m.fills, key)
		m.mu.Unlock()
		close(fl.done)
		if fl.err != nil {
			return false, fl.err
		}
		m.allow(upstream)
		return true, nil
	}
}

// authorize asks the origin whether it would serve upstream (this
// request's path and query), unless it said yes within AuthTTL: one GET
// of one byte. An origin's refusal is an *upstreamStatus.
func (m *MCC) authorize(ctx context.Context, upstream string) error {
	now := m.cfg.Clock.Now()
	m.mu.Lock()
	until, ok := m.auth[upstream]
	m.mu.Unlock()
	if ok && now.Before(until) {
		return nil
	}
	m.checks.Add(1)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, upstream, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Range", "bytes=0-0")
	resp, err := m.cfg.HTTP.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.CopyN(io.Discard, resp.Body, 1)
	resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK, http.StatusPartialContent, http.StatusRequestedRangeNotSatisfiable: // 416: an empty object, still served
	default:
		return &upstreamStatus{code: resp.StatusCode}
	}
	m.allow(upstream)
	return nil
}

// allow remembers that the origin serves upstream, for AuthTTL.
func (m *MCC) allow(upstream string) {
	now := m.cfg.Clock.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.auth) >= maxAuth {
		for k, until := range m.auth {
			if !now.Before(until) {
				delete(m.auth, k)
			}
		}
		if len(m.auth) >= maxAuth {
			clear(m.auth)
		}
	}
	m.auth[upstream] = now.Add(m.cfg.AuthTTL)
}

// redactQuery drops the query of a URL for logs: it may carry a signature.
func redactQuery(u string) string {
	if i := strings.IndexByte(u, '?'); i >= 0 {
		return u[:i] + "?…"
	}
	return u
}

// fetch copies upstream into the cache through a temporary file.
func (m *MCC) fetch(ctx context.Context, key, upstream string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, upstream, nil)
	if err != nil {
		return err
	}
	resp, err := m.cfg.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return &upstreamStatus{code: resp.StatusCode}
	}
	tmp, err := os.CreateTemp(m.cfg.Dir, ".fill-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	n, err := io.Copy(tmp, resp.Body)
	if err == nil && resp.ContentLength >= 0 && n != resp.ContentLength {
		err = io.ErrUnexpectedEOF
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	meta := mccMeta{ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified"), ModTime: m.cfg.Clock.Now().UTC()}
	if t, err := http.ParseTime(meta.LastModified); err == nil {
		meta.ModTime = t
	}
	b, _ := json.Marshal(meta)
	if err := writeRecord(filepath.Join(m.cfg.Dir, key+".json"), b); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), filepath.Join(m.cfg.Dir, key))
}
