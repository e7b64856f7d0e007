package peer

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
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
		n := newNode(t, name, "lan1", "", ModeHTTPOnly, nil)
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
	n := newNode(t, "third", "lan1", "", ModeHTTPOnly, nil)
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
