package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"os"
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
	force := fs.Bool("force", false, "start over: fetch everything again, even into a complete or half-done FILE")
	caFile := fs.String("ca-file", "", "also trust the CA certificates in `FILE` (PEM; serve --tls writes DATA/ca.pem) for https")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("want exactly one URL, got %d arguments (see imepipe fetch --help)", len(pos))
	}
	rawURL := pos[0]
	// The journal stays as FILE's completion record: a second fetch of
	// the same content notices it is complete and downloads nothing.
	opt := fetch.Options{Connections: *conns, KeepJournal: true, Fresh: *force}
	if *conns < 1 || *conns > 256 {
		return badValue("connections", fmt.Sprint(*conns), "want 1..256")
	}
	if opt.ChunkSize, err = sizeFlag("chunk-size", *chunk, 1); err != nil {
		return err
	}
	if *maxRate != "" {
		if opt.MaxRate, err = parseSize(strings.TrimSuffix(*maxRate, "/s")); err != nil || opt.MaxRate <= 0 {
			return badValue("max-rate", *maxRate, "not a rate (e.g. 25MB or 10MiB, per second)")
		}
	}
	if *sum != "" {
		if opt.SHA256, err = hex.DecodeString(*sum); err != nil || len(opt.SHA256) != 32 {
			return badValue("sha256", *sum, "want 64 hex digits")
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
	_, jerr := os.Stat(dst + ".journal")
	hadRecord := jerr == nil
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
	sayf(e.stdout, "%s", fetchSummary(dst, st, job.LastRun(), hadRecord))
	return nil
}

// fetchSummary is fetch's one line: what this run did, in this run's
// time (st's DownloadDuration also counts the runs before a resume).
func fetchSummary(dst string, st fetch.Status, run fetch.RunStats, hadRecord bool) string {
	size := humanize.IBytes(uint64(st.FileSize))
	if run.AlreadyComplete {
		by := "the SHA-256 matches"
		if hadRecord {
			by = "same size, ETag and Last-Modified as its record " + dst + ".journal"
		}
		return fmt.Sprintf("%s: already complete (%s; %s); nothing downloaded (--force fetches it again)", dst, size, by)
	}
	secs := run.Duration.Seconds()
	rate := humanize.IBytes(uint64(float64(run.Bytes) / max(secs, 1e-3)))
	d := run.Duration.Round(time.Millisecond)
	if run.Bytes < st.FileSize {
		return fmt.Sprintf("%s: %s, resumed: %s fetched in %s (%s/s), %s", dst, size,
			humanize.IBytes(uint64(run.Bytes)), d, rate, plural(st.HttpConnectionCount, "connection"))
	}
	return fmt.Sprintf("%s: %s in %s (%s/s), %s", dst, size, d, rate, plural(st.HttpConnectionCount, "connection"))
}

// plural is "1 connection", "4 connections".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
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
