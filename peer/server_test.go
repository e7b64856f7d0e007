package peer

import (
	"bufio"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imepipe/imepipe/fetch"
	"github.com/imepipe/imepipe/imeapi"
)

// servingNode returns a node whose cache holds f with only the pieces in have.
func servingNode(t *testing.T, f *testFile, have []int, cfg ServerConfig) (*node, *Content) {
	t.Helper()
	n := newNode(t, "srv", "lan1", "", imeapi.ModeLAN, nil)
	if cfg.MaxConns > 0 || cfg.MaxUploads > 0 || cfg.onAccept != nil {
		// A server of its own with these limits (the node's runs already:
		// changing its settings would race with its Serve).
		_ = n.srv.Close()
		cfg.Cache, cfg.MaxWait = n.cache, 5*time.Second
		n.srv = NewServer(cfg)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		n.addr = ln.Addr().String()
		srv := n.srv
		go func() { _ = srv.Serve(ln) }()
		t.Cleanup(func() { _ = srv.Close() })
	}
	if err := os.WriteFile(n.path(), f.data, 0o644); err != nil {
		t.Fatal(err)
	}
	ct, err := n.cache.Begin(f.id, int64(len(f.data)), testPiece, f.hashes, n.path())
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range have {
		ct.markHave(i)
	}
	return n, ct
}

func get(t *testing.T, url string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func TestServerRefuses(t *testing.T) {
	f := newTestFile(t, 4*testPiece+100, 5)
	n, _ := servingNode(t, f, []int{0, 2, 4}, ServerConfig{})
	// A file next to the cache that must never be reachable.
	if err := os.WriteFile(filepath.Join(n.root, "secret"), []byte("TOPSECRET-CONTENT"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := "http://" + n.addr + "/do/v1/"
	cases := []struct {
		name, path string
		want       int
	}{
		{"held piece", f.id + "/piece/0", 200},
		{"short last piece", f.id + "/piece/4", 200},
		{"bitmap", f.id + "/bitmap", 200},
		{"incomplete piece", f.id + "/piece/1", 404},
		{"out of range", f.id + "/piece/5", 416},
		{"far out of range", f.id + "/piece/999999999", 416},
		{"negative", f.id + "/piece/-1", 400},
		{"hex", f.id + "/piece/0x1", 400},
		{"too long", f.id + "/piece/4294967296", 400},
		{"unknown id", "intunewin-bin_other_1/piece/0", 404},
		{"traversal", "..%2F..%2Fsecret/piece/0", 400},
		{"dot id", ".hidden/piece/0", 400},
		{"encoded slash", "a%2Fb/bitmap", 400},
		{"record file", f.id + ".json/piece/0", 404},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, body := get(t, base+c.path)
			if code != c.want {
				t.Fatalf("GET %s: %d %q, want %d", c.path, code, body, c.want)
			}
			if strings.Contains(string(body), "TOPSECRET") {
				t.Fatalf("served the secret file")
			}
		})
	}
	code, body := get(t, base+f.id+"/piece/4")
	if code != 200 || sha256.Sum256(body) != f.hashes[4] {
		t.Fatalf("piece 4: %d, %d bytes", code, len(body))
	}
	// A raw request with a dot-dot path is cleaned or refused, never served.
	c, err := net.Dial("tcp", n.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET /do/v1/../../secret HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == 200 || strings.Contains(string(b), "TOPSECRET") {
		t.Fatalf("raw traversal: %d %q", resp.StatusCode, b)
	}
}

func TestServerCorruptOnDisk(t *testing.T) {
	f := newTestFile(t, 2*testPiece, 6)
	n, ct := servingNode(t, f, nil, ServerConfig{})
	ct.mu.Lock()
	ct.have.Set(1) // held but never hashed in this process, as after a restart
	ct.nhave++
	ct.mu.Unlock()
	bad := append([]byte(nil), f.data...)
	bad[testPiece+7] ^= 1
	if err := os.WriteFile(n.path(), bad, 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _ := get(t, "http://"+n.addr+"/do/v1/"+f.id+"/piece/1"); code != 404 {
		t.Fatalf("corrupt piece: %d, want 404", code)
	}
	if ct.Has(1) {
		t.Fatal("corrupt piece still marked held")
	}
}

func TestServerWaitsForPiece(t *testing.T) {
	f := newTestFile(t, 2*testPiece, 7)
	n, ct := servingNode(t, f, nil, ServerConfig{})
	done := make(chan int)
	go func() {
		code, _ := get(t, "http://"+n.addr+"/do/v1/"+f.id+"/piece/1?wait=5000")
		done <- code
	}()
	// The request is parked until the piece is verified.
	deadline := time.After(5 * time.Second)
	for {
		ct.mu.Lock()
		ch := ct.changed
		ct.mu.Unlock()
		ct.markHave(1)
		select {
		case code := <-done:
			if code != 200 {
				t.Fatalf("waited piece: %d", code)
			}
			return
		case <-ch:
		case <-deadline:
			t.Fatal("waiting request never answered")
		}
	}
}

// TestServerFlood: 200 concurrent connection attempts against a server
// capped at 16 connections and 4 uploads; each gets an answer (a piece
// or 503), and the server still serves afterwards.
func TestServerFlood(t *testing.T) {
	f := newTestFile(t, 8*testPiece, 8)
	all := []int{0, 1, 2, 3, 4, 5, 6, 7}
	n, _ := servingNode(t, f, all, ServerConfig{MaxConns: 16, MaxUploads: 4})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var mu sync.Mutex
	codes := map[int]int{}
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tr := &http.Transport{DisableKeepAlives: true}
			defer tr.CloseIdleConnections()
			req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+n.addr+"/do/v1/"+f.id+"/piece/"+string(rune('0'+i%8)), nil)
			resp, err := tr.RoundTrip(req)
			code := -1
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				code = resp.StatusCode
			}
			mu.Lock()
			codes[code]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if codes[200] == 0 || codes[200]+codes[503]+codes[-1] != 200 || codes[-1] > 20 {
		t.Fatalf("answers %v", codes)
	}
	t.Logf("answers %v, refused %d", codes, n.srv.Refused())
	if code, body := get(t, "http://"+n.addr+"/do/v1/"+f.id+"/piece/3"); code != 200 || sha256.Sum256(body) != f.hashes[3] {
		t.Fatalf("after the flood: %d", code)
	}
}

func FuzzCheckID(f *testing.F) {
	seeds, err := os.ReadFile("testdata/ids.txt")
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range strings.Split(string(seeds), "\n") {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		if CheckID(id) != nil {
			return
		}
		if strings.ContainsAny(id, `/\`) || id == "." || id == ".." || strings.HasPrefix(id, ".") || !filepath.IsLocal(id) {
			t.Fatalf("accepted unsafe id %q", id)
		}
	})
}

func FuzzParseIndex(f *testing.F) {
	seeds, err := os.ReadFile("testdata/indexes.txt")
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range strings.Split(string(seeds), "\n") {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		i, ok := parseIndex(s)
		if ok && (i < 0 || i > 999999999) {
			t.Fatalf("parseIndex(%q) = %d", s, i)
		}
	})
}

// TestServerSendsVerifiedPiecesFromFile: a piece held but not hashed in
// this process is hashed on its first serve; from then on it goes from
// the file to the connection without being read or hashed again (the
// requester checks every peer piece itself). Bytes changed on disk after
// that first serve are therefore sent as they are, and the upload
// counters count each whole piece.
func TestServerSendsVerifiedPiecesFromFile(t *testing.T) {
	f := newTestFile(t, 2*testPiece+100, 7)
	n, ct := servingNode(t, f, nil, ServerConfig{})
	ct.mu.Lock()
	ct.have.Set(2) // held, never hashed here
	ct.nhave++
	ct.mu.Unlock()
	url := "http://" + n.addr + "/do/v1/" + f.id + "/piece/2"
	if code, body := get(t, url); code != 200 || sha256.Sum256(body) != f.hashes[2] {
		t.Fatalf("first serve: %d, %d bytes", code, len(body))
	}
	pf, _, ok := ct.openPiece(2)
	if !ok {
		t.Fatal("a piece hashed on its first serve is not sent from the file")
	}
	pf.Close() // Windows cannot remove an open file
	bad := append([]byte(nil), f.data...)
	bad[2*testPiece+3] ^= 1
	if err := os.WriteFile(n.path(), bad, 0o644); err != nil {
		t.Fatal(err)
	}
	code, body := get(t, url)
	if code != 200 || len(body) != 100 || body[3] != bad[2*testPiece+3] {
		t.Fatalf("second serve: %d, %d bytes: want the file's bytes, not hashed again", code, len(body))
	}
	if got := ct.Status().BytesToLanPeers; got != 2*100 {
		t.Errorf("BytesToLanPeers %d, want %d (two whole pieces)", got, 2*100)
	}
	if pf, _, ok := ct.openPiece(1); ok {
		pf.Close()
		t.Error("a piece not held opens for sending")
	}
}

// readFromConn is a net.Conn whose ReadFrom records that it was used.
type readFromConn struct {
	net.Conn
	used bool
}

func (c *readFromConn) ReadFrom(r io.Reader) (int64, error) {
	c.used = true
	return io.Copy(io.Discard, r)
}

// TestLimitConnKeepsReadFrom: the listener's connection wrapper passes a
// body to the connection's own ReadFrom (sendfile for a TCP connection)
// instead of hiding it behind the embedded interface.
func TestLimitConnKeepsReadFrom(t *testing.T) {
	inner := &readFromConn{}
	var c net.Conn = &limitConn{Conn: inner}
	rf, ok := c.(io.ReaderFrom) // what net/http asks of the connection
	if !ok {
		t.Fatal("the wrapper has no ReadFrom")
	}
	n, err := rf.ReadFrom(io.LimitReader(strings.NewReader("piece bytes"), 11))
	if err != nil || n != 11 || !inner.used {
		t.Fatalf("ReadFrom of the wrapper: %d, %v, ReadFrom used: %v", n, err, inner.used)
	}
}

// TestSentToBounded: the per-peer upload counts are keyed by an id the
// peer chooses; past maxSentPeers ids (or an id too long to keep) the
// bytes go under OtherPeers, nothing is lost and the map stays bounded.
func TestSentToBounded(t *testing.T) {
	s := &Server{sentTo: map[string]int64{}}
	ct := &Content{}
	for i := range maxSentPeers + 50 {
		s.sent(ct, fetch.LanPeer, fmt.Sprintf("peer-%d", i), 10, true)
	}
	s.sent(ct, fetch.LanPeer, "peer-0", 10, true) // a known id keeps its row
	s.sent(ct, fetch.LanPeer, strings.Repeat("x", maxPeerIDLen+1), 10, true)
	s.sent(ct, fetch.LanPeer, "cut-short", 10, false) // not whole: not counted
	got := s.SentTo()
	var total int64
	for _, n := range got {
		total += n
	}
	if len(got) != maxSentPeers+1 || got["peer-0"] != 20 || got[OtherPeers] != 51*10 || total != int64(maxSentPeers+52)*10 {
		t.Fatalf("%d ids, peer-0 %d, %s %d, total %d", len(got), got["peer-0"], OtherPeers, got[OtherPeers], total)
	}
	if ct.Status().BytesToLanPeers != total {
		t.Fatalf("BytesToLanPeers %d, want %d", ct.Status().BytesToLanPeers, total)
	}
}
