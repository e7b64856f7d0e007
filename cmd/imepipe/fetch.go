package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/imepipe/imepipe/fetch"
)

func init() {
	register("fetch", "download a URL resumably over many connections (DO-style record with --json)", runFetch)
}

func runFetch(ctx context.Context, e *env, args []string) error {
	limitMemory()
	fs := newFlags(e, "fetch")
	out := fs.String("o", "", "output `FILE` (default: the URL's last path element)")
	conns := fs.Int("connections", 8, "parallel connections")
	chunk := fs.String("chunk-size", "2MiB", "first request `SIZE` per connection (adapts afterwards)")
	sum := fs.String("sha256", "", "expected SHA-256 of the whole file (`HEX`)")
	cacheHost := fs.String("cache-host", "", "Connected Cache `HOST[:PORT]` to try before the origin")
	maxRate := fs.String("max-rate", "", "hard cap, e.g. 25MB or 10MiB (per second)")
	background := fs.Bool("background", false, "background priority: fewer connections")
	jsonOut := fs.Bool("json", false, "print the DO-style status record as JSON")
	verbose := fs.Bool("v", false, "log retries, bans and restarts to stderr")
	caFile := fs.String("ca-file", "", "also trust the CA certificates in `FILE` (PEM; serve --tls writes DATA/ca.pem) for https")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("want exactly one URL, got %d arguments", len(pos))
	}
	rawURL := pos[0]
	opt := fetch.Options{Connections: *conns}
	if *conns < 1 || *conns > 256 {
		return usagef("--connections must be 1..256, got %d", *conns)
	}
	if opt.ChunkSize, err = parseSize(*chunk); err != nil || opt.ChunkSize <= 0 {
		return usagef("--chunk-size %q: want a size such as 16MiB", *chunk)
	}
	if *maxRate != "" {
		if opt.MaxRate, err = parseSize(strings.TrimSuffix(*maxRate, "/s")); err != nil || opt.MaxRate <= 0 {
			return usagef("--max-rate %q: want a rate such as 25MB", *maxRate)
		}
	}
	if *sum != "" {
		if opt.SHA256, err = hex.DecodeString(*sum); err != nil || len(opt.SHA256) != 32 {
			return usagef("--sha256 %q: want 64 hex digits", *sum)
		}
	}
	if *background {
		opt.Priority = fetch.Background
	}
	if *verbose {
		opt.Logf = func(format string, a ...any) { sayf(e.stderr, format, a...) }
	}
	var hc *http.Client
	if *caFile != "" {
		if hc, err = trustingClient(*caFile); err != nil {
			return err
		}
	}
	origin, err := fetch.NewHTTP(rawURL, hc)
	if err != nil {
		return usagef("%v", err)
	}
	sources := []fetch.Source{origin}
	if *cacheHost != "" {
		cache, err := fetch.NewCache(rawURL, *cacheHost, hc)
		if err != nil {
			return usagef("%v", err)
		}
		sources = []fetch.Source{cache, origin}
	}
	dst := *out
	if dst == "" {
		if dst = defaultName(rawURL); dst == "" {
			return usagef("cannot name the output after %q: give -o FILE", rawURL)
		}
	}
	job, err := fetch.New(dst, sources, opt)
	if err != nil {
		return err
	}
	st, err := runWithProgress(ctx, e, job, dst, *jsonOut)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("interrupted after %s of %s; run again to resume: %w",
				humanize.IBytes(uint64(st.FileSizeInCache)), humanize.IBytes(uint64(st.FileSize)), err)
		}
		return err
	}
	if *jsonOut {
		return writeJSON(e, st)
	}
	secs := time.Duration(st.DownloadDuration).Seconds()
	sayf(e.stdout, "%s: %s in %s (%s/s), %d connections", dst, humanize.IBytes(uint64(st.FileSize)),
		st.DownloadDuration, humanize.IBytes(uint64(float64(st.TotalBytesDownloaded)/max(secs, 1e-3))), st.HttpConnectionCount)
	return nil
}

// runWithProgress runs job, feeding a progress bar from its status.
func runWithProgress(ctx context.Context, e *env, job *fetch.Job, name string, quiet bool) (fetch.Status, error) {
	type result struct {
		st  fetch.Status
		err error
	}
	done := make(chan result, 1)
	go func() {
		st, err := job.Run(ctx)
		done <- result{st, err}
	}()
	var bar *progress
	var shown int64
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	update := func() {
		st := job.Status()
		if bar == nil && st.FileSize > 0 {
			bar = newProgress(e, quiet, path.Base(name), st.FileSize)
		}
		if bar != nil && st.FileSizeInCache > shown {
			bar.Add(st.FileSizeInCache - shown)
			shown = st.FileSizeInCache
		}
	}
	for {
		select {
		case r := <-done:
			update()
			if bar != nil {
				bar.Done()
			}
			return r.st, r.err
		case <-tick.C:
			update()
		}
	}
}

// parseSize reads 16MiB, 25MB, 4096 and the like.
func parseSize(s string) (int64, error) {
	n, err := humanize.ParseBytes(s)
	if err != nil {
		return 0, err
	}
	if n > 1<<62 {
		return 0, errors.New("too large")
	}
	return int64(n), nil
}

// defaultName is the URL's last path element, if it is a plain file name.
func defaultName(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	base := path.Base(u.Path)
	if base == "/" || base == "." || base == ".." || base == "" {
		return ""
	}
	return base
}
