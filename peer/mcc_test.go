package peer

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/internal/clocktest"
)

// TestMCC: with a cache host, the second agent takes ≥ 95 % of its bytes
// from the cache; with the cache down, an agent falls back to the origin.
func TestMCC(t *testing.T) {
	f := newTestFile(t, 32*testPiece, 11)
	size := int64(len(f.data))
	o := newOrigin(t, f, 0)
	m, err := NewMCC(MCCConfig{Dir: t.TempDir(), Origins: []string{strings.TrimPrefix(o.URL, "http://")}})
	if err != nil {
		t.Fatal(err)
	}
	cache := httptest.NewServer(m)
	host := strings.TrimPrefix(cache.URL, "http://")
	for i, name := range []string{"first", "second"} {
		n := newNode(t, name, "lan1", "", imeapi.ModeHTTPOnly, nil)
		n.download(context.Background(), f, o, nil, host)
		n.verify(t, f)
		st := n.result.Status
		if st.CacheHost != host || st.BytesFromHttp != st.TotalBytesDownloaded {
			t.Errorf("%s: record %+v", name, st)
		}
		if i == 1 && float64(st.BytesFromCacheServer) < 0.95*float64(st.TotalBytesDownloaded) {
			t.Errorf("second agent: %d of %d bytes from the cache", st.BytesFromCacheServer, st.TotalBytesDownloaded)
		}
	}
	if m.Misses() != 1 || o.sent.Load() > size+size/10 {
		t.Errorf("cache filled %d times; origin sent %d of %d", m.Misses(), o.sent.Load(), size)
	}
	cache.Close()
	before := o.sent.Load()
	n := newNode(t, "third", "lan1", "", imeapi.ModeHTTPOnly, nil)
	n.download(context.Background(), f, o, nil, host)
	n.verify(t, f)
	if st := n.result.Status; st.BytesFromCacheServer != 0 || st.BytesFromHttp != size || o.sent.Load()-before < size {
		t.Errorf("cache down: %+v", st)
	}
}

func TestMCCRefuses(t *testing.T) {
	m, err := NewMCC(MCCConfig{Dir: t.TempDir(), Origins: []string{"origin.example:80"}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(m)
	defer srv.Close()
	for _, q := range []string{"", "?cacheHostOrigin=other.example", "?cacheHostOrigin=a/b", "?cacheHostOrigin=x@y"} {
		if code, _ := get(t, srv.URL+"/blob"+q); code != 400 {
			t.Errorf("%q: %d, want 400", q, code)
		}
	}
}

// TestMCCAuthorises: a cached blob is served only to a request whose own
// query the origin accepts: unsigned or wrongly signed requests get the
// origin's 403, signed ones the bytes; the origin's yes is reused for
// AuthTTL, and a second device's signature costs one check, not a refill.
func TestMCCAuthorises(t *testing.T) {
	blob := bytes.Repeat([]byte("imepipe-mcc-"), 10000)
	var fulls, checks atomic.Int64
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s := r.URL.Query().Get("sig"); s != "dev1" && s != "dev2" {
			http.Error(w, "bad signature", http.StatusForbidden)
			return
		}
		if r.Header.Get("Range") != "" {
			checks.Add(1)
		} else {
			fulls.Add(1)
		}
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(blob))
	}))
	defer origin.Close()
	clock := clocktest.New(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
	m, err := NewMCC(MCCConfig{Dir: t.TempDir(), Origins: []string{strings.TrimPrefix(origin.URL, "http://")}, Clock: clock, AuthTTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	cache := httptest.NewServer(m)
	defer cache.Close()
	url := cache.URL + "/blobs/app.bin?cacheHostOrigin=" + strings.TrimPrefix(origin.URL, "http://")
	want := func(q string, code int) {
		t.Helper()
		got, body := get(t, url+q)
		if got != code || (code == 200 && !bytes.Equal(body, blob)) {
			t.Fatalf("%q: HTTP %d (%d bytes), want %d", q, got, len(body), code)
		}
	}
	want("&sig=dev1", 200) // the fill
	want("", 403)          // cached, but unsigned
	want("&sig=forged", 403)
	want("&sig=dev1", 200) // the fill's yes, reused
	if fulls.Load() != 1 || checks.Load() != 0 || m.Misses() != 1 {
		t.Fatalf("origin sent %d full bodies and %d checks, fills %d; want 1, 0, 1", fulls.Load(), checks.Load(), m.Misses())
	}
	want("&sig=dev2", 200) // another device: one check
	want("&sig=dev2", 200)
	if fulls.Load() != 1 || checks.Load() != 1 {
		t.Fatalf("second device: %d full bodies, %d checks; want 1, 1", fulls.Load(), checks.Load())
	}
	clock.Advance(time.Minute) // the yes expires: asked again
	want("&sig=dev1", 200)
	if fulls.Load() != 1 || checks.Load() != 2 || m.Checks() != 4 { // 4: the two refused asked too
		t.Fatalf("after AuthTTL: %d full bodies, %d checks; want 1, 2", fulls.Load(), checks.Load())
	}
}

// TestMCCNeedsOrigins: no origins is refused unless AnyOrigin.
func TestMCCNeedsOrigins(t *testing.T) {
	if _, err := NewMCC(MCCConfig{Dir: t.TempDir()}); !errors.Is(err, ErrOpenProxy) {
		t.Fatalf("no origins: %v, want ErrOpenProxy", err)
	}
	if _, err := NewMCC(MCCConfig{Dir: t.TempDir(), AnyOrigin: true}); err != nil {
		t.Fatalf("AnyOrigin: %v", err)
	}
}
