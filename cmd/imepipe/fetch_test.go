package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imepipe/imepipe/fetch"
	"github.com/imepipe/imepipe/internal/clocktest"
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

// instantRetries makes fetch's retries take no real time for the test:
// the library's 8 attempts, its backoff without the jitter (250 ms
// doubling), on a manual clock that each pause moves.
func instantRetries(t *testing.T) {
	clk := clocktest.New(time.Unix(1700000000, 0))
	fetchRetry = fetch.Retry{
		Backoff: func(a int) time.Duration { return 250 * time.Millisecond << (a - 1) },
		Now:     clk.Now,
		Sleep:   clk.Sleep,
	}
	t.Cleanup(func() { fetchRetry = fetch.Retry{} })
}

// TestFetchRefused (audit 1): a refused connection to the only source is
// one stderr line per retry, none on --json's stdout, then one error
// line naming the URL once, with no "fetch: fetch:" and no `Get "…":`.
func TestFetchRefused(t *testing.T) {
	instantRetries(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	u := "http://" + addr + "/x"
	dst := filepath.Join(t.TempDir(), "f.bin")

	code, stdout, stderr := runCLI(t, "fetch", "--json", "-o", dst, u)
	var want strings.Builder
	for i, pause := range []string{"250ms", "500ms", "1s", "2s", "4s", "8s", "16s"} {
		fmt.Fprintf(&want, "imepipe fetch: %s: connection refused; retrying in %s (attempt %d of 8)\n", addr, pause, i+2)
	}
	fmt.Fprintf(&want, "imepipe fetch: %s: connection refused (8 attempts over 32s)\n", u)
	if code != 1 || stdout != "" || stderr != want.String() {
		t.Errorf("exit %d, stdout %q, stderr:\n%s\nwant exit 1, no stdout, stderr:\n%s", code, stdout, stderr, want.String())
	}
}

// TestFetchRetryLinesPerRound: every connection retries, but a round of
// them is one line per source and reason; after progress a new round is
// announced again.
func TestFetchRetryLinesPerRound(t *testing.T) {
	var b strings.Builder
	l := &fetchRetryLog{w: &b}
	unavailable := &fetch.StatusError{Code: 503, URL: "http://h:8080/x?sig=REDACTED"}
	for _, attempt := range []int{2, 2, 3, 2, 3, 3} {
		l.retrying(unavailable, attempt, 8, time.Second)
	}
	l.progressed()
	l.retrying(unavailable, 2, 8, 1500*time.Millisecond)
	want := "imepipe fetch: h:8080: HTTP 503; retrying in 1s (attempt 2 of 8)\n" +
		"imepipe fetch: h:8080: HTTP 503; retrying in 1s (attempt 3 of 8)\n" +
		"imepipe fetch: h:8080: HTTP 503; retrying in 1.5s (attempt 2 of 8)\n"
	if b.String() != want {
		t.Errorf("retry lines:\n%s\nwant:\n%s", b.String(), want)
	}
}

// TestFetchBadURL (audit 2): a URL or cache host fetch cannot use is a
// usage error (exit 2) in the flags' form, with one prefix, before any
// request.
func TestFetchBadURL(t *testing.T) {
	dst := filepath.Join(t.TempDir(), "f.bin")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"fetch", "-o", dst, "notaurl"}, `imepipe fetch: invalid value "notaurl" for URL: want http(s)://host/path` + "\n"},
		{[]string{"fetch", "-o", dst, "ftp://h/x"}, `imepipe fetch: invalid value "ftp://h/x" for URL: want http(s)://host/path` + "\n"},
		{[]string{"fetch", "-o", dst, "--cache-host", "a/b", "http://h/x"},
			`imepipe fetch: invalid value "a/b" for --cache-host: want HOST[:PORT] or http(s)://HOST[:PORT]` + "\n"},
	} {
		code, stdout, stderr := runCLI(t, c.args...)
		if code != 2 || stdout != "" || stderr != c.want {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2, stderr %q", c.args, code, stdout, stderr, c.want)
		}
	}
	if _, err := os.Stat(dst); !os.IsNotExist(err) {
		t.Errorf("a bad URL left %s: %v", dst, err)
	}
}

// TestFetchInterrupted (audit 3): Ctrl-C before the size is known says
// nothing was written; after, how far it got; neither ends in ": context
// canceled". The origin answers the one-byte Stat of "/known" and holds
// every other request until the client gives up.
func TestFetchInterrupted(t *testing.T) {
	const size = 1 << 20
	content := make([]byte, size)
	entered := make(chan struct{}, 64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/known" && r.Header.Get("Range") == "bytes=0-0" {
			http.ServeContent(w, r, "f.bin", time.Unix(1700000000, 0), bytes.NewReader(content))
			return
		}
		entered <- struct{}{}
		<-r.Context().Done()
	}))
	defer srv.Close()
	for _, c := range []struct {
		path, want string
		file       bool
	}{
		{"/unknown", "imepipe fetch: interrupted before the download started (nothing written)\n", false},
		{"/known", "imepipe fetch: interrupted after 0 B of 1.0 MiB; run again to resume\n", true},
	} {
		dst := filepath.Join(t.TempDir(), "f.bin")
		ctx, cancel := context.WithCancel(context.Background())
		var out, errb bytes.Buffer
		exited := make(chan int)
		go func() {
			exited <- run(ctx, &env{stdout: &out, stderr: &errb}, []string{"fetch", "-o", dst, srv.URL + c.path})
		}()
		<-entered // a request is waiting on the origin: now the user presses Ctrl-C
		cancel()
		code := <-exited
		if code != 1 || errb.String() != c.want {
			t.Errorf("%s: exit %d, stderr %q; want exit 1, %q", c.path, code, errb.String(), c.want)
		}
		if _, err := os.Stat(dst); (err == nil) != c.file {
			t.Errorf("%s: file there: %v, want %v", c.path, err == nil, c.file)
		}
	}
}

// TestFetchJSONAlreadyComplete (audit 4): the record of a file found
// complete has its HTTP bytes and a connection beside them, and ExpireOn
// null (nothing caches a fetch), not year 1.
func TestFetchJSONAlreadyComplete(t *testing.T) {
	o := &countingOrigin{content: bytes.Repeat([]byte("imepipe!"), 120)}
	srv := httptest.NewServer(o)
	defer srv.Close()
	dst := filepath.Join(t.TempDir(), "f.bin")
	for run := 1; run <= 2; run++ {
		code, stdout, stderr := runCLI(t, "fetch", "--json", "-o", dst, srv.URL+"/f.bin")
		var rec map[string]any
		if err := json.Unmarshal([]byte(stdout), &rec); code != 0 || err != nil {
			t.Fatalf("run %d: exit %d, %v; stdout %q, stderr %q", run, code, err, stdout, stderr)
		}
		exp, has := rec["ExpireOn"]
		if rec["BytesFromHttp"] != 960.0 || rec["HttpConnectionCount"] != 1.0 || !has || exp != nil || len(rec) != 28 {
			t.Errorf("run %d: BytesFromHttp %v, HttpConnectionCount %v, ExpireOn %v (present %v), %d fields; want 960, 1, null, 28",
				run, rec["BytesFromHttp"], rec["HttpConnectionCount"], exp, has, len(rec))
		}
	}
}
