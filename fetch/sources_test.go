package fetch

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"sync/atomic"
	"testing"
)

// fakePeer holds some pieces of content in memory; bad corrupts one byte
// of every piece it serves.
type fakePeer struct {
	kind      SourceKind
	content   []byte
	pieceSize int64
	has       func(piece int) bool
	bad       bool
	served    atomic.Int64
}

func (p *fakePeer) Kind() SourceKind    { return p.kind }
func (p *fakePeer) MaxConnections() int { return 1 }
func (p *fakePeer) String() string      { return fmt.Sprintf("fake %s peer", p.kind) }

func (p *fakePeer) Stat(context.Context) (Meta, error) {
	return Meta{Size: int64(len(p.content)), Ranges: true}, nil
}

func (p *fakePeer) Fetch(ctx context.Context, off, n int64, w io.Writer) (int64, error) {
	var done int64
	for done < n {
		i := int((off + done) / p.pieceSize)
		if !p.has(i) {
			return done, fmt.Errorf("piece %d: %w", i, ErrNotHave)
		}
		end := min(int64(i+1)*p.pieceSize, off+n)
		b := append([]byte(nil), p.content[off+done:end]...)
		if p.bad {
			b[0] ^= 1
		}
		k, err := w.Write(b)
		done += int64(k)
		p.served.Add(int64(k))
		if err != nil {
			return done, err
		}
	}
	return done, nil
}

func pieceHashes(content []byte, pieceSize int64) [][32]byte {
	var out [][32]byte
	for off := int64(0); off < int64(len(content)); off += pieceSize {
		out = append(out, sha256.Sum256(content[off:min(off+pieceSize, int64(len(content)))]))
	}
	return out
}

// Good peers supply what they hold, verified; a lying peer is banned and
// its pieces come from elsewhere; every byte is counted to its kind.
func TestPeers(t *testing.T) {
	content := randomBytes(6, 3<<20+100)
	o := newOrigin(t, content)
	var sl sleeps
	opt := testOptions(&sl)
	opt.PieceHashes = pieceHashes(content, opt.PieceSize)
	lan := &fakePeer{kind: LanPeer, content: content, pieceSize: opt.PieceSize, has: func(i int) bool { return i%2 == 0 }}
	group := &fakePeer{kind: GroupPeer, content: content, pieceSize: opt.PieceSize, has: func(i int) bool { return i%3 == 0 }}
	liar := &fakePeer{kind: InternetPeer, content: content, pieceSize: opt.PieceSize, has: func(int) bool { return true }, bad: true}
	dst := filepath.Join(t.TempDir(), "out.bin")
	job, err := New(dst, []Source{liar, lan, group, mustHTTP(t, o.url())}, opt)
	if err != nil {
		t.Fatal(err)
	}
	st, err := job.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	checkFile(t, dst, content)
	checkCounters(t, st)
	if st.BytesFromLanPeers == 0 || st.BytesFromHttp == 0 {
		t.Errorf("want bytes from LAN peers and HTTP: %+v", st)
	}
	if st.BytesFromLanPeers != lan.served.Load() || st.BytesFromInternetPeers != liar.served.Load() {
		t.Errorf("counted LAN %d / Internet %d, peers served %d / %d", st.BytesFromLanPeers, st.BytesFromInternetPeers, lan.served.Load(), liar.served.Load())
	}
	if liar.served.Load() > opt.PieceSize {
		t.Errorf("the lying peer served %d bytes; it should be banned after its first piece", liar.served.Load())
	}
	if st.NumPeers != 3 {
		t.Errorf("NumPeers %d, want 3", st.NumPeers)
	}
}

// A Connected-Cache host gets the origin host in ?cacheHostOrigin; when
// it fails the origin takes over and the cache is not asked again.
func TestCacheHost(t *testing.T) {
	content := randomBytes(7, 2<<20)
	o := newOrigin(t, content)
	originHost := mustParse(t, o.url()).Host
	for _, broken := range []bool{false, true} {
		t.Run(fmt.Sprintf("broken=%v", broken), func(t *testing.T) {
			var cacheReqs atomic.Int64
			cache := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				cacheReqs.Add(1)
				if r.URL.Query().Get("cacheHostOrigin") != originHost || r.URL.Path != "/file.bin" {
					http.Error(w, "bad cache request "+r.URL.String(), http.StatusBadRequest)
					return
				}
				if broken && cacheReqs.Load() > 1 {
					w.WriteHeader(http.StatusBadGateway)
					return
				}
				o.serve(w, r)
			}))
			defer cache.Close()
			cs, err := NewCache(o.url(), mustParse(t, cache.URL).Host, nil)
			if err != nil {
				t.Fatal(err)
			}
			var sl sleeps
			dst := filepath.Join(t.TempDir(), "out.bin")
			job, _ := New(dst, []Source{cs, mustHTTP(t, o.url())}, testOptions(&sl))
			st, err := job.Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			checkFile(t, dst, content)
			checkCounters(t, st)
			if st.CacheHost != mustParse(t, cache.URL).Host || st.SourceURL != o.url() {
				t.Errorf("CacheHost %q SourceURL %q", st.CacheHost, st.SourceURL)
			}
			switch {
			case !broken && st.BytesFromCacheServer != int64(len(content)):
				t.Errorf("BytesFromCacheServer %d, want all %d", st.BytesFromCacheServer, len(content))
			case broken && st.BytesFromCacheServer != 0:
				t.Errorf("BytesFromCacheServer %d from a broken cache", st.BytesFromCacheServer)
			case broken && cacheReqs.Load() > int64(1+testOptions(&sl).Connections):
				t.Errorf("broken cache asked %d times; want it banned after failing", cacheReqs.Load())
			}
		})
	}
}

func mustParse(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestNewCacheURL(t *testing.T) {
	cases := []struct{ origin, host, want string }{
		{"http://blob.example/a/b.bin?sig=1", "cache:8080", "http://cache:8080/a/b.bin?cacheHostOrigin=blob.example&sig=1"},
		{"https://blob.example/x", "http://mcc.local", "http://mcc.local/x?cacheHostOrigin=blob.example"},
	}
	for _, c := range cases {
		s, err := NewCache(c.origin, c.host, nil)
		if err != nil {
			t.Fatal(err)
		}
		if s.URL() != c.want || s.Kind() != CacheServer {
			t.Errorf("NewCache(%q, %q) = %q %v, want %q", c.origin, c.host, s.URL(), s.Kind(), c.want)
		}
	}
	for _, bad := range []string{"", "a/b", "x y"} {
		if _, err := NewCache("http://o/x", bad, nil); err == nil {
			t.Errorf("NewCache with host %q: no error", bad)
		}
	}
}
