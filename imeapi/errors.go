package imeapi

import (
	"errors"
	"fmt"
	"net/http"
)

// Sentinel errors; test with errors.Is. An *APIError from the Client
// matches the sentinel of its HTTP status.
var (
	// ErrUnauthorized: no token, an unknown token or a wrong enrollment secret (401).
	ErrUnauthorized = errors.New("imeapi: unauthorized")
	// ErrForbidden: a valid caller asked for something not theirs, or a blob
	// URL whose signature is wrong or expired (403).
	ErrForbidden = errors.New("imeapi: forbidden")
	// ErrNotFound: no such app, version, blob or DO file (404).
	ErrNotFound = errors.New("imeapi: not found")
	// ErrTooLarge: a request body over the limit (413).
	ErrTooLarge = errors.New("imeapi: request body too large")
	// ErrBadRequest: malformed or invalid JSON (400).
	ErrBadRequest = errors.New("imeapi: bad request")
	// ErrEnvelope: a sealed DecryptInfo that does not open with this key and device id.
	ErrEnvelope = errors.New("imeapi: decrypt info envelope does not open")
	// ErrTLS: TLS files that cannot be read, parsed or generated (the
	// client's CA file here; the server's certificates in package service).
	ErrTLS = errors.New("imeapi: tls")
)

// APIError is a non-2xx answer from the service, as the Client sees it.
// Its text starts "service: HTTP <code>": it reports what the remote
// party said, as TrustError ("service <url>: …") reports its certificate;
// every other error this package makes starts "imeapi:".
type APIError struct {
	StatusCode int
	Message    string
	// Field names the offending JSON field for a 400, when known.
	Field string
}

func (e *APIError) Error() string {
	if e.Field != "" && e.Message == "" {
		return fmt.Sprintf("service: HTTP %d: field %s", e.StatusCode, e.Field)
	}
	return fmt.Sprintf("service: HTTP %d: %s", e.StatusCode, e.Message)
}

// Is maps the status code to this package's sentinels.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrTooLarge:
		return e.StatusCode == http.StatusRequestEntityTooLarge
	case ErrBadRequest:
		return e.StatusCode == http.StatusBadRequest
	}
	return false
}
