package peer

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/imepipe/imepipe/fetch"
	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/internal/clocktest"
)

// arrayReq registers n as holding f (complete) or nothing.
func arrayReq(f *testFile, n *node, complete bool) imeapi.ArrayRequest {
	return imeapi.ArrayRequest{DoFileID: f.id, PeerID: n.name, Addr: n.addr, LanID: n.lan, DownloadMode: n.mode, Complete: complete}
}

// wireLog wraps a listener and checks, on every connection, that the
// server writes nothing before a whole request has arrived: each Write
// must come after at least as many request heads (CRLF CRLF) as it
// starts responses. Connections that never send a request must get
// no byte at all.
type wireLog struct {
	net.Listener
	mu         sync.Mutex
	violations []string
	conns      []*wireConn
}

type wireConn struct {
	net.Conn
	l         *wireLog
	mu        sync.Mutex
	in        []byte
	requests  int // complete request heads read
	responses int // responses begun (a write after the last one ended)
	written   int64
	writing   bool // a response is being written (writes since the last read)
}

func (l *wireLog) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	wc := &wireConn{Conn: c, l: l}
	l.mu.Lock()
	l.conns = append(l.conns, wc)
	l.mu.Unlock()
	return wc, nil
}

func (c *wireConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.mu.Lock()
	c.in = append(c.in, b[:n]...)
	for {
		i := bytes.Index(c.in, []byte("\r\n\r\n"))
		if i < 0 {
			break
		}
		c.requests++
		c.in = c.in[i+4:]
	}
	c.writing = false
	c.mu.Unlock()
	return n, err
}

func (c *wireConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	if !c.writing {
		c.responses++
		c.writing = true
	}
	if c.responses > c.requests {
		c.l.mu.Lock()
		c.l.violations = append(c.l.violations, fmt.Sprintf("%d bytes written as response %d after %d requests: %.40q",
			len(b), c.responses, c.requests, b))
		c.l.mu.Unlock()
	}
	c.written += int64(len(b))
	c.mu.Unlock()
	return c.Conn.Write(b)
}

// TestOverloadedPeer drives a peer server past its connection cap (2)
// and its upload slots (1, held by a stuck upload): every byte it writes
// answers a request, silent sockets get nothing, a request is answered
// 503 with Retry-After, and a downloader that sees those 503s keeps the
// peer as busy (no ban), takes every piece from the other peer, and
// never touches the origin (which is down).
func TestOverloadedPeer(t *testing.T) {
	f := newTestFile(t, 16*testPiece, 31)
	clock := clocktest.New(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
	o := newOrigin(t, f, 0)
	o.down.Store(true)

	// The overloaded peer A: every piece, 2 connections, 1 upload slot
	// whose first upload blocks until the test ends; queued requests
	// are turned away at once (an expired QueueWait).
	a := newNode(t, "peerA", "lan1", "", imeapi.ModeLAN, nil)
	_ = a.srv.Close()
	stuck, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	expired := func(time.Duration) <-chan time.Time {
		ch := make(chan time.Time, 1)
		ch <- time.Time{}
		return ch
	}
	a.srv = NewServer(ServerConfig{Cache: a.cache, MaxConns: 2, MaxUploads: 1, MaxUploadsPerPeer: 1,
		HeaderTimeout: time.Minute, IdleTimeout: time.Minute, ConnGrace: time.Hour, Clock: afterClock{clock, expired},
		Tamper: func(string, int, []byte) {
			first := false
			once.Do(func() { first = true })
			if first {
				close(stuck)
				<-release
			}
		}})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	wl := &wireLog{Listener: ln}
	a.addr = ln.Addr().String()
	go func() { _ = a.srv.Serve(wl) }()
	t.Cleanup(func() { close(release); _ = a.srv.Close() })
	seed(t, a, f)

	// The stuck upload takes A's only slot.
	hog := &http.Client{Transport: &http.Transport{}}
	go func() {
		resp, err := hog.Get("http://" + a.addr + "/do/v1/" + f.id + "/piece/0")
		if err == nil {
			resp.Body.Close()
		}
	}()
	<-stuck
	// A request now: 503 with Retry-After (the slot is busy).
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get("http://" + a.addr + "/do/v1/" + f.id + "/piece/1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("request to a full peer: %d, Retry-After %q; want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	// Silent sockets fill the connection cap (the hog holds one slot).
	for range 3 {
		s, err := net.Dial("tcp", a.addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
	}

	// The good peer B holds every piece too.
	b := newNode(t, "peerB", "lan1", "", imeapi.ModeLAN, nil)
	seed(t, b, f)
	arr := newCoordArray(f)
	for _, p := range []*node{a, b} {
		if _, err := arr.Array(context.Background(), arrayReq(f, p, true)); err != nil {
			t.Fatal(err)
		}
	}
	dl := newNode(t, "downloader", "lan1", "", imeapi.ModeLAN, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dl.result, dl.err = Download(ctx, DownloadConfig{
		Info: infoOf(f, o), Hashes: f.hashes, Path: dl.path(), Cache: dl.cache, Mode: imeapi.ModeLAN,
		PeerID: dl.name, PeerAddr: dl.addr, LanID: "lan1", Array: arr,
		Options:         fetch.Options{Connections: 4, Retry: fetch.Retry{Attempts: 1}},
		RefreshInterval: time.Hour, OwnerWait: 2 * time.Second, StallTimeout: 5 * time.Second, PeerBan: time.Hour,
	})
	dl.verify(t, f)
	st := dl.result.Status
	if st.BytesFromHttp != 0 || st.BytesFromLanPeers != int64(len(f.data)) {
		t.Errorf("bytes from HTTP %d, from LAN peers %d; want all %d from peers", st.BytesFromHttp, st.BytesFromLanPeers, len(f.data))
	}
	if len(dl.result.Banned) != 0 {
		t.Errorf("banned %v: a busy peer is not a bad one", dl.result.Banned)
	}
	if dl.result.PeerBusy == 0 || a.srv.Refused() == 0 {
		t.Errorf("the downloader saw %d busy answers, A refused %d: the overload was not reached", dl.result.PeerBusy, a.srv.Refused())
	}
	if got := b.srv.SentTo()["downloader"]; got != int64(len(f.data)) {
		t.Errorf("B sent %d bytes to the downloader, want %d", got, len(f.data))
	}
	wl.mu.Lock()
	defer wl.mu.Unlock()
	for _, v := range wl.violations {
		t.Errorf("A wrote before a request: %s", v)
	}
	for _, wc := range wl.conns {
		wc.mu.Lock()
		if wc.requests == 0 && wc.written > 0 {
			t.Errorf("A wrote %d bytes to a connection that sent no request", wc.written)
		}
		wc.mu.Unlock()
	}
	t.Logf("A: %d connections, refused %d; downloader: %d requests, %d busy", len(wl.conns), a.srv.Refused(), dl.result.PeerRequests, dl.result.PeerBusy)
}

// seed puts all of f in n's cache as complete, verified content.
func seed(t *testing.T, n *node, f *testFile) *Content {
	t.Helper()
	if err := os.WriteFile(n.path(), f.data, 0o644); err != nil {
		t.Fatal(err)
	}
	ct, err := n.cache.Begin(f.id, int64(len(f.data)), testPiece, f.hashes, n.path())
	if err != nil {
		t.Fatal(err)
	}
	for i := range f.hashes {
		ct.markHave(i)
	}
	return ct
}
