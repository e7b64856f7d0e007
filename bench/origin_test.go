package bench

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

// TestOrigin: ranges are served and counted, paced or not; names that
// would leave the folder, dot files and other methods are not found.
func TestOrigin(t *testing.T) {
	dir := t.TempDir()
	data := make([]byte, 100000)
	for i := range data {
		data[i] = byte(i)
	}
	if err := os.WriteFile(filepath.Join(dir, "blob.bin"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".secret"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, rate := range []int64{0, 1 << 30} {
		o := NewOrigin(dir, rate)
		srv := httptest.NewServer(o)
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/blob.bin", nil)
		req.Header.Set("Range", "bytes=1000-50999")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusPartialContent || len(body) != 50000 || body[0] != data[1000] {
			t.Fatalf("rate %d: %s, %d bytes", rate, resp.Status, len(body))
		}
		srv.Close() // waits for the handler: it counts after the client has the bytes
		if o.Sent() != 50000 {
			t.Errorf("rate %d: Sent %d, want 50000", rate, o.Sent())
		}
		srv = httptest.NewServer(o)
		for _, p := range []string{"/.secret", "/../origin_test.go", "/%2e%2e/x", "/nope"} {
			resp, err := http.Get(srv.URL + p)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s: %s, want 404", p, resp.Status)
			}
		}
		resp, err = http.Post(srv.URL+"/blob.bin", "text/plain", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("POST: %s, want 404", resp.Status)
		}
		srv.Close()
	}
}
