package fetch

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"time"
)

// Sentinel errors; test with errors.Is.
var (
	// ErrNotHave is returned by a Source that does not hold (part of) the
	// requested range; the Job asks another source and does not count it
	// as a failure.
	ErrNotHave = errors.New("fetch: source does not have that piece")
	// ErrChanged means the remote content changed (ETag, Last-Modified or
	// size); the Job restarts from zero.
	ErrChanged = errors.New("fetch: remote content changed")
	// ErrBadRange means a response did not carry the range asked for.
	ErrBadRange = errors.New("fetch: response range does not match request")
	// ErrNoProgress means no byte arrived within Options.NoProgress.
	ErrNoProgress = errors.New("fetch: no progress")
	// ErrDiskFull means the target file system has no room for the file.
	ErrDiskFull = errors.New("fetch: not enough disk space")
	// ErrChecksum means the finished file does not match Options.SHA256.
	ErrChecksum = errors.New("fetch: whole-file SHA-256 mismatch")
	// ErrPieceHash means a piece did not match its SHA-256 from the list.
	ErrPieceHash = errors.New("fetch: piece SHA-256 mismatch")
	// ErrNoSource means no usable source is left for a piece.
	ErrNoSource = errors.New("fetch: no usable source")
	// ErrUnknownSize means the origin did not say how large the file is.
	ErrUnknownSize = errors.New("fetch: remote size unknown")
)

// PermanentError marks a failure that retrying the same request will not
// cure (404, 403, a changed resource). Retry stops at once.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent wraps err as a PermanentError (nil stays nil).
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &PermanentError{Err: err}
}

// RetryAfterError carries a server's Retry-After hint for a retryable failure.
type RetryAfterError struct {
	Err   error
	After time.Duration
}

func (e *RetryAfterError) Error() string { return e.Err.Error() }
func (e *RetryAfterError) Unwrap() error { return e.Err }

// StatusError is an unexpected HTTP status from a source.
type StatusError struct {
	Code int
	URL  string // signature redacted (RedactURL)
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("fetch: %s: HTTP %d", e.URL, e.Code)
}

// IsPermanent reports whether err should not be retried: a PermanentError,
// a content change, a disk-full or checksum failure, or a cancelled context.
func IsPermanent(err error) bool {
	var (
		pe  *PermanentError
		cve *tls.CertificateVerificationError
	)
	switch {
	case errors.As(err, &pe),
		errors.As(err, &cve), // a certificate that did not verify will not on retry

		errors.Is(err, ErrChanged),
		errors.Is(err, ErrDiskFull),
		errors.Is(err, ErrChecksum),
		errors.Is(err, context.Canceled),
		errors.Is(err, context.DeadlineExceeded):
		return true
	}
	return false
}
