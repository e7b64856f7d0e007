package fetch

import (
	"bytes"
	"context"
	"crypto/sha256"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imepipe/imepipe/internal/nginxtest"
)

// TestMCCWithNginx uses real nginx as a Microsoft Connected Cache: the
// client swaps the host for the cache host and adds
// ?cacheHostOrigin=<origin>; nginx proxies to that origin through
// proxy_cache. A second client then gets ≥ 95 % of its bytes from the
// cache while the origin sends almost nothing, and with the cache down a
// client falls back to the origin and completes.
func TestMCCWithNginx(t *testing.T) {
	bin := nginxtest.Need(t)
	const size = 24 << 20
	body := make([]byte, size)
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range body {
		body[i] = byte(rng.Uint32())
	}
	want := sha256.Sum256(body)
	var originSent atomic.Int64
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cw := &countingWriter{ResponseWriter: w, sent: &originSent}
		http.ServeContent(cw, r, "app.intunewin.bin", time.Unix(1700000000, 0), bytes.NewReader(body))
	}))
	defer origin.Close()

	// An open proxy to any origin is fine on loopback in a test; a real
	// cache would allow-list origins.
	cacheDir := t.TempDir()
	ngx := nginxtest.Start(t, bin,
		"proxy_cache_path "+cacheDir+" keys_zone=mcc:10m max_size=1g inactive=1h use_temp_path=off;\n"+
			// $arg_ is not URL-decoded: the client encodes host:port's colon.
			`map $arg_cacheHostOrigin $mcc_origin {
      ~^(?<h>[^%]+)%3[Aa](?<p>[0-9]+)$ $h:$p;
      default $arg_cacheHostOrigin;
    }`,
		`location / {
      proxy_pass http://$mcc_origin;
      proxy_cache mcc;
      proxy_cache_key $uri;
      proxy_cache_valid 200 1h;
      proxy_cache_lock on;
      proxy_cache_lock_timeout 60s;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }`)

	download := func(name, cacheHost string) Status {
		t.Helper()
		var sources []Source
		if cacheHost != "" {
			c, err := NewCache(origin.URL+"/app.intunewin.bin", cacheHost, nil)
			if err != nil {
				t.Fatal(err)
			}
			sources = append(sources, c)
		}
		o, err := NewHTTP(origin.URL+"/app.intunewin.bin", nil)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), name+".bin")
		job, err := New(path, append(sources, o), Options{Connections: 4, SHA256: want[:], Retry: Retry{Sleep: noSleep}})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		st, err := job.Run(ctx)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, err := os.ReadFile(path)
		if err != nil || sha256.Sum256(got) != want {
			t.Fatalf("%s: wrong file (%v)", name, err)
		}
		if st.BytesFromHttp+st.BytesFromPeers != st.TotalBytesDownloaded {
			t.Fatalf("%s: counters do not add up: %+v", name, st)
		}
		return st
	}

	first := download("first", ngx.Addr) // fills the cache
	t.Logf("first: %d from the cache, origin sent %d", first.BytesFromCacheServer, originSent.Load())

	before := originSent.Load()
	second := download("second", ngx.Addr)
	fromOrigin := originSent.Load() - before
	t.Logf("second: %d of %d from the cache, origin sent %d", second.BytesFromCacheServer, size, fromOrigin)
	if second.BytesFromCacheServer < size*95/100 {
		t.Errorf("second client got %d of %d bytes from the cache, want ≥ 95%%", second.BytesFromCacheServer, size)
	}
	if fromOrigin > size*5/100 {
		t.Errorf("origin sent %d bytes to the second client, want ≤ 5%%", fromOrigin)
	}

	ngx.Stop() // the cache is down: fall back to the origin
	third := download("third", ngx.Addr)
	if third.BytesFromCacheServer != 0 || third.BytesFromHttp != size {
		t.Errorf("with the cache down: %d from the cache, %d over HTTP, want 0 and %d", third.BytesFromCacheServer, third.BytesFromHttp, size)
	}
}

func noSleep(ctx context.Context, _ time.Duration) error { return ctx.Err() }
