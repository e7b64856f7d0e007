package fetch

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestNewClientTLS: the client trusts the roots it is given, and a
// certificate refusal is a permanent error (not retried).
func TestNewClientTLS(t *testing.T) {
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer ts.Close()
	_, err := NewClient(nil).Get(ts.URL)
	if err == nil || !IsPermanent(err) {
		t.Fatalf("untrusted: err %v, want a permanent error", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ts.Certificate())
	resp, err := NewClient(&tls.Config{RootCAs: pool}).Get(ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.ProtoMajor != 1 {
		t.Fatalf("protocol %s, want HTTP/1.1 (one connection per stream)", resp.Proto)
	}
}
