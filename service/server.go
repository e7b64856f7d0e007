package service

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/imepipe/imepipe/imeapi"
)

// Defaults for the Config fields left zero.
const (
	DefaultBlobTTL      = time.Hour
	DefaultPeerTTL      = 10 * time.Minute
	DefaultMaxBodyBytes = 1 << 20
	DefaultBodyTimeout  = 10 * time.Second
)

// Config is what a Server needs. AppsDir and DataDir are required.
type Config struct {
	AppsDir string // one subfolder per app: app.json and one .intunewin
	DataDir string // bbolt state, cached blobs and generated secrets
	// Store is where devices (with their last sync and sync properties),
	// tokens, reports, console sessions and the Array's peer
	// registrations live: "" or "bbolt" is <DataDir>/service.db (one
	// process); a postgres:// URL is PostgreSQL, which several Servers
	// may share (the blob signing key is then the database's).
	Store string

	// EnrollmentSecretFile holds the shared enrollment secret; empty means
	// <DataDir>/enrollment-secret, generated (mode 0600) if absent.
	EnrollmentSecretFile string
	// AdminTokenFile holds the bearer token that may read every device's
	// status; empty means <DataDir>/admin-token, generated if absent.
	AdminTokenFile string

	// BaseURL is how clients reach this server ("http://10.0.0.5:8080"),
	// used in UploadLocation and PieceHashesUrl; empty means the scheme
	// and Host of each request.
	BaseURL string
	// BlobBaseURL, when set, puts blob URLs on another origin (nginx, a
	// CDN) that serves <DataDir>/blobs; its signature is then not checked.
	BlobBaseURL string

	BlobTTL      time.Duration // lifetime of a signed blob URL (DefaultBlobTTL)
	PeerTTL      time.Duration // lifetime of an Array registration (DefaultPeerTTL)
	MaxBodyBytes int64         // request body limit (DefaultMaxBodyBytes)
	// BodyTimeout bounds the reading of a request body, from the end of
	// its headers (DefaultBodyTimeout); past it the answer is 408 and the
	// connection is closed. Headers are the http.Server's ReadHeaderTimeout.
	BodyTimeout time.Duration

	// AllowUnsupported serves apps whose settings the agent does not
	// implement yet (imeapi.Review's Unsupported); they are refused
	// otherwise (serve --allow-unsupported).
	AllowUnsupported bool

	// ConsoleRefresh is how often the console's pages refresh themselves
	// (console.DefaultRefresh if zero).
	ConsoleRefresh time.Duration

	Now  func() time.Time              // clock; time.Now if nil
	Logf func(format string, a ...any) // logger; silent if nil. Never sees key material.
}

// Server is the emulated cloud service; it is an http.Handler.
type Server struct {
	cfg        Config
	cat        *catalog
	st         store
	sig        *signer
	arr        peerRegistry
	mux        *http.ServeMux
	secretHash [32]byte
	adminHash  [32]byte
	secretPath string
	adminPath  string
	// devices caches enrollment records: [32]byte token hash → *device
	// (tokens are never revoked), never its Sync, which the store has.
	devices sync.Map
	console http.Handler
	sealMu  sync.Mutex
	sealed  map[string]imeapi.Envelope // device id \x00 DoFileId → sealed DecryptInfo
	metrics *metrics
}

// NewContext loads the apps, opens the state and returns a ready Server;
// ctx cancels the loading of apps.
func NewContext(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.AppsDir == "" || cfg.DataDir == "" {
		return nil, errors.New("AppsDir and DataDir are required")
	}
	if cfg.BlobTTL <= 0 {
		cfg.BlobTTL = DefaultBlobTTL
	}
	if cfg.PeerTTL <= 0 {
		cfg.PeerTTL = DefaultPeerTTL
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.BodyTimeout <= 0 {
		cfg.BodyTimeout = DefaultBodyTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	cfg.BlobBaseURL = strings.TrimRight(cfg.BlobBaseURL, "/")
	// The apps folder is looked at before anything is written: a mistyped
	// --apps must not leave a data folder with fresh secrets behind.
	if err := isFolder("apps folder", cfg.AppsDir); err != nil {
		return nil, err
	}
	if err := isFolder("data folder", cfg.DataDir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	blobDir := filepath.Join(cfg.DataDir, "blobs")
	if err := os.MkdirAll(blobDir, 0o700); err != nil {
		return nil, pathError("data folder", cfg.DataDir, kindFolder, err)
	}
	s := &Server{cfg: cfg, sealed: map[string]imeapi.Envelope{}}
	var err error
	if s.st, err = openStore(cfg.Store, cfg.DataDir); err != nil {
		return nil, err
	}
	if err := s.load(ctx, blobDir); err != nil {
		s.st.close()
		return nil, err
	}
	s.metrics = newMetrics(s)
	s.console = s.newConsole()
	s.routes()
	return s, nil
}

// load reads the secrets and the apps once the store is open. On a
// shared store (PostgreSQL) the enrollment secret and admin token not
// given as files are the database's, copied into the data folder.
func (s *Server) load(ctx context.Context, blobDir string) error {
	cfg := s.cfg
	_, shared := s.st.(*pgStore)
	var err error
	for _, x := range []struct {
		name, file string
		path       *string
		hash       *[32]byte
	}{{"enrollment-secret", cfg.EnrollmentSecretFile, &s.secretPath, &s.secretHash}, {"admin-token", cfg.AdminTokenFile, &s.adminPath, &s.adminHash}} {
		def := filepath.Join(cfg.DataDir, x.name)
		what := strings.ReplaceAll(x.name, "-", " ")
		if shared && x.file == "" {
			*x.path, *x.hash, err = sharedSecret(s.st, x.name, what, def)
		} else {
			*x.path, *x.hash, err = loadSecret(what, x.file, def)
		}
		if err != nil {
			return err
		}
	}
	if s.cat, err = loadCatalog(ctx, cfg.AppsDir, loadOptions{blobDir: blobDir, allowUnsupported: cfg.AllowUnsupported, logf: cfg.Logf}); err != nil {
		return err
	}
	key, err := s.st.secret("blob-signing-key", 32)
	if err != nil {
		return err
	}
	s.sig = &signer{key: key, ttl: cfg.BlobTTL, now: cfg.Now}
	s.arr = newArray(cfg.PeerTTL, cfg.Now)
	if pg, ok := s.st.(*pgStore); ok {
		s.arr = newPGPeers(pg.pool, cfg.PeerTTL, cfg.Now, cfg.Logf)
	}
	return nil
}

// isFolder checks that path, which a line calls what, is a folder; the
// error says why not, and wraps the system's (fs.ErrNotExist).
func isFolder(what, path string) error {
	fi, err := os.Stat(path)
	switch {
	case err != nil:
		return pathError(what, path, kindFolder, err)
	case !fi.IsDir():
		return &wordedError{msg: what + " " + path + ": a file, not a folder", err: fs.ErrInvalid}
	}
	return nil
}

// Close releases the state store. In-flight requests must be finished
// (http.Server.Shutdown) before.
func (s *Server) Close() error { return s.st.close() }

// EnrollmentSecretPath is the file that holds the enrollment secret.
func (s *Server) EnrollmentSecretPath() string { return s.secretPath }

// AdminTokenPath is the file that holds the admin token.
func (s *Server) AdminTokenPath() string { return s.adminPath }

// AppInfo describes one served app.
type AppInfo struct {
	ID, Version, DisplayName string
	DoFileID                 string
	BlobName                 string
	Size                     int64
	Pieces                   int
	// Ignored and Unsupported are the app's imeapi.Review.
	Ignored, Unsupported []string
}

// Apps lists the apps being served.
func (s *Server) Apps() []AppInfo {
	out := make([]AppInfo, 0, len(s.cat.apps))
	for _, a := range s.cat.apps {
		out = append(out, AppInfo{ID: a.graph.ID, Version: a.graph.Version, DisplayName: a.graph.DisplayName,
			DoFileID: a.blob.doFileID, BlobName: a.blob.name, Size: a.blob.size, Pieces: len(a.blob.pieces),
			Ignored: a.review.Ignored, Unsupported: a.review.Unsupported})
	}
	return out
}

// Skipped lists the app folders that could not be served, and why.
func (s *Server) Skipped() []*AppError { return s.cat.skipped }

func (s *Server) routes() {
	m := http.NewServeMux()
	m.HandleFunc("POST /api/v1/enroll", s.handleEnroll)
	m.HandleFunc("GET /api/v1/policies", s.authedSyncing(s.handlePolicies))
	m.HandleFunc("POST /api/v1/policies", s.authedSyncing(s.handleSync))
	m.HandleFunc("POST /api/v1/contentinfo", s.authed(s.handleContentInfo))
	m.HandleFunc("POST /api/v1/reports", s.authed(s.handleReports))
	m.HandleFunc("GET /api/v1/status", s.handleStatus)
	m.HandleFunc("GET /phf/{id}", s.authed(s.handlePHF))
	m.HandleFunc("POST /do/v1/array", s.authed(s.handleArray))
	m.HandleFunc("DELETE /do/v1/array", s.authed(s.handleArrayLeave))
	m.HandleFunc(routeBlob, s.handleBlob)
	m.Handle("/console/", s.console)
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "", "no such endpoint")
	})
	s.mux = m
}

// ServeHTTP serves the API and the console (/console/). Paths that are
// not clean (.., //, encoded slashes; a trailing slash is allowed) are
// 404, never redirected or resolved.
func (s *Server) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	w := &countingWriter{ResponseWriter: rw}
	defer s.metrics.observe(r, w)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	p := r.URL.Path
	raw := strings.ToLower(r.URL.RawPath)
	if p == "" || p[0] != '/' || (path.Clean(p) != p && path.Clean(p)+"/" != p) || strings.Contains(raw, "%2f") || strings.Contains(raw, "%5c") || strings.ContainsAny(p, "\\\x00") {
		writeError(w, http.StatusNotFound, "", "no such path")
		return
	}
	bodyDeadline(w, r, s.cfg.BodyTimeout)
	s.mux.ServeHTTP(w, r)
}

// authed wraps h with bearer-token authentication; h gets the device
// with its sync state as the store has it now, for the assignment
// filters, which read the properties of its last sync wherever it
// synced. Without filters (no FiltersFile) properties decide nothing and
// the state is not read: d.Sync is then zero.
func (s *Server) authed(h func(http.ResponseWriter, *http.Request, *device)) http.HandlerFunc {
	return s.authedAs(h, len(s.cat.filters) > 0)
}

// authedSyncing is authed for the sync routes, whose handlers write the
// sync and get its state back (putSync): the device's Sync is not read.
func (s *Server) authedSyncing(h func(http.ResponseWriter, *http.Request, *device)) http.HandlerFunc {
	return s.authedAs(h, false)
}

func (s *Server) authedAs(h func(http.ResponseWriter, *http.Request, *device), withSync bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var d *device
		sum, ok := bearer(r)
		var err error
		if ok {
			d, err = s.deviceByHash(sum, withSync)
		}
		if err != nil {
			s.cfg.Logf("internal error: %v", err)
			writeError(w, http.StatusInternalServerError, "", "internal error")
			return
		}
		switch {
		case d == nil && ok && s.isAdminHash(sum):
			// A valid token, but the admin's: it reads status, it holds
			// no device key and is assigned nothing.
			writeError(w, http.StatusForbidden, "", "the admin token cannot act as a device")
			return
		case d == nil:
			unauthorized(w, "missing or unknown bearer token")
			return
		}
		h(w, r, d)
	}
}

func unauthorized(w http.ResponseWriter, msg string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="imepipe"`)
	writeError(w, http.StatusUnauthorized, "", "%s", msg)
}

// bearer returns the SHA-256 of the request's bearer token, if it has one.
func bearer(r *http.Request) ([32]byte, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" || len(tok) > 256 {
		return [32]byte{}, false
	}
	return sha256.Sum256([]byte(strings.TrimSpace(tok))), true
}

// deviceOf returns the device of the request's token, with its sync
// state; nil if none matches.
func (s *Server) deviceOf(r *http.Request) (*device, error) {
	sum, ok := bearer(r)
	if !ok {
		return nil, nil
	}
	return s.deviceByHash(sum, true)
}

// deviceByHash returns a copy of the device whose token hashes to sum;
// nil if none. withSync fills its Sync from the store (a cached device
// costs one read then); otherwise Sync is zero or, after a store lookup,
// the store's.
func (s *Server) deviceByHash(sum [32]byte, withSync bool) (*device, error) {
	if v, ok := s.devices.Load(sum); ok {
		d := *v.(*device)
		if withSync {
			st, err := s.st.syncOf(d.ID)
			if err != nil {
				return nil, err
			}
			d.Sync = st
		}
		return &d, nil
	}
	d, err := s.st.deviceByToken(sum[:])
	if err != nil || d == nil {
		return nil, err
	}
	cached := *d
	cached.Sync = syncState{}
	s.devices.Store(sum, &cached)
	return d, nil
}

// isAdmin reports whether the request carries the admin token.
func (s *Server) isAdmin(r *http.Request) bool {
	sum, ok := bearer(r)
	return ok && s.isAdminHash(sum)
}

// isAdminHash reports, in constant time, whether sum is the admin token's SHA-256.
func (s *Server) isAdminHash(sum [32]byte) bool {
	return subtle.ConstantTimeCompare(sum[:], s.adminHash[:]) == 1
}

// baseURL is the URL prefix clients reach this server at.
func (s *Server) baseURL(r *http.Request) string {
	if s.cfg.BaseURL != "" {
		return s.cfg.BaseURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// loadSecret reads the secret in file, or in def, creating def with a
// random secret (mode 0600) when file is empty and def does not exist. It
// returns the path used and the secret's SHA-256; the secret itself is
// not kept. Its errors name the file, which they call what ("admin token").
func loadSecret(what, file, def string) (string, [32]byte, error) {
	p := file
	if p == "" {
		p = def
		tok := make([]byte, 32)
		rand.Read(tok)
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		switch {
		case err == nil:
			_, err = f.WriteString(base64.RawURLEncoding.EncodeToString(tok) + "\n")
			if err = errors.Join(err, f.Sync(), f.Close()); err != nil {
				os.Remove(p)
				return p, [32]byte{}, pathError(what, p, kindFile, err)
			}
		case errors.Is(err, fs.ErrExist):
		default:
			return p, [32]byte{}, pathError(what, p, kindFile, err)
		}
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return p, [32]byte{}, pathError(what, p, kindFile, err)
	}
	secret := strings.TrimSpace(string(data))
	clear(data)
	if len(secret) < 16 {
		return p, [32]byte{}, fmt.Errorf("%s %s: %d characters, want at least 16", what, p, len(secret))
	}
	return p, sha256.Sum256([]byte(secret)), nil
}
