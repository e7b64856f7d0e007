package fetch

import (
	"errors"
	"net/url"
	"strings"
)

// Redacted replaces a credential's value in a URL.
const Redacted = "REDACTED"

// RedactURL returns u with the value of every credential in it replaced
// by REDACTED, keeping the URL's shape: the query parameters sig (a blob
// SAS signature, valid until it expires) and the user info's password.
// The agent's and fetch's logged, stored (DO records, reports, state) and
// printed URLs go through it (the MCC logs upstream URLs without their
// query at all); requests use the URL itself. It does not
// decide whether a URL is valid: text that is no URL comes back with
// only its query redacted.
func RedactURL(u string) string {
	base, query, ok := strings.Cut(u, "?")
	if pu, err := url.Parse(base); err == nil && pu.User != nil {
		if _, has := pu.User.Password(); has {
			base = pu.Redacted()
		}
	}
	if !ok {
		return base
	}
	query, frag, hasFrag := strings.Cut(query, "#")
	parts := strings.Split(query, "&")
	for i, p := range parts {
		k, _, _ := strings.Cut(p, "=")
		if key, err := url.QueryUnescape(k); err == nil && strings.EqualFold(key, "sig") {
			parts[i] = k + "=" + Redacted
		}
	}
	out := base + "?" + strings.Join(parts, "&")
	if hasFrag {
		out += "#" + frag
	}
	return out
}

// SourceURL is u as a DO record shows it (SourceURL): without its query
// and fragment, where a blob URL carries its SAS (sig, se, sp, …), and
// without a password. Text that is no URL loses what follows "?" or "#".
func SourceURL(u string) string {
	base, _, _ := strings.Cut(u, "?")
	base, _, _ = strings.Cut(base, "#")
	if pu, err := url.Parse(base); err == nil && pu.User != nil {
		if _, has := pu.User.Password(); has {
			base = pu.Redacted()
		}
	}
	return base
}

// redactErr redacts the URL a *url.Error (what http.Client.Do returns)
// carries, in place, and returns err.
func redactErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		ue.URL = RedactURL(ue.URL)
	}
	return err
}
