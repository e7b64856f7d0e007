package imeapi

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// The client half of the service's TLS: which CAs an agent trusts and how
// a refused certificate is reported. The server's certificates (ServerTLS)
// are package service's.

// ClientTLS returns a client configuration that trusts the system's roots
// and, when caFile is not empty, the CA certificates in it (PEM). It does
// not disable any check.
func ClientTLS(caFile string) (*tls.Config, error) {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if caFile != "" {
		data, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("%w: CA file: %v", ErrTLS, err)
		}
		if !pool.AppendCertsFromPEM(data) {
			return nil, fmt.Errorf("%w: CA file %s holds no PEM certificate", ErrTLS, caFile)
		}
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool}, nil
}

// TrustError is a TLS connection to the service refused because its
// certificate did not verify: an unknown authority (a CA the client was
// not given), a name it is not for, or an expired one.
type TrustError struct {
	URL    string // scheme://host of the request
	Reason string // "certificate signed by unknown authority", …
	Err    error  // the crypto/x509 error
}

func (e *TrustError) Error() string { return "service " + e.URL + ": " + e.Reason }
func (e *TrustError) Unwrap() error { return e.Err }

// UnknownAuthority reports whether the certificate's signer was not trusted.
func (e *TrustError) UnknownAuthority() bool {
	var ua x509.UnknownAuthorityError
	return errors.As(e.Err, &ua)
}

// trustError returns a *TrustError when err is a certificate refusal.
func trustError(url string, err error) error {
	var (
		ua  x509.UnknownAuthorityError
		he  x509.HostnameError
		ie  x509.CertificateInvalidError
		cve *tls.CertificateVerificationError
	)
	te := &TrustError{URL: url, Err: err}
	switch {
	case errors.As(err, &ua):
		te.Reason = "certificate signed by unknown authority"
	case errors.As(err, &he):
		te.Reason = "certificate is not for this host: " + he.Error()
	case errors.As(err, &ie):
		te.Reason = "certificate not valid: " + ie.Error()
	case errors.As(err, &cve):
		te.Reason = "certificate refused: " + cve.Err.Error()
	default:
		return nil
	}
	return te
}
