package main

import (
	"bytes"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imepipe/imepipe/fetch"
)

// countingOrigin serves content with http.ServeContent (ETag and
// Last-Modified set) and counts the body bytes it sends: the origin's log.
type countingOrigin struct {
	content []byte
	sent    atomic.Int64
}

func (o *countingOrigin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("ETag", `"v1"`)
	http.ServeContent(countWriter{w, &o.sent}, r, "f.bin", time.Unix(1700000000, 0), bytes.NewReader(o.content))
}

type countWriter struct {
	http.ResponseWriter
	n *atomic.Int64
}

func (c countWriter) Write(p []byte) (int, error) {
	n, err := c.ResponseWriter.Write(p)
	c.n.Add(int64(n))
	return n, err
}

// TestFetchTwice (acceptance 3): a second fetch of a complete file says
// so and the origin sends at most one request's worth of bytes (the
// Stat's one byte; a request is a chunk of 2 MiB or more); --force
// fetches it all again.
func TestFetchTwice(t *testing.T) {
	content := make([]byte, 5<<20+17)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range content {
		content[i] = byte(r.Uint32())
	}
	o := &countingOrigin{content: content}
	srv := httptest.NewServer(o)
	defer srv.Close()
	dst := filepath.Join(t.TempDir(), "f.bin")

	code, stdout, stderr := runCLI(t, "fetch", "-o", dst, srv.URL+"/f.bin")
	if code != 0 || !strings.Contains(stdout, "5.0 MiB in ") || strings.Contains(stdout, "already") {
		t.Fatalf("first fetch: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	first := o.sent.Load()
	if first < int64(len(content)) {
		t.Fatalf("first fetch: origin sent %d of %d", first, len(content))
	}

	code, stdout, stderr = runCLI(t, "fetch", "-o", dst, srv.URL+"/f.bin")
	second := o.sent.Load() - first
	t.Logf("origin sent %d body bytes for the first fetch, %d for the second", first, second)
	if code != 0 || !strings.Contains(stdout, "already complete") || !strings.Contains(stdout, "nothing downloaded") {
		t.Fatalf("second fetch: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if second > 1 {
		t.Errorf("second fetch: origin sent %d body bytes, want ≤ 1 (the size and validators check)", second)
	}
	if got, _ := os.ReadFile(dst); !bytes.Equal(got, content) {
		t.Fatal("second fetch changed the file")
	}

	before := o.sent.Load()
	code, stdout, _ = runCLI(t, "fetch", "--force", "-o", dst, srv.URL+"/f.bin")
	if code != 0 || strings.Contains(stdout, "already") || o.sent.Load()-before < int64(len(content)) {
		t.Fatalf("--force: exit %d, stdout %q, origin sent %d", code, stdout, o.sent.Load()-before)
	}
}

// TestFetchSummaryThisRun: after a resume the line gives this run's
// bytes, time and rate, not the record's total over both runs.
func TestFetchSummaryThisRun(t *testing.T) {
	st := fetch.Status{FileSize: 8 << 20, TotalBytesDownloaded: 8 << 20, DownloadDuration: fetch.TimeSpan(10 * time.Second), HttpConnectionCount: 1}
	got := fetchSummary("f.bin", st, fetch.RunStats{Bytes: 2 << 20, Duration: 2 * time.Second}, true)
	if want := "f.bin: 8.0 MiB, resumed: 2.0 MiB fetched in 2s (1.0 MiB/s), 1 connection"; got != want {
		t.Errorf("resumed: %q, want %q", got, want)
	}
	got = fetchSummary("f.bin", st, fetch.RunStats{Bytes: 8 << 20, Duration: 4 * time.Second}, false)
	if want := "f.bin: 8.0 MiB in 4s (2.0 MiB/s), 1 connection"; got != want {
		t.Errorf("whole: %q, want %q", got, want)
	}
}
