package peer

import (
	"bufio"
	"crypto/sha256"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/imepipe/imepipe/internal/clocktest"
)

// limitedNode serves f (every piece) with MaxConns connections, a manual
// clock and long header and idle timeouts, so only the limiter can free
// a slot; accepted receives one value per connection the listener takes.
func limitedNode(t *testing.T, f *testFile, clock *clocktest.Clock) (*node, chan struct{}) {
	t.Helper()
	accepted := make(chan struct{}, 1024)
	all := make([]int, len(f.hashes))
	for i := range all {
		all[i] = i
	}
	n, _ := servingNode(t, f, all, ServerConfig{MaxConns: DefaultMaxConns, Clock: clock,
		HeaderTimeout: time.Minute, IdleTimeout: time.Minute, ConnGrace: time.Second,
		onAccept: func() { accepted <- struct{}{} }})
	return n, accepted
}

// fetchPiece gets piece i on a connection of its own, within a bound.
func fetchPiece(t *testing.T, n *node, f *testFile, i int) *http.Response {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get("http://" + n.addr + "/do/v1/" + f.id + "/piece/" + string(rune('0'+i)))
	if err != nil {
		t.Fatalf("piece %d: %v", i, err)
	}
	return resp
}

// TestSilentSocketsDoNotLockOut: 130 sockets that connect and send
// nothing fill the 128 slots. A request while they are young is answered
// 503 with Retry-After (a request, not a bare socket, gets the 503); once
// they have been silent past ConnGrace, a request is served at once by
// closing the oldest. No silent socket is ever written to.
func TestSilentSocketsDoNotLockOut(t *testing.T) {
	f := newTestFile(t, 4*testPiece, 21)
	clock := clocktest.New(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
	n, accepted := limitedNode(t, f, clock)
	const silent = DefaultMaxConns + 2
	var socks []net.Conn
	for range silent {
		c, err := net.Dial("tcp", n.addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		socks = append(socks, c)
	}
	for i := range silent {
		select {
		case <-accepted:
		case <-time.After(10 * time.Second):
			t.Fatalf("only %d of %d connections accepted", i, silent)
		}
	}
	resp := fetchPiece(t, n, f, 1)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("request at a full cap of young sockets: %d (Retry-After %q), want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	<-accepted
	clock.Advance(time.Second)
	for i := range 3 {
		resp := fetchPiece(t, n, f, i)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || sha256.Sum256(body) != f.hashes[i] {
			t.Fatalf("request %d after the grace: HTTP %d", i, resp.StatusCode)
		}
		<-accepted
	}
	// The first took a silent socket's slot; the others the slot it freed,
	// or another silent one's when the server has not yet seen the
	// previous request's connection close: never more than one each.
	if ev := n.srv.Evicted(); ev < 1 || ev > 3 {
		t.Fatalf("evicted %d silent connections, want 1 to 3 (one per request at most)", ev)
	}
	quiet := time.Now().Add(50 * time.Millisecond)
	for i, c := range socks {
		c.SetReadDeadline(quiet)
		if k, _ := c.Read(make([]byte, 64)); k != 0 {
			t.Fatalf("silent socket %d was sent %d bytes before any request", i, k)
		}
	}
}

// TestIdleKeepAliveDoesNotLockOut: 128 keep-alive connections idle after
// one request each hold every slot; a new request is served at once, by
// closing the oldest idle one, without the clock moving.
func TestIdleKeepAliveDoesNotLockOut(t *testing.T) {
	f := newTestFile(t, 4*testPiece, 22)
	clock := clocktest.New(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
	n, _ := limitedNode(t, f, clock)
	for i := range DefaultMaxConns {
		c, err := net.Dial("tcp", n.addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.WriteString(c, "GET /do/v1/"+f.id+"/bitmap HTTP/1.1\r\nHost: peer\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil || resp.StatusCode != http.StatusOK || resp.Close {
			t.Fatalf("keep-alive request %d: %v %v", i, resp, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	start := time.Now()
	resp := fetchPiece(t, n, f, 2)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	t.Logf("piece served in %v with %d idle keep-alive connections holding every slot", time.Since(start).Round(time.Microsecond), DefaultMaxConns)
	if resp.StatusCode != http.StatusOK || sha256.Sum256(body) != f.hashes[2] {
		t.Fatalf("request with every slot idle: HTTP %d", resp.StatusCode)
	}
	if n.srv.Evicted() < 1 {
		t.Fatal("no idle connection was closed for the request")
	}
}
