package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"log"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/imepipe/imepipe/service"
)

func init() {
	register("serve", "run the emulated cloud service (Intune + DO) over an apps folder", runServe)
}

func runServe(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "serve")
	apps := fs.String("apps", "", "apps `DIR`: one folder per app with app.json and one .intunewin (required)")
	addr := fs.String("addr", "127.0.0.1:8080", "listen `HOST:PORT` (loopback unless you say otherwise)")
	data := fs.String("data", "imepipe-data", "state `DIR`: database, cached blobs, generated secrets")
	storeURL := fs.String("store", "bbolt", "where enrollments, tokens, reports and peer registrations live: bbolt (DIR/service.db, one process) or a postgres://user@host/db `URL` that several serve processes share (passwords: PGPASSWORD or ~/.pgpass rather than the URL)")
	secretFile := fs.String("enrollment-secret-file", "", "shared enrollment secret `FILE` (default: generated into DIR/enrollment-secret; with a postgres store, the database's, copied there)")
	adminFile := fs.String("admin-token-file", "", "admin bearer token `FILE` for the all-devices status (default: generated into DIR/admin-token; with a postgres store, the database's)")
	baseURL := fs.String("base-url", "", "`URL` clients reach this server at, for blob and piece-hash URLs (default: from each request's Host)")
	blobTTL := fs.Duration("blob-ttl", service.DefaultBlobTTL, "lifetime of a signed blob URL")
	peerTTL := fs.Duration("peer-ttl", service.DefaultPeerTTL, "lifetime of a DO peer registration")
	useTLS := fs.Bool("tls", false, "serve HTTPS with a certificate generated once into DIR (ca.pem is what agents trust with --ca-file)")
	tlsCert := fs.String("tls-cert", "", "with --tls: the server certificate `FILE` (PEM) instead of a generated one")
	tlsKey := fs.String("tls-key", "", "with --tls-cert: its private key `FILE` (PEM)")
	allow := fs.Bool("allow-unsupported", false, "serve apps with settings the agent does not implement yet (listed at load; see imepipe apps check)")
	metricsAddr := fs.String("metrics-listen", "", "serve Prometheus /metrics on `HOST:PORT`, a listener of its own without a token (keep it on loopback or a management network; default: no metrics listener)")
	quiet := fs.Bool("q", false, "log only problems (skipped apps), not enrollments and refusals")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) != 0:
		return usagef("unexpected arguments %q", pos)
	case *apps == "":
		return usagef("--apps DIR is required")
	case *blobTTL < time.Second:
		return badValue("blob-ttl", blobTTL.String(), "want at least 1s")
	case *peerTTL < time.Second:
		return badValue("peer-ttl", peerTTL.String(), "want at least 1s")
	case (*tlsCert == "") != (*tlsKey == ""):
		return usagef("--tls-cert and --tls-key go together")
	case *tlsCert != "" && !*useTLS:
		return usagef("--tls-cert and --tls-key go with --tls")
	case *storeURL != "bbolt" && !strings.HasPrefix(*storeURL, "postgres://") && !strings.HasPrefix(*storeURL, "postgresql://"):
		// The value is not echoed: it may hold a password.
		return usagef("--store: want bbolt or a postgres:// URL")
	case *useTLS && strings.HasPrefix(*baseURL, "http://"):
		return usagef("--base-url %s with --tls: this server answers https only", *baseURL)
	case *metricsAddr != "" && !isHostPort(*metricsAddr):
		return badValue("metrics-listen", *metricsAddr, "want HOST:PORT (e.g. 127.0.0.1:9180)")
	case *metricsAddr != "" && *metricsAddr == *addr && !strings.HasSuffix(*addr, ":0"):
		return usagef("--metrics-listen %s is --addr: metrics need a listener of their own", *metricsAddr)
	}
	logf := func(format string, a ...any) {
		if !*quiet {
			sayf(e.stderr, "imepipe serve: "+format, a...)
		}
	}
	// Bind first: a port in use fails at once, before the data folder is
	// made and every blob copied and hashed.
	ln, err := listen(*addr, *addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	var metricsLn net.Listener
	if *metricsAddr != "" {
		if metricsLn, err = listen(*metricsAddr, "--metrics-listen "+*metricsAddr); err != nil {
			return err
		}
		defer metricsLn.Close()
	}
	// A certificate given is read before the apps are loaded too.
	var tlsConf *tls.Config
	if *tlsCert != "" {
		if tlsConf, err = service.LoadServerTLS(*tlsCert, *tlsKey); err != nil {
			return err
		}
	}
	srv, err := service.NewContext(ctx, service.Config{
		AppsDir: *apps, DataDir: *data, Store: *storeURL,
		EnrollmentSecretFile: *secretFile, AdminTokenFile: *adminFile,
		BaseURL: *baseURL, BlobTTL: *blobTTL, PeerTTL: *peerTTL,
		AllowUnsupported: *allow,
		Logf:             logf,
	})
	if errors.Is(err, service.ErrLocked) {
		return &reasonErr{msg: fmt.Sprintf("data folder %s is in use by another imepipe serve", *data), err: err}
	}
	if err != nil {
		return err
	}
	defer srv.Close()
	if *quiet {
		for _, s := range srv.Skipped() {
			sayf(e.stderr, "imepipe serve: app skipped: %s: %s", s.Dir, s.Reason())
		}
	}
	scheme := "http"
	if *useTLS {
		scheme = "https"
		if tlsConf == nil {
			if tlsConf, err = generatedTLS(*data, *addr, logf); err != nil {
				return err
			}
		}
	}
	if len(srv.Apps()) == 0 {
		// It keeps running: agents can enroll and sync (to no policy).
		what := fmt.Sprintf("%s holds no app folder", *apps)
		if n := len(srv.Skipped()); n > 0 {
			what = fmt.Sprintf("%s in %s refused (see why: imepipe apps check %s)", plural(n, "app"), *apps, shellWord(*apps))
			if n > 1 {
				what = "all " + what
			}
		}
		sayf(e.stderr, "imepipe serve: warning: serving no app: %s; apps are read only at start, so restart serve once they are fixed", what)
	}
	if metricsLn != nil {
		stop := serveMetrics(e, metricsLn, *metricsAddr, srv.MetricsHandler(), logf)
		defer stop()
	}
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          log.New(logWriter(logf), "", 0),
	}
	if tlsConf != nil {
		// HTTP/1.1 only, as over plain HTTP: the same limits and timeouts.
		hs.TLSNextProto = map[string]func(*http.Server, *tls.Conn, http.Handler){}
		ln = tls.NewListener(ln, tlsConf)
	}
	fmt.Fprintf(e.stderr, "imepipe serve: listening on %s://%s (%s)\n", scheme, shownAddr(*addr, ln.Addr()), plural(len(srv.Apps()), "app"))
	fmt.Fprintf(e.stderr, "imepipe serve: enrollment secret in %s\n", srv.EnrollmentSecretPath())
	logf("admin token (status of every device) in %s", srv.AdminTokenPath())
	fmt.Fprintf(e.stderr, "imepipe serve: console at %s://%s/console/ (sign in with the admin token)\n", scheme, shownAddr(*addr, ln.Addr()))
	done := make(chan error, 1)
	go func() { done <- hs.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutCtx); err != nil {
		hs.Close()
		return &reasonErr{msg: "stopped with requests still running after 10s; their connections were closed", err: err}
	}
	if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Winsock's codes for what Go's syscall.EADDRINUSE, EADDRNOTAVAIL and
// EACCES are elsewhere (on Windows those constants are not them).
const (
	wsaeacces        = syscall.Errno(10013)
	wsaeaddrinuse    = syscall.Errno(10048)
	wsaeaddrnotavail = syscall.Errno(10049)
)

// listen binds addr, which its error line calls name ("127.0.0.1:8080",
// "--metrics-listen 127.0.0.1:9180"): "NAME is in use (another serve?)",
// or "NAME: reason" in a few words.
// shownAddr is the address a listener bound for the HOST:PORT given, as
// the user wrote its host: Go reports a listener on 0.0.0.0 as [::] (one
// dual-stack socket), which nobody typed. The port is the bound one (":0"
// picks one). A host not given stays as the listener reports it.
func shownAddr(given string, bound net.Addr) string {
	host, _, err := net.SplitHostPort(given)
	tcp, ok := bound.(*net.TCPAddr)
	if err != nil || host == "" || !ok {
		return bound.String()
	}
	return net.JoinHostPort(host, strconv.Itoa(tcp.Port))
}

func listen(addr, name string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, &reasonErr{msg: listenError(name, err), err: err}
	}
	return ln, nil
}

// listenError is the line of a failed bind of the address called name.
func listenError(name string, err error) string {
	var errno syscall.Errno
	var addrErr *net.AddrError
	var dnsErr *net.DNSError
	var opErr *net.OpError
	isErrno := errors.As(err, &errno)
	switch {
	case isErrno && (errno == syscall.EADDRINUSE || errno == wsaeaddrinuse):
		return name + " is in use (another serve?)"
	case isErrno && (errno == syscall.EADDRNOTAVAIL || errno == wsaeaddrnotavail):
		return name + ": not an address of this machine"
	case errors.Is(err, fs.ErrPermission) || (isErrno && errno == wsaeacces):
		return name + ": permission denied (ports below 1024 need privileges)"
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return name + ": no such host"
	case errors.As(err, &addrErr):
		return name + ": " + addrErr.Err
	case errors.As(err, &opErr) && opErr.Err != nil:
		return name + ": " + opErr.Err.Error() // its text less "listen tcp ADDR: "
	}
	return name + ": " + err.Error()
}

// serveMetrics serves h at /metrics (and nothing else) on ln, plain
// HTTP and no token, as Prometheus scrapers expect: the address decides
// who can read it. stop closes it.
func serveMetrics(e *env, ln net.Listener, given string, h http.Handler, logf func(string, ...any)) (stop func()) {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	ms := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 16 << 10,
		ErrorLog: log.New(logWriter(logf), "", 0)}
	go func() { _ = ms.Serve(ln) }()
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok && !tcp.IP.IsLoopback() {
		sayf(e.stderr, "imepipe serve: warning: metrics on %s are readable by anyone who reaches that address (no token)", shownAddr(given, ln.Addr()))
	}
	fmt.Fprintf(e.stderr, "imepipe serve: metrics on http://%s/metrics\n", shownAddr(given, ln.Addr()))
	return func() { ms.Close() }
}

// isHostPort reports whether s is HOST:PORT with a numeric port.
func isHostPort(s string) bool {
	_, port, err := net.SplitHostPort(s)
	if err != nil {
		return false
	}
	_, err = strconv.ParseUint(port, 10, 16)
	return err == nil
}

// generatedTLS is the TLS configuration of serve --tls without
// --tls-cert: the certificate generated into dataDir for addr.
func generatedTLS(dataDir, addr string, logf func(string, ...any)) (*tls.Config, error) {
	conf, files, err := service.ServerTLS(dataDir, addr, time.Now())
	if err != nil {
		return nil, err
	}
	logf("TLS certificate %s, signed by the CA in %s (give agents --ca-file %s)", files.Cert, files.CA, files.CA)
	return conf, nil
}

// logWriter turns http.Server's error log (TLS handshake failures, …)
// into logf lines.
type logWriter func(string, ...any)

func (w logWriter) Write(p []byte) (int, error) {
	w("%s", strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
