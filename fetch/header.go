package fetch

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// contentRange is a parsed "bytes first-last/total" header; total is -1
// for "*". An unsatisfied range ("bytes */total") has first = -1.
type contentRange struct {
	first, last, total int64
}

// parseContentRange parses a Content-Range header value strictly.
func parseContentRange(s string) (contentRange, bool) {
	rest, ok := strings.CutPrefix(s, "bytes ")
	if !ok {
		return contentRange{}, false
	}
	span, totalStr, ok := strings.Cut(rest, "/")
	if !ok {
		return contentRange{}, false
	}
	cr := contentRange{first: -1, last: -1, total: -1}
	if totalStr != "*" {
		t, err := strconv.ParseInt(totalStr, 10, 64)
		if err != nil || t < 0 {
			return contentRange{}, false
		}
		cr.total = t
	}
	if span == "*" {
		return cr, cr.total >= 0
	}
	a, b, ok := strings.Cut(span, "-")
	if !ok {
		return contentRange{}, false
	}
	first, err1 := strconv.ParseInt(a, 10, 64)
	last, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil || first < 0 || last < first || (cr.total >= 0 && last >= cr.total) {
		return contentRange{}, false
	}
	cr.first, cr.last = first, last
	return cr, true
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP date.
func parseRetryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	d := t.Sub(now)
	if d < 0 {
		d = 0
	}
	return d, true
}
