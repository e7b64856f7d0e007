package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/imepipe/imepipe/peer"
)

func init() {
	register("mcc", "run a Connected-Cache-style caching HTTP server (?cacheHostOrigin=)", runMCC)
}

func runMCC(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "mcc")
	addr := fs.String("addr", "127.0.0.1:8090", "listen address host:port")
	dir := fs.String("dir", "", "cache folder (required)")
	origins := fs.String("origins", "", "comma-separated origin `HOSTS` (host[:port]) the cache may fetch from (required unless --any-origin)")
	anyOrigin := fs.Bool("any-origin", false, "fetch from any origin host: an open proxy, for a closed lab only")
	scheme := fs.String("scheme", "http", "how origins are reached: http or https")
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
	cfg := peer.MCCConfig{Dir: *dir, Scheme: *scheme, AnyOrigin: *anyOrigin,
		Logf: func(format string, a ...any) { fmt.Fprintf(e.stderr, format+"\n", a...) }}
	for _, o := range strings.Split(*origins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			cfg.Origins = append(cfg.Origins, o)
		}
	}
	switch {
	case len(cfg.Origins) == 0 && !*anyOrigin:
		return usagef("--origins HOST[:PORT],... is required: without it the cache is an open proxy (say --any-origin if that is meant)")
	case len(cfg.Origins) > 0 && *anyOrigin:
		return usagef("--origins and --any-origin exclude each other")
	}
	m, err := peer.NewMCC(cfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("mcc: %w", err)
	}
	fmt.Fprintf(e.stderr, "imepipe mcc: serving %s on http://%s\n", *dir, ln.Addr())
	hs := &http.Server{Handler: m, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- hs.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("mcc: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("mcc: %w", err)
	}
	return nil
}
