package fetch

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// HTTPSource reads ranges of one URL over keep-alive connections. It
// checks every response against what Stat saw: a 206 must carry exactly
// the Content-Range asked for, a 200 to a range request is read from the
// start and the unwanted prefix discarded, and a changed ETag,
// Last-Modified or size is reported as ErrChanged.
type HTTPSource struct {
	url    string
	shown  string // url with its signature redacted, for errors and String
	kind   SourceKind
	client *http.Client
	meta   atomic.Pointer[Meta]
}

// NewHTTP returns a source for rawURL (http or https). A nil client means
// a shared client tuned for many parallel ranged connections.
func NewHTTP(rawURL string, client *http.Client) (*HTTPSource, error) {
	u, err := parseHTTPURL(rawURL)
	if err != nil {
		return nil, err
	}
	return &HTTPSource{url: u.String(), shown: RedactURL(u.String()), kind: HTTP, client: orDefault(client)}, nil
}

// NewCache returns a Connected-Cache-style source for an origin URL: the
// host is swapped for cacheHost (host[:port], or a URL whose scheme is
// then used) and ?cacheHostOrigin=<original host> is added. List it
// before the origin source; when it fails the Job bans it for
// Options.BanDuration and falls back to the origin.
func NewCache(originURL, cacheHost string, client *http.Client) (*HTTPSource, error) {
	u, err := parseHTTPURL(originURL)
	if err != nil {
		return nil, err
	}
	badHost := &BadURLError{What: "cache host", Value: cacheHost, Why: "want HOST[:PORT] or http(s)://HOST[:PORT]"}
	host := cacheHost
	if strings.Contains(cacheHost, "://") {
		c, err := url.Parse(cacheHost)
		if err != nil || c.Host == "" {
			return nil, badHost
		}
		u.Scheme, host = c.Scheme, c.Host
	}
	if host == "" || strings.ContainsAny(host, "/?#@ ") {
		return nil, badHost
	}
	q := u.Query()
	q.Set("cacheHostOrigin", u.Host)
	u.Host = host
	u.RawQuery = q.Encode()
	return &HTTPSource{url: u.String(), shown: RedactURL(u.String()), kind: CacheServer, client: orDefault(client)}, nil
}

// parseHTTPURL parses an http or https URL with a host, or returns a
// *BadURLError.
func parseHTTPURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, &BadURLError{What: "URL", Value: raw, Why: "want http(s)://host/path"}
	}
	return u, nil
}

// Kind is HTTP for an origin and CacheServer for a cache host.
func (s *HTTPSource) Kind() SourceKind { return s.kind }

// URL is the address requests go to.
func (s *HTTPSource) URL() string { return s.url }

// Host is the host[:port] requests go to.
func (s *HTTPSource) Host() string {
	u, _ := url.Parse(s.url)
	return u.Host
}

func (s *HTTPSource) String() string { return s.kind.String() + " " + s.shown }

// Stat asks for the first byte to learn the size, validators and whether
// ranges work (a GET, since signed blob URLs often refuse HEAD).
func (s *HTTPSource) Stat(ctx context.Context) (Meta, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return Meta{}, Permanent(fmt.Errorf("fetch: %w", redactErr(err)))
	}
	req.Header.Set("Range", "bytes=0-0")
	resp, err := s.client.Do(req)
	if err != nil {
		return Meta{}, &RequestError{URL: s.shown, Err: redactErr(err)}
	}
	defer closeBody(resp)
	m := Meta{ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified")}
	switch resp.StatusCode {
	case http.StatusPartialContent:
		cr, ok := parseContentRange(resp.Header.Get("Content-Range"))
		if !ok || cr.total < 0 || cr.first != 0 {
			return Meta{}, fmt.Errorf("%w: %s: Content-Range %q", ErrBadRange, s.shown, resp.Header.Get("Content-Range"))
		}
		m.Size, m.Ranges = cr.total, true
	case http.StatusOK:
		if resp.ContentLength < 0 {
			return Meta{}, Permanent(fmt.Errorf("%w: %s", ErrUnknownSize, s.shown))
		}
		m.Size = resp.ContentLength
	case http.StatusRequestedRangeNotSatisfiable:
		cr, ok := parseContentRange(resp.Header.Get("Content-Range"))
		if !ok || cr.total != 0 {
			return Meta{}, statusError(resp, s.shown)
		}
		m.Ranges = true // an empty file
	default:
		return Meta{}, statusError(resp, s.shown)
	}
	s.meta.Store(&m)
	return m, nil
}

// Fetch copies bytes [off, off+n) to w. Stat must have been called.
func (s *HTTPSource) Fetch(ctx context.Context, off, n int64, w io.Writer) (int64, error) {
	m := s.meta.Load()
	if m == nil {
		return 0, Permanent(fmt.Errorf("fetch: %s: Fetch before Stat", s.shown))
	}
	if n <= 0 || off < 0 || off+n > m.Size {
		return 0, Permanent(fmt.Errorf("fetch: %s: range %d+%d outside size %d", s.shown, off, n, m.Size))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return 0, Permanent(fmt.Errorf("fetch: %w", redactErr(err)))
	}
	req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", off, off+n-1))
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, &RequestError{URL: s.shown, Err: redactErr(err)}
	}
	defer closeBody(resp)
	if err := s.sameVersion(m, resp); err != nil {
		return 0, err
	}
	body := io.Reader(resp.Body)
	switch resp.StatusCode {
	case http.StatusPartialContent:
		cr, ok := parseContentRange(resp.Header.Get("Content-Range"))
		if ok && cr.total >= 0 && cr.total != m.Size {
			return 0, fmt.Errorf("%w: %s: size %d, was %d", ErrChanged, s.shown, cr.total, m.Size)
		}
		if !ok || cr.first != off || cr.last != off+n-1 {
			return 0, fmt.Errorf("fetch: %s: asked bytes %d-%d, got Content-Range %q: %w",
				s.shown, off, off+n-1, resp.Header.Get("Content-Range"), ErrBadRange)
		}
	case http.StatusOK:
		// The server ignored Range and sends the whole file: skip to off.
		if resp.ContentLength >= 0 && resp.ContentLength != m.Size {
			return 0, fmt.Errorf("%w: %s: size %d, was %d", ErrChanged, s.shown, resp.ContentLength, m.Size)
		}
		if _, err := io.CopyN(io.Discard, body, off); err != nil {
			return 0, fmt.Errorf("fetch: %s: skipping to %d: %w", s.shown, off, noEOF(err))
		}
	case http.StatusRequestedRangeNotSatisfiable:
		return 0, fmt.Errorf("%w: %s: range %d-%d not satisfiable", ErrChanged, s.shown, off, off+n-1)
	default:
		return 0, statusError(resp, s.shown)
	}
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	got, err := io.CopyBuffer(w, io.LimitReader(body, n), *bp)
	if err == nil && got < n {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		return got, fmt.Errorf("fetch: %s: at byte %d: %w", s.shown, off+got, err)
	}
	return got, nil
}

// sameVersion compares a response's validators with those Stat saw.
func (s *HTTPSource) sameVersion(m *Meta, resp *http.Response) error {
	if et := resp.Header.Get("ETag"); m.ETag != "" && et != "" && et != m.ETag {
		return fmt.Errorf("%w: %s: ETag %s, was %s", ErrChanged, s.shown, et, m.ETag)
	}
	if lm := resp.Header.Get("Last-Modified"); m.LastModified != "" && lm != "" && lm != m.LastModified {
		return fmt.Errorf("%w: %s: Last-Modified %s, was %s", ErrChanged, s.shown, lm, m.LastModified)
	}
	return nil
}

// statusError classifies an unexpected status: 408, 429 and 5xx are
// retryable (with Retry-After when given), other statuses are permanent.
func statusError(resp *http.Response, u string) error {
	se := &StatusError{Code: resp.StatusCode, URL: u}
	switch c := resp.StatusCode; {
	case c == http.StatusRequestTimeout, c == http.StatusTooManyRequests, c >= 500:
		if d, ok := parseRetryAfter(resp.Header, time.Now()); ok {
			return &RetryAfterError{Err: se, After: d}
		}
		return se
	default:
		return Permanent(se)
	}
}

func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// closeBody drains a little so the connection can be reused, then closes.
func closeBody(resp *http.Response) {
	_, _ = io.CopyN(io.Discard, resp.Body, 4<<10)
	_ = resp.Body.Close()
}

const copyBufSize = 256 << 10

var copyBufs = sync.Pool{New: func() any { b := make([]byte, copyBufSize); return &b }}

var defaultClient = &http.Client{Transport: newTransport()}

func orDefault(c *http.Client) *http.Client {
	if c == nil {
		return defaultClient
	}
	return c
}

// newTransport keeps enough idle connections for many ranged streams to
// one host, asks for identity encoding (ranges are of the stored bytes),
// and stays on HTTP/1.1 so that each stream is its own TCP connection.
func newTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 256
	t.MaxIdleConnsPerHost = 64
	t.DisableCompression = true
	t.ForceAttemptHTTP2 = false
	t.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	t.ReadBufferSize = 64 << 10
	return t
}
