package fetch

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// origin is an in-process HTTP origin serving one file with
// http.ServeContent; inject lets a test fault any request.
type origin struct {
	srv      *httptest.Server
	mu       sync.Mutex
	content  []byte
	etag     string
	inject   func(n int, w http.ResponseWriter, r *http.Request) bool // true: handled
	requests atomic.Int64
	sent     atomic.Int64   // body bytes written, like nginx's $bytes_sent minus headers
	active   sync.WaitGroup // handlers running
}

func randomBytes(seed uint64, n int) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	for i := 0; i < n; i += 8 {
		v := r.Uint64()
		for k := 0; k < 8 && i+k < n; k++ {
			b[i+k] = byte(v >> (8 * k))
		}
	}
	return b
}

func newOrigin(t *testing.T, content []byte) *origin {
	t.Helper()
	o := &origin{content: content, etag: `"v1"`}
	o.srv = httptest.NewServer(http.HandlerFunc(o.serve))
	t.Cleanup(o.srv.Close)
	return o
}

func (o *origin) url() string { return o.srv.URL + "/file.bin" }

func (o *origin) setContent(b []byte, etag string) {
	o.mu.Lock()
	o.content, o.etag = b, etag
	o.mu.Unlock()
}

// settle waits until every handler has returned: after a run that was
// stopped, its requests' handlers go on writing (and counting) until they
// see the connection closed. Call it only while no client is running.
func (o *origin) settle() { o.active.Wait() }

func (o *origin) serve(w http.ResponseWriter, r *http.Request) {
	o.active.Add(1)
	defer o.active.Done()
	n := int(o.requests.Add(1))
	o.mu.Lock()
	content, etag, inject := o.content, o.etag, o.inject
	o.mu.Unlock()
	cw := &countingWriter{ResponseWriter: w, sent: &o.sent}
	if inject != nil && inject(n, cw, r) {
		return
	}
	cw.Header().Set("ETag", etag)
	http.ServeContent(cw, r, "file.bin", time.Unix(1700000000, 0), bytes.NewReader(content))
}

type countingWriter struct {
	http.ResponseWriter
	sent *atomic.Int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.ResponseWriter.Write(p)
	c.sent.Add(int64(n))
	return n, err
}

func (c *countingWriter) Flush() {
	if f, ok := c.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// cutWriter writes at most limit body bytes, then aborts the connection.
type cutWriter struct {
	http.ResponseWriter
	limit int64
}

func (c *cutWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > c.limit {
		n, _ := c.ResponseWriter.Write(p[:c.limit])
		c.limit = 0
		if f, ok := c.ResponseWriter.(http.Flusher); ok {
			f.Flush()
		}
		_ = n
		panic(http.ErrAbortHandler)
	}
	c.limit -= int64(len(p))
	return c.ResponseWriter.Write(p)
}

func (c *cutWriter) Flush() {
	if f, ok := c.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// sleeps records the pauses the retry policy asked for, without waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

// testOptions are small pieces and chunks, instant retries.
func testOptions(sl *sleeps) Options {
	return Options{
		Connections: 4,
		PieceSize:   64 << 10,
		ChunkSize:   256 << 10,
		MaxChunk:    1 << 20,
		NoProgress:  5 * time.Second,
		Retry:       Retry{Attempts: 6, Backoff: func(int) time.Duration { return time.Millisecond }, Sleep: sl.sleep},
	}
}

func checkFile(t *testing.T, path string, want []byte) {
	t.Helper()
	got := readFile(t, path)
	if !bytes.Equal(got, want) {
		i := 0
		for i < len(got) && i < len(want) && got[i] == want[i] {
			i++
		}
		t.Fatalf("%s: %d bytes, want %d; first difference at %d", path, len(got), len(want), i)
	}
}

func checkCounters(t *testing.T, st Status) {
	t.Helper()
	if st.BytesFromHttp+st.BytesFromPeers != st.TotalBytesDownloaded {
		t.Errorf("BytesFromHttp %d + BytesFromPeers %d != TotalBytesDownloaded %d", st.BytesFromHttp, st.BytesFromPeers, st.TotalBytesDownloaded)
	}
	if st.BytesFromLanPeers+st.BytesFromGroupPeers+st.BytesFromInternetPeers != st.BytesFromPeers {
		t.Errorf("peer kinds do not add up to BytesFromPeers %d", st.BytesFromPeers)
	}
	if st.BytesFromCacheServer > st.BytesFromHttp {
		t.Errorf("BytesFromCacheServer %d > BytesFromHttp %d", st.BytesFromCacheServer, st.BytesFromHttp)
	}
}

func newReader(b []byte) io.ReadSeeker { return bytes.NewReader(b) }

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
