package fetch

import (
	"crypto/tls"
	"net/http"
)

// NewClient returns an HTTP client tuned as the one fetch uses when a
// Source is given none (many idle connections per host, identity
// encoding, HTTP/1.1, one TCP connection per stream), whose https
// connections verify against tlsConf (nil: the system's roots). Use it to
// reach an origin whose certificate a private CA signed.
func NewClient(tlsConf *tls.Config) *http.Client {
	t := newTransport()
	if tlsConf != nil {
		t.TLSClientConfig = tlsConf.Clone()
	}
	return &http.Client{Transport: t}
}
