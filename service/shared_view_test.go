package service

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/service/console"
)

// consoleLogin signs in to the console at base with the admin token and
// returns the session cookie.
func consoleLogin(t *testing.T, c *http.Client, base, admin string) *http.Cookie {
	t.Helper()
	resp, body := consoleDo(t, c, "POST", base+"/console/login", "token="+url.QueryEscape(admin), nil, "")
	ck := sessionCookie(resp)
	if resp.StatusCode != http.StatusSeeOther || ck == nil || ck.Value == "" {
		t.Fatalf("login at %s: %d, cookie %v\n%s", base, resp.StatusCode, ck, body)
	}
	return &http.Cookie{Name: console.CookieName, Value: ck.Value}
}

// assignedTo is the ids of the apps in c's policies (a sync: POST with
// c.DeviceProperties, GET without).
func assignedTo(t *testing.T, c *imeapi.Client) map[string]bool {
	t.Helper()
	p, err := c.Policies(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, x := range p.Policies {
		out[x.AppID] = true
	}
	return out
}

// lastSyncOn is the device's LastSyncAt in the admin status of the server at base.
func lastSyncOn(t *testing.T, e *env, base, id string) *time.Time {
	t.Helper()
	c := consoleClient(e.ts.Client())
	admin := imeapi.NewClient(base, c)
	admin.Token = adminToken(t, e)
	st, err := admin.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range st.Devices {
		if d.DeviceID == id {
			return d.LastSyncAt
		}
	}
	t.Fatalf("status at %s lacks device %s", base, id)
	return nil
}

// TestTwoServersShareAdminView: two Servers on one PostgreSQL show an
// admin the same fleet. A console session started on A is valid on B and
// a logout on B ends it on A; a sync through A is B's last sync in its
// status and console; a property reported in a sync through A decides an
// assignment filter on B, in B's policies and in B's content check even
// once B has the device cached, and a later sync through A changes B's
// answer. (Per-process state fails every step: B would answer 401, "—"
// and the enrollment's properties.)
func TestTwoServersShareAdminView(t *testing.T) {
	a, ids := filterEnv(t, onStore(newPGDatabase(t)))
	cfg := a.cfg
	cfg.DataDir = filepath.Join(t.TempDir(), "data-b")
	srvB, err := NewContext(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	tsB := httptest.NewServer(srvB)
	t.Cleanup(func() { tsB.Close(); srvB.Close() })
	ctx := context.Background()
	hc := consoleClient(a.ts.Client())
	admin := adminToken(t, a)

	// A console session started on A is valid on B.
	session := consoleLogin(t, hc, a.ts.URL, admin)
	if resp, body := consoleDo(t, hc, "GET", tsB.URL+"/console/apps", "", session, ""); resp.StatusCode != http.StatusOK || !strings.Contains(body, "include") {
		t.Fatalf("B's apps page with A's session: %d\n%s", resp.StatusCode, body)
	}

	// Enrolled through A as an OptiPlex: the include filter leaves it out.
	priv, _ := ecdh.X25519().GenerateKey(rand.Reader)
	viaA := a.client()
	viaA.DeviceProperties = map[string]string{"model": "OptiPlex"}
	if _, err := viaA.Enroll(ctx, "pc-1", a.secret, priv.PublicKey()); err != nil {
		t.Fatal(err)
	}
	viaB := imeapi.NewClient(tsB.URL, tsB.Client())
	viaB.Token, viaB.DeviceID = viaA.Token, viaA.DeviceID
	if got := lastSyncOn(t, a, tsB.URL, viaA.DeviceID); got != nil {
		t.Fatalf("B shows a last sync %v before any", got)
	}

	// A sync through A reporting a Surface: B shows its time and targets
	// by its properties.
	a.clock.Advance(5 * time.Minute)
	syncedAt := a.clock.Now().UTC()
	viaA.DeviceProperties = map[string]string{"model": "Surface Laptop 5"}
	if got := assignedTo(t, viaA); !got[ids["include"]] || got[ids["exclude"]] {
		t.Fatalf("A after the Surface sync: %v", got)
	}
	if got := lastSyncOn(t, a, tsB.URL, viaA.DeviceID); got == nil || !got.Equal(syncedAt) {
		t.Fatalf("B's status: last sync %v; want %v (the sync through A)", got, syncedAt)
	}
	resp, body := consoleDo(t, hc, "GET", tsB.URL+"/console/devices/"+viaA.DeviceID, "", session, "")
	if want := "<dt>Last sync</dt><dd>" + syncedAt.Format("2006-01-02 15:04:05Z") + "</dd>"; resp.StatusCode != http.StatusOK || !strings.Contains(body, want) {
		t.Fatalf("B's console device page: %d, lacks %q\n%s", resp.StatusCode, want, body)
	}
	a.clock.Advance(time.Minute)
	if got := assignedTo(t, viaB); !got[ids["include"]] || got[ids["exclude"]] {
		t.Fatalf("B's policies (GET) after the Surface sync through A: %v; want include, not exclude", got)
	}
	if _, err := viaB.ContentInfo(ctx, ids["include"], "1"); err != nil {
		t.Fatalf("B's content info of the included app: %v", err)
	}

	// B has the device cached now; a sync through A back to an OptiPlex
	// still decides B's content check.
	viaA.DeviceProperties = map[string]string{"model": "OptiPlex"}
	if got := assignedTo(t, viaA); got[ids["include"]] {
		t.Fatalf("A after the OptiPlex sync: %v", got)
	}
	if _, err := viaB.ContentInfo(ctx, ids["include"], "1"); !errors.Is(err, imeapi.ErrNotFound) {
		t.Fatalf("B's content info after the OptiPlex sync through A: %v; want 404 (not assigned)", err)
	}
	if _, err := viaB.ContentInfo(ctx, ids["exclude"], "1"); err != nil {
		t.Fatalf("B's content info of the exclude-filtered app for an OptiPlex: %v", err)
	}

	// A logout on B ends the session on A too.
	if resp, _ := consoleDo(t, hc, "POST", tsB.URL+"/console/logout", "", session, ""); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout on B: %d", resp.StatusCode)
	}
	if resp, _ := consoleDo(t, hc, "GET", a.ts.URL+"/console/apps", "", session, ""); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("A after the logout on B: %d; want 401", resp.StatusCode)
	}
}

// TestRestartKeepsAdminView: on the embedded bbolt store a restart of
// the service keeps console sessions, the last sync and the properties
// of the last sync (a GET after the restart is still targeted by them).
func TestRestartKeepsAdminView(t *testing.T) {
	e, ids := filterEnv(t)
	hc := consoleClient(e.ts.Client())
	session := consoleLogin(t, hc, e.ts.URL, adminToken(t, e))
	priv, _ := ecdh.X25519().GenerateKey(rand.Reader)
	c := e.client()
	c.DeviceProperties = map[string]string{"model": "OptiPlex"}
	if _, err := c.Enroll(context.Background(), "pc-1", e.secret, priv.PublicKey()); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Minute)
	syncedAt := e.clock.Now().UTC()
	c.DeviceProperties = map[string]string{"model": "Surface Go"}
	if got := assignedTo(t, c); !got[ids["include"]] {
		t.Fatalf("before the restart: %v", got)
	}

	e.stop()
	e.start(t)
	e.clock.Advance(time.Minute)
	if resp, body := consoleDo(t, hc, "GET", e.ts.URL+"/console/devices", "", session, ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("session after a restart: %d\n%s", resp.StatusCode, body)
	}
	if got := lastSyncOn(t, e, e.ts.URL, c.DeviceID); got == nil || !got.Equal(syncedAt) {
		t.Fatalf("last sync after a restart: %v; want %v", got, syncedAt)
	}
	c2 := e.client()
	c2.Token, c2.DeviceID = c.Token, c.DeviceID
	if got := assignedTo(t, c2); !got[ids["include"]] || got[ids["exclude"]] {
		t.Fatalf("GET after a restart: %v; want the Surface sync's targeting", got)
	}
}

// countingStore counts the sync writes and reads that reach the store.
type countingStore struct {
	store
	mu            sync.Mutex
	writes, reads int
}

func (c *countingStore) putSync(id string, at time.Time, props map[string]string) (syncState, error) {
	c.mu.Lock()
	c.writes++
	c.mu.Unlock()
	return c.store.putSync(id, at, props)
}

func (c *countingStore) syncOf(id string) (syncState, error) {
	c.mu.Lock()
	c.reads++
	c.mu.Unlock()
	return c.store.syncOf(id)
}

func (c *countingStore) counts() (int, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.writes, c.reads
}

// TestSyncWritesOnce: a sync (POST or GET policies) writes the store
// once and reads no sync state; a content info request reads it once
// when the apps folder has assignment filters, not at all without, and
// writes nothing.
func TestSyncWritesOnce(t *testing.T) {
	for _, filters := range []bool{false, true} {
		var e *env
		var app string
		if filters {
			var ids map[string]string
			e, ids = filterEnv(t)
			app = ids["exclude"] // an OptiPlex passes the exclude filter
		} else {
			e = newEnv(t)
			app = e.apps["desktopinfo.intunewin"].ID
		}
		cs := &countingStore{store: e.srv.st}
		srv := e.srv
		srv.st = cs
		ts := httptest.NewServer(srv) // after the swap: the handlers see cs
		t.Cleanup(ts.Close)
		priv, _ := ecdh.X25519().GenerateKey(rand.Reader)
		c := imeapi.NewClient(ts.URL, ts.Client())
		if _, err := c.Enroll(context.Background(), "pc-1", e.secret, priv.PublicKey()); err != nil {
			t.Fatal(err)
		}
		check := func(step string, wantW, wantR int) {
			t.Helper()
			if w, r := cs.counts(); w != wantW || r != wantR {
				t.Fatalf("filters %v, after %s: %d sync writes, %d reads; want %d, %d", filters, step, w, r, wantW, wantR)
			}
		}
		check("enrollment", 0, 0)
		c.DeviceProperties = map[string]string{"model": "OptiPlex"}
		assignedTo(t, c)
		check("a POST sync", 1, 0)
		c.DeviceProperties = nil
		assignedTo(t, c)
		check("a GET sync", 2, 0)
		if _, err := c.ContentInfo(context.Background(), app, "1"); err != nil {
			t.Fatalf("filters %v: %v", filters, err)
		}
		if filters {
			check("content info", 2, 1)
		} else {
			check("content info", 2, 0)
		}
	}
}
