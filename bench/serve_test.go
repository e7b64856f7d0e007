package bench

import (
	"crypto/x509"
	"errors"
	"net/http"
	"strings"
	"testing"
)

// TestServeServiceTLS: with TLS the URL is https, the returned client
// trusts the generated CA, and a default client does not.
func TestServeServiceTLS(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil {
			http.Error(w, "plain", http.StatusBadRequest)
		}
	})
	hs, url, hc, err := ServeService(ok, t.TempDir(), true)
	if err != nil {
		t.Fatal(err)
	}
	defer hs.Close()
	if !strings.HasPrefix(url, "https://127.0.0.1:") || hc == nil {
		t.Fatalf("url %s, client %v", url, hc)
	}
	resp, err := hc.Get(url + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s", resp.Status)
	}
	var ua x509.UnknownAuthorityError
	if _, err := http.Get(url + "/"); !errors.As(err, &ua) {
		t.Fatalf("default client: %v, want unknown authority", err)
	}
	hs2, url2, hc2, err := ServeService(ok, t.TempDir(), false)
	if err != nil {
		t.Fatal(err)
	}
	defer hs2.Close()
	if !strings.HasPrefix(url2, "http://127.0.0.1:") || hc2 != nil {
		t.Fatalf("plain: url %s, client %v", url2, hc2)
	}
}
