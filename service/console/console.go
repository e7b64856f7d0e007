package console

import (
	"embed"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/imepipe/imepipe/imeapi"
)

// DefaultSessionTTL is a session's lifetime when Config.SessionTTL is zero.
const DefaultSessionTTL = 8 * time.Hour

// DefaultRefresh is how often a page refreshes itself when Config.Refresh is zero.
const DefaultRefresh = 5 * time.Second

// Role is what a token is to the service.
type Role int

// Roles of a token.
const (
	RoleNone   Role = iota // unknown token
	RoleDevice             // an enrolled device's token
	RoleAdmin              // the admin token
)

// App is one served app.
type App struct {
	ID, DisplayName, Version string
}

// Data is what the console reads from the service.
type Data interface {
	// Fleet is every enrolled device with its apps, as GET
	// /api/v1/status answers the admin.
	Fleet() (imeapi.Status, error)
	// Apps lists the served apps.
	Apps() []App
	// TokenRole says whose token tok is.
	TokenRole(tok string) (Role, error)
}

// Sessions keeps the console's sessions where every serve process of one
// store sees them. It is given the SHA-256 of a session id, never the id.
type Sessions interface {
	// StartSession records a session that ends at expires; it also
	// removes the sessions ended by now and, past keep sessions, the
	// oldest.
	StartSession(key [32]byte, expires, now time.Time, keep int) error
	// SessionExpiry is when the session ends; ok false if unknown.
	SessionExpiry(key [32]byte) (expires time.Time, ok bool, err error)
	// EndSession removes a session; an unknown one is no error.
	EndSession(key [32]byte) error
}

// Config is what a Handler needs; Data is required.
type Config struct {
	Data Data
	// Sessions keeps the sessions; nil keeps them in this Handler's
	// memory (one process, lost at a restart).
	Sessions   Sessions
	SessionTTL time.Duration                 // DefaultSessionTTL if zero
	Refresh    time.Duration                 // DefaultRefresh if zero
	Now        func() time.Time              // time.Now if nil
	Logf       func(format string, a ...any) // silent if nil; never given a token or session id
}

// Handler serves the console under /console/. It is safe for concurrent use.
type Handler struct {
	cfg   Config
	tmpl  *template.Template
	files http.Handler
	mux   *http.ServeMux
}

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// New returns the console's handler.
func New(cfg Config) *Handler {
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = DefaultSessionTTL
	}
	if cfg.Refresh <= 0 {
		cfg.Refresh = DefaultRefresh
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	if cfg.Sessions == nil {
		cfg.Sessions = &memSessions{m: map[[32]byte]time.Time{}}
	}
	h := &Handler{cfg: cfg}
	h.tmpl = template.Must(template.New("").Funcs(funcs).ParseFS(templateFS, "templates/*.html"))
	static, _ := fs.Sub(staticFS, "static")
	h.files = http.StripPrefix("/console/static/", http.FileServerFS(static))
	m := http.NewServeMux()
	m.HandleFunc("GET /console/login", h.loginPage)
	m.HandleFunc("POST /console/login", h.login)
	m.HandleFunc("POST /console/logout", h.logout)
	m.HandleFunc("GET /console/logout", h.logout)
	m.HandleFunc("GET /console/static/", h.static)
	m.HandleFunc("GET /console/{$}", h.authed(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/console/apps", http.StatusSeeOther)
	}))
	m.HandleFunc("GET /console/apps", h.authed(h.appsPage))
	m.HandleFunc("GET /console/devices", h.authed(h.devicesPage))
	m.HandleFunc("GET /console/devices/{id}", h.authed(h.devicePage))
	m.HandleFunc("GET /console/delivery", h.authed(h.deliveryPage))
	m.HandleFunc("/console/", func(w http.ResponseWriter, r *http.Request) {
		h.fail(w, http.StatusNotFound, "No such page.")
	})
	h.mux = m
	return h
}

// csp allows only the console's own script and style: an injected
// <script> would not run even if escaping failed.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// ServeHTTP serves /console/…. A request with a query parameter named
// token is refused: the token goes in the login form's body only.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", csp)
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "same-origin") // not no-referrer: forms would then send "Origin: null"
	hd.Set("Cache-Control", "no-store")
	if q := strings.ToLower(r.URL.RawQuery); strings.HasPrefix(q, "token=") || strings.Contains(q, "&token=") {
		h.cfg.Logf("console: refused a request with a token in its URL from %s", r.RemoteAddr)
		h.fail(w, http.StatusBadRequest, "The token is never accepted in a URL; enter it on the login page.")
		return
	}
	h.mux.ServeHTTP(w, r)
}

func (h *Handler) static(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "max-age=300")
	h.files.ServeHTTP(w, r)
}

// page is what every template gets.
type page struct {
	Title   string
	Nav     string // which tab is current
	Refresh int    // seconds; 0: the page does not refresh
	Message string
	Now     time.Time
	Body    any
}

func (h *Handler) render(w http.ResponseWriter, code int, name string, p page) {
	p.Now = h.cfg.Now().UTC()
	var b strings.Builder
	if err := h.tmpl.ExecuteTemplate(&b, name, p); err != nil {
		h.cfg.Logf("console: render %s: %v", name, err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(b.String()))
}

// fail renders an error page.
func (h *Handler) fail(w http.ResponseWriter, code int, msg string) {
	h.render(w, code, "error.html", page{Title: http.StatusText(code), Message: msg})
}

func (h *Handler) refresh() int { return max(1, int(h.cfg.Refresh/time.Second)) }
