package service

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/imepipe/imepipe/internal/promtest"
	dto "github.com/prometheus/client_model/go"
)

// TestMetricsRoutes: requests are counted by route pattern and code,
// unclean paths as "unmatched", other methods under the catch-all "/",
// never by raw path; a
// blob's bytes are counted once per byte sent; two Servers in one process
// keep apart registries.
func TestMetricsRoutes(t *testing.T) {
	e := newEnv(t)
	c, _ := e.enroll(t, "pc")
	app := e.apps["desktopinfo.intunewin"]
	ci, err := c.ContentInfo(t.Context(), app.ID, app.Version)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := e.ts.Client().Get(ci.ContentInfo.UploadLocation)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if n != ci.ContentInfo.Size {
		t.Fatalf("blob: %d bytes", n)
	}
	for _, p := range []string{"/api/v1/../v1/policies", "/blobs//x"} {
		e.get(t, p, "")
	}
	req, _ := http.NewRequest(http.MethodPut, e.ts.URL+"/api/v1/enroll", strings.NewReader("{}"))
	if code, _ := e.do(t, req); code != http.StatusNotFound {
		t.Fatalf("PUT enroll: %d", code) // the catch-all "/" route
	}
	ms := httptest.NewServer(e.srv.MetricsHandler())
	defer ms.Close()
	m := promtest.Scrape(t, ms.URL)
	counter := dto.MetricType_COUNTER
	for _, w := range []struct {
		route, code string
		n           float64
	}{
		{"POST /api/v1/enroll", "200", 1}, {"POST /api/v1/contentinfo", "200", 1},
		{routeBlob, "200", 1}, {RouteUnmatched, "404", 2}, {"/", "404", 1},
	} {
		if got := m.Value(t, MetricRequests, counter, "route="+w.route, "code="+w.code); got != w.n {
			t.Errorf("%s{%s, %s} = %v, want %v", MetricRequests, w.route, w.code, got, w.n)
		}
	}
	if got := m.Value(t, MetricBlobBytes, counter, "source="+BlobSourceOrigin); got != float64(ci.ContentInfo.Size) {
		t.Errorf("%s = %v, want %d", MetricBlobBytes, got, ci.ContentInfo.Size)
	}
	if got := m.Value(t, MetricEnrollments, counter); got != 1 {
		t.Errorf("%s = %v, want 1", MetricEnrollments, got)
	}
	if _, ok := m["go_goroutines"]; !ok {
		t.Error("no Go collector")
	}
	other := newEnv(t)
	om := httptest.NewServer(other.srv.MetricsHandler())
	defer om.Close()
	if got := promtest.Scrape(t, om.URL).Value(t, MetricEnrollments, counter); got != 0 {
		t.Errorf("a second Server counts %v enrollments", got)
	}
}

// readFromRecorder is a ResponseWriter with ReadFrom, as net/http's is.
type readFromRecorder struct {
	*httptest.ResponseRecorder
	readFrom bool
}

func (r *readFromRecorder) ReadFrom(src io.Reader) (int64, error) {
	r.readFrom = true
	return io.Copy(r.ResponseRecorder, src)
}

// TestCountingWriterKeepsReadFrom: the request counter passes io.Copy
// through to the underlying ReadFrom (net/http's sendfile path for
// blobs) and counts those bytes; Unwrap gives the writer underneath.
func TestCountingWriterKeepsReadFrom(t *testing.T) {
	under := &readFromRecorder{ResponseRecorder: httptest.NewRecorder()}
	w := &countingWriter{ResponseWriter: under}
	// A LimitedReader, as http.ServeContent copies: no WriteTo to take over.
	n, err := io.Copy(w, io.LimitReader(strings.NewReader(strings.Repeat("x", 1000)), 1000))
	if err != nil || n != 1000 || !under.readFrom || w.n != 1000 || w.code != http.StatusOK {
		t.Fatalf("copy: %d %v, ReadFrom used %v, counted %d, code %d", n, err, under.readFrom, w.n, w.code)
	}
	if w.Unwrap() != http.ResponseWriter(under) {
		t.Fatal("Unwrap does not give the writer underneath")
	}
}
