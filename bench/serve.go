package bench

import (
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/imepipe/imepipe/fetch"
	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/service"
)

// ServeLoopback serves h on a free port of 127.0.0.1 until the returned
// server is closed, and returns it with its host:port.
func ServeLoopback(h http.Handler) (*http.Server, string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", fmt.Errorf("bench: %w", err)
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	return hs, ln.Addr().String(), nil
}

// ServeService serves svc on a free port of 127.0.0.1: over HTTPS with
// the certificate service.ServerTLS generates into dataDir when useTLS,
// else plain HTTP. It returns the server, the service URL and the HTTP
// client to reach it with (one that trusts the generated CA; nil for
// plain HTTP, meaning the default clients).
func ServeService(svc http.Handler, dataDir string, useTLS bool) (*http.Server, string, *http.Client, error) {
	if !useTLS {
		hs, addr, err := ServeLoopback(svc)
		return hs, "http://" + addr, nil, err
	}
	conf, files, err := service.ServerTLS(dataDir, "127.0.0.1:0", time.Now())
	if err != nil {
		return nil, "", nil, fmt.Errorf("bench: %w", err)
	}
	cc, err := imeapi.ClientTLS(files.CA)
	if err != nil {
		return nil, "", nil, fmt.Errorf("bench: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", nil, fmt.Errorf("bench: %w", err)
	}
	hs := &http.Server{Handler: svc, ReadHeaderTimeout: 10 * time.Second,
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
		ErrorLog:     log.New(io.Discard, "", 0)} // refused handshakes are the client's to report
	go func() { _ = hs.Serve(tls.NewListener(ln, conf)) }()
	return hs, "https://" + ln.Addr().String(), fetch.NewClient(cc), nil
}

// EnrollmentSecret reads the secret agents enroll with from svc's data.
func EnrollmentSecret(svc *service.Server) (string, error) {
	b, err := os.ReadFile(svc.EnrollmentSecretPath())
	if err != nil {
		return "", fmt.Errorf("bench: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}
