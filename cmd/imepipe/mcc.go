package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/imepipe/imepipe/peer"
)

func init() {
	register("mcc", "run a Connected-Cache-style caching HTTP server (?cacheHostOrigin=)", runMCC)
}

func runMCC(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "mcc")
	addr := fs.String("addr", "127.0.0.1:8090", "listen address `HOST:PORT`")
	dir := fs.String("dir", "", "cache folder `DIR` (required; created)")
	origins := fs.String("origins", "", "comma-separated origin `HOSTS` (host[:port]) the cache may fetch from (required unless --any-origin)")
	anyOrigin := fs.Bool("any-origin", false, "fetch from any origin host: an open proxy, for a closed lab only")
	scheme := fs.String("scheme", "http", "how origins are reached (`SCHEME`): http or https")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("unexpected argument %q", rest[0])
	}
	if *dir == "" {
		return usagef("--dir is required")
	}
	if *scheme != "http" && *scheme != "https" {
		return badValue("scheme", *scheme, "want http or https")
	}
	if err := checkListenAddr(*addr); err != nil {
		return err
	}
	cfg := peer.MCCConfig{Dir: *dir, Scheme: *scheme, AnyOrigin: *anyOrigin,
		Logf: func(format string, a ...any) { fmt.Fprintf(e.stderr, format+"\n", a...) }}
	for _, o := range strings.Split(*origins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			if strings.Contains(o, "/") || strings.ContainsAny(o, " \t?#@") {
				return badValue("origins", *origins, fmt.Sprintf("%q is not a HOST[:PORT] (no scheme or path: --scheme says http or https)", o))
			}
			cfg.Origins = append(cfg.Origins, o)
		}
	}
	switch {
	case len(cfg.Origins) == 0 && !*anyOrigin:
		return usagef("--origins HOST[:PORT],... is required: without it the cache is an open proxy (say --any-origin if that is meant)")
	case len(cfg.Origins) > 0 && *anyOrigin:
		return usagef("--origins and --any-origin exclude each other")
	}
	// Listen first: a port in use creates no cache folder.
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, listenReason(err))
	}
	defer ln.Close()
	m, err := peer.NewMCC(cfg)
	var pe *os.PathError
	if errors.As(err, &pe) {
		return &reasonErr{msg: fmt.Sprintf("cache folder %s: %s", *dir, pathReason(pe.Err)), err: err}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "imepipe mcc: serving %s on http://%s\n", *dir, ln.Addr())
	hs := &http.Server{Handler: m, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- hs.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shut down: %w", err)
	}
	return nil
}

// checkListenAddr is nil for a HOST:PORT (the host may be empty: every
// address; the port a service name too), else --addr's usage error: no
// port, or a port number past 65535.
func checkListenAddr(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return badValue("addr", addr, "want HOST:PORT (e.g. 127.0.0.1:8090)")
	}
	digits := port != "" && strings.Trim(port, "0123456789") == ""
	if _, err := strconv.ParseUint(port, 10, 16); digits && err != nil {
		return badValue("addr", addr, "want a port from 0 to 65535")
	}
	return nil
}

// listenReason is why net.Listen failed, without the "listen tcp ADDR:"
// and "bind:" the caller's line has no use for: the system's reason
// ("address already in use").
func listenReason(err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		err = oe.Err
	}
	var se *os.SyscallError
	if errors.As(err, &se) && se.Err != nil {
		err = se.Err
	}
	return err
}
