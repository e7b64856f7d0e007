package console

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// CookieName is the session cookie's name.
const CookieName = "imepipe_console"

// maxSessions bounds the sessions kept (Sessions' keep); past it the
// oldest is dropped.
const maxSessions = 1024

// maxLoginBody bounds the login form's body.
const maxLoginBody = 4 << 10

// authed wraps a page: it runs for an admin session (or an admin bearer
// token, for scripts); a device's token is 403, anything else 401 with the
// login form.
func (h *Handler) authed(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if tok, ok := bearer(r); ok {
			role, err := h.cfg.Data.TokenRole(tok)
			switch {
			case err != nil:
				h.cfg.Logf("console: internal error: %v", err)
				h.fail(w, http.StatusInternalServerError, "Internal error.")
			case role == RoleAdmin:
				next(w, r)
			case role == RoleDevice:
				h.fail(w, http.StatusForbidden, "A device token cannot open the console; use the admin token.")
			default:
				h.loginForm(w, http.StatusUnauthorized, "Unknown token.")
			}
			return
		}
		ok, err := h.session(r)
		switch {
		case err != nil:
			h.cfg.Logf("console: internal error: %v", err)
			h.fail(w, http.StatusInternalServerError, "Internal error.")
		case ok:
			next(w, r)
		default:
			h.loginForm(w, http.StatusUnauthorized, "")
		}
	}
}

// bearer is the request's bearer token, if it has one.
func bearer(r *http.Request) (string, bool) {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	tok = strings.TrimSpace(tok)
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return "", false
	}
	return tok, true
}

// session reports whether the request carries a live session's cookie;
// an ended session found here is removed.
func (h *Handler) session(r *http.Request) (bool, error) {
	c, err := r.Cookie(CookieName)
	if err != nil || c.Value == "" || len(c.Value) > 128 {
		return false, nil
	}
	key := sha256.Sum256([]byte(c.Value))
	exp, ok, err := h.cfg.Sessions.SessionExpiry(key)
	if err != nil || !ok {
		return false, err
	}
	if !h.cfg.Now().Before(exp) {
		if err := h.cfg.Sessions.EndSession(key); err != nil {
			// Ended all the same; the next sign-in's sweep removes it.
			h.cfg.Logf("console: internal error: %v", err)
		}
		return false, nil
	}
	return true, nil
}

// newSession starts a session and returns its id; the ended sessions go,
// and past maxSessions the oldest.
func (h *Handler) newSession() (string, error) {
	b := make([]byte, 32)
	rand.Read(b)
	id := base64.RawURLEncoding.EncodeToString(b)
	now := h.cfg.Now()
	if err := h.cfg.Sessions.StartSession(sha256.Sum256([]byte(id)), now.Add(h.cfg.SessionTTL), now, maxSessions); err != nil {
		return "", err
	}
	return id, nil
}

// memSessions keeps sessions in memory: the Sessions of a Handler given none.
type memSessions struct {
	mu sync.Mutex
	m  map[[32]byte]time.Time // SHA-256 of a session id → expiry
}

func (s *memSessions) StartSession(key [32]byte, expires, now time.Time, keep int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var oldest [32]byte
	var oldestExp time.Time
	for k, exp := range s.m {
		if !now.Before(exp) {
			delete(s.m, k)
		} else if oldestExp.IsZero() || exp.Before(oldestExp) {
			oldest, oldestExp = k, exp
		}
	}
	if keep > 0 && len(s.m) >= keep {
		delete(s.m, oldest)
	}
	s.m[key] = expires
	return nil
}

func (s *memSessions) SessionExpiry(key [32]byte) (time.Time, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.m[key]
	return exp, ok, nil
}

func (s *memSessions) EndSession(key [32]byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, key)
	return nil
}

func (h *Handler) loginPage(w http.ResponseWriter, r *http.Request) {
	if ok, err := h.session(r); err == nil && ok {
		http.Redirect(w, r, "/console/apps", http.StatusSeeOther)
		return
	}
	h.loginForm(w, http.StatusOK, "")
}

func (h *Handler) loginForm(w http.ResponseWriter, code int, msg string) {
	h.render(w, code, "login.html", page{Title: "Sign in", Message: msg})
}

// login checks the form's token (its body only, never the URL) and
// starts a session for the admin token.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		h.fail(w, http.StatusForbidden, "Cross-origin sign-in refused.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxLoginBody)
	if err := r.ParseForm(); err != nil {
		h.loginForm(w, http.StatusBadRequest, "The form could not be read.")
		return
	}
	role, err := h.cfg.Data.TokenRole(strings.TrimSpace(r.PostForm.Get("token")))
	switch {
	case err != nil:
		h.cfg.Logf("console: internal error: %v", err)
		h.fail(w, http.StatusInternalServerError, "Internal error.")
		return
	case role == RoleDevice:
		h.cfg.Logf("console: sign-in refused from %s: a device token", r.RemoteAddr)
		h.loginForm(w, http.StatusForbidden, "That is a device token; the console takes the admin token.")
		return
	case role != RoleAdmin:
		h.cfg.Logf("console: sign-in refused from %s: unknown token", r.RemoteAddr)
		h.loginForm(w, http.StatusUnauthorized, "Unknown token.")
		return
	}
	id, err := h.newSession()
	if err != nil {
		h.cfg.Logf("console: internal error: %v", err)
		h.fail(w, http.StatusInternalServerError, "Internal error.")
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: CookieName, Value: id, Path: "/console/",
		MaxAge: int(h.cfg.SessionTTL.Seconds()), HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode,
	})
	h.cfg.Logf("console: admin session started from %s", r.RemoteAddr)
	http.Redirect(w, r, "/console/apps", http.StatusSeeOther)
}

// logout ends the request's session and clears its cookie.
func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost && !sameOrigin(r) {
		h.fail(w, http.StatusForbidden, "Cross-origin request refused.")
		return
	}
	if c, err := r.Cookie(CookieName); err == nil {
		if err := h.cfg.Sessions.EndSession(sha256.Sum256([]byte(c.Value))); err != nil {
			// The cookie is cleared all the same; the session ends at its expiry.
			h.cfg.Logf("console: internal error: %v", err)
		}
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/console/", MaxAge: -1,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/console/login", http.StatusSeeOther)
}

// sameOrigin reports whether a form POST comes from this host: an Origin
// header, when the browser sends one, must name the request's Host.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}
