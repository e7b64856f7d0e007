package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"strings"
	"sync"
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
	verbose := fs.Bool("v", false, "also log each failed request, bans and restarts to stderr (retry rounds are always shown)")
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
	// The CLI keeps the library's retry policy, refused connections
	// included (8 attempts, about 32 s): a server being restarted (imepipe
	// serve, an nginx reload, a CDN edge failing over) refuses connections
	// for seconds, and a resumable downloader that waits it out is what a
	// user wants; Delivery Optimization itself retries far longer. What
	// the user must not get is silence: every retry is one line on stderr
	// (never on --json's stdout), so a mistyped host or port is plain at
	// the first line and Ctrl-C ends it.
	retries := &fetchRetryLog{w: e.stderr}
	opt.Retry = fetchRetry
	opt.Retry.Notify = retries.retrying
	var hc *http.Client
	if *caFile != "" {
		if hc, err = trustingClient(*caFile); err != nil {
			return err
		}
	}
	// A URL the library refuses is refused before any request: a usage error.
	var bad *fetch.BadURLError
	origin, err := fetch.NewHTTP(rawURL, hc)
	if errors.As(err, &bad) {
		return usagef("invalid value %q for URL: %s", fetch.RedactURL(rawURL), bad.Why)
	} else if err != nil {
		return usagef("%v", fetchErrLine(err))
	}
	sources := []fetch.Source{origin}
	if *cacheHost != "" {
		cache, err := fetch.NewCache(rawURL, *cacheHost, hc)
		if errors.As(err, &bad) {
			return badValue("cache-host", *cacheHost, bad.Why)
		} else if err != nil {
			return usagef("%v", fetchErrLine(err))
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
		return fetchErrLine(err)
	}
	st, err := runWithProgress(ctx, e, job, dst, *jsonOut, retries.progressed)
	if err != nil {
		if ctx.Err() != nil {
			return fetchInterrupted(st, hadRecord, err)
		}
		return fetchErrLine(err)
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

// fetchRetry is the retry policy fetch gives the library (zero: the
// library's own); tests set its Sleep, Backoff and Now so that a run of
// retries takes no real time.
var fetchRetry fetch.Retry

// fetchErr is an error as fetch prints it, msg, still wrapping the
// library's (errors.Is and errors.As see it).
type fetchErr struct {
	msg string
	err error
}

func (e *fetchErr) Error() string { return e.msg }
func (e *fetchErr) Unwrap() error { return e.err }

// fetchErrLine drops the package name the library's errors start with,
// and the same name where a wrapper's part of the message starts with it
// again ("fetch: bytes from 0: fetch: URL: …"): the command's own prefix,
// "imepipe fetch:", already says it. This shapes the printed line only;
// no decision rests on it.
func fetchErrLine(err error) error {
	msg := strings.ReplaceAll(strings.TrimPrefix(err.Error(), "fetch: "), ": fetch: ", ": ")
	return &fetchErr{msg: msg, err: err}
}

// fetchInterrupted is the line for a run stopped by a signal: how far it
// got and that a rerun resumes, without the "context canceled" that says
// nothing to whoever pressed Ctrl-C (err, still wrapped, does). Before
// the size is known the file was not even opened; a journal of earlier
// runs (hadRecord) is still there to resume from.
func fetchInterrupted(st fetch.Status, hadRecord bool, err error) error {
	switch {
	case st.FileSize == 0 && hadRecord:
		return &fetchErr{msg: "interrupted before the download started (nothing written); run again to resume", err: err}
	case st.FileSize == 0:
		return &fetchErr{msg: "interrupted before the download started (nothing written)", err: err}
	}
	return &fetchErr{msg: fmt.Sprintf("interrupted after %s of %s; run again to resume",
		humanize.IBytes(uint64(st.FileSizeInCache)), humanize.IBytes(uint64(st.FileSize))), err: err}
}

// fetchRetryLog prints fetch's retry lines on stderr: one per source,
// reason and attempt, though every connection retries (8 connections
// failing together are one line per round), until the download moves
// again.
type fetchRetryLog struct {
	w     io.Writer
	mu    sync.Mutex
	shown map[string]int // fetchRetryWhat → highest attempt announced since the last progress
}

// retrying is the library's Retry.Notify.
func (l *fetchRetryLog) retrying(err error, attempt, attempts int, pause time.Duration) {
	what := fetchRetryWhat(err)
	l.mu.Lock()
	defer l.mu.Unlock()
	if attempt <= l.shown[what] {
		return // another connection's failure in the same round
	}
	if l.shown == nil {
		l.shown = map[string]int{}
	}
	l.shown[what] = attempt
	sayf(l.w, "imepipe fetch: %s; retrying in %v (attempt %d of %d)", what, fetch.RoundDuration(pause), attempt, attempts)
}

// progressed notes that bytes arrived: the next failure starts a new round.
func (l *fetchRetryLog) progressed() {
	l.mu.Lock()
	clear(l.shown)
	l.mu.Unlock()
}

// fetchRetryWhat is what failed, for a retry line: the host and the
// reason of a request or status error (the final error gives the whole
// URL once), otherwise the error without the library's prefix.
func fetchRetryWhat(err error) string {
	var (
		re *fetch.RequestError
		se *fetch.StatusError
	)
	switch {
	case errors.As(err, &re):
		return fetchHost(re.URL) + ": " + re.Reason()
	case errors.As(err, &se):
		return fmt.Sprintf("%s: HTTP %d", fetchHost(se.URL), se.Code)
	}
	return strings.TrimPrefix(err.Error(), "fetch: ")
}

func fetchHost(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.Host != "" {
		return u.Host
	}
	return raw
}

// runWithProgress runs job, feeding a progress bar from its status;
// progressed is called whenever more of the file is complete.
func runWithProgress(ctx context.Context, e *env, job *fetch.Job, name string, quiet bool, progressed func()) (fetch.Status, error) {
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
		if st.FileSizeInCache > shown {
			if bar != nil {
				bar.Add(st.FileSizeInCache - shown)
			}
			shown = st.FileSizeInCache
			progressed()
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
