package service

import (
	"errors"
	"fmt"
	"net/http"
)

// Sentinel errors; test with errors.Is. An *APIError from the Client
// matches the sentinel of its HTTP status.
var (
	// ErrUnauthorized: no token, an unknown token or a wrong enrollment secret (401).
	ErrUnauthorized = errors.New("unauthorized")
	// ErrForbidden: a valid caller asked for something not theirs, or a blob
	// URL whose signature is wrong or expired (403).
	ErrForbidden = errors.New("forbidden")
	// ErrNotFound: no such app, version, blob or DO file (404).
	ErrNotFound = errors.New("not found")
	// ErrTooLarge: a request body over the limit (413).
	ErrTooLarge = errors.New("request body too large")
	// ErrBadRequest: malformed or invalid JSON (400).
	ErrBadRequest = errors.New("bad request")
	// ErrApp: an app folder that cannot be served (bad app.json or package).
	ErrApp = errors.New("invalid app")
	// ErrEnvelope: a sealed DecryptInfo that does not open with this key and device id.
	ErrEnvelope = errors.New("decrypt info envelope does not open")
)

// APIError is a non-2xx answer from the service, as the Client sees it.
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

// Retryable reports whether the same request may succeed later: server
// errors and 429. Every 4xx other than 429 is permanent.
func (e *APIError) Retryable() bool {
	return e.StatusCode >= 500 || e.StatusCode == http.StatusTooManyRequests
}

// AppError says why one app folder was skipped: the file and, when known,
// the JSON field at fault.
type AppError struct {
	Dir   string // the app's folder
	File  string // the file at fault (app.json or the .intunewin)
	Field string // JSON field path, e.g. "rules[0].path"; empty for package errors
	Err   error
}

func (e *AppError) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("service: %s: %s: %v", e.File, e.Field, e.Err)
	}
	return fmt.Sprintf("service: %s: %v", e.File, e.Err)
}

func (e *AppError) Unwrap() []error { return []error{ErrApp, e.Err} }
