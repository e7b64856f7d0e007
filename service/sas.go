package service

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// signer makes and checks SAS-like blob URLs:
// <path>?se=<unix expiry>&sig=<base64url HMAC-SHA256(key, path "\n" se)>.
// Anyone with the URL may read the blob until it expires, as with an
// Azure SAS; no bearer token is needed, so DO peers and caches can fetch it.
type signer struct {
	key []byte
	ttl time.Duration
	now func() time.Time
}

func (s *signer) mac(path, se string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(path))
	m.Write([]byte{'\n'})
	m.Write([]byte(se))
	return m.Sum(nil)
}

// sign returns the query string that authorises a GET of path, and when it expires.
func (s *signer) sign(path string) (string, time.Time) {
	exp := s.now().Add(s.ttl).Truncate(time.Second)
	se := strconv.FormatInt(exp.Unix(), 10)
	q := url.Values{"se": {se}, "sig": {base64.RawURLEncoding.EncodeToString(s.mac(path, se))}}
	return q.Encode(), exp
}

// verify checks the signature (in constant time) and the expiry of a
// request for path; the error says which failed.
func (s *signer) verify(path string, q url.Values) error {
	se, sig := q.Get("se"), q.Get("sig")
	if se == "" || sig == "" {
		return fmt.Errorf("%w: blob URL not signed (se and sig required)", errForbidden)
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, s.mac(path, se)) {
		return fmt.Errorf("%w: blob URL signature does not match", errForbidden)
	}
	exp, err := strconv.ParseInt(se, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: blob URL expiry %q is not a Unix time", errForbidden, se)
	}
	if !s.now().Before(time.Unix(exp, 0)) {
		return fmt.Errorf("%w: blob URL expired at %s", errForbidden, time.Unix(exp, 0).UTC().Format(time.RFC3339))
	}
	return nil
}
