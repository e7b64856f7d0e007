package fleet

import (
	"context"
	"io"
	"maps"
	"net/http"
	"sync"

	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/peer"
)

// The fleet's own byte counts, taken at the wire boundaries of each
// agent (its HTTP clients and its Array answers), independently of the
// DO records they are checked against.

// counter counts the body bytes of successful responses read through
// it, by host:port. The Stat probe of a source (Range: bytes=0-0, one
// byte to learn the size and validators) is metadata, not content, and
// is not counted, as DO's BytesFromHttp does not count it.
type counter struct {
	base  http.RoundTripper
	mu    sync.Mutex
	bytes map[string]int64
}

func newCounter(base http.RoundTripper) *counter {
	return &counter{base: base, bytes: map[string]int64{}}
}

func (c *counter) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.base.RoundTrip(req)
	if err != nil || (resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusPartialContent) ||
		req.Header.Get("Range") == "bytes=0-0" {
		return resp, err
	}
	resp.Body = &countBody{ReadCloser: resp.Body, c: c, host: req.URL.Host}
	return resp, nil
}

func (c *counter) add(host string, n int64) {
	c.mu.Lock()
	c.bytes[host] += n
	c.mu.Unlock()
}

// byHost returns a copy of the counts.
func (c *counter) byHost() map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.bytes)
}

type countBody struct {
	io.ReadCloser
	c    *counter
	host string
}

func (b *countBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.c.add(b.host, int64(n))
	return n, err
}

// arrayCounter passes Array calls on and notes every other peer the
// answers named (DO's NumPeers: the peers the service returned).
type arrayCounter struct {
	peer.ArrayClient
	self  string
	mu    sync.Mutex
	named map[string]bool
}

func (a *arrayCounter) Array(ctx context.Context, req imeapi.ArrayRequest) (imeapi.ArrayResponse, error) {
	resp, err := a.ArrayClient.Array(ctx, req)
	if err != nil {
		return resp, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.named == nil {
		a.named = map[string]bool{}
	}
	for _, p := range resp.Peers {
		if p.PeerID != a.self && p.Addr != "" {
			a.named[p.PeerID] = true
		}
	}
	for _, f := range resp.Fetching {
		if f.PeerID != a.self && f.Addr != "" {
			a.named[f.PeerID] = true
		}
	}
	return resp, nil
}

func (a *arrayCounter) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.named)
}
