package bench

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

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

// EnrollmentSecret reads the secret agents enroll with from svc's data.
func EnrollmentSecret(svc *service.Server) (string, error) {
	b, err := os.ReadFile(svc.EnrollmentSecretPath())
	if err != nil {
		return "", fmt.Errorf("bench: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}
