package fetch

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
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

// RequestError is a request to a source that got no HTTP response: the
// connection was refused or reset, the host did not resolve, TLS failed,
// the request timed out or was cancelled. Its message is the URL and the
// reason, without net/http's `Get "URL":` (the URL once); Err is what
// net/http returned (a *url.Error), so errors.Is and errors.As see the
// *url.Error, the *net.OpError and the syscall error below it.
type RequestError struct {
	URL string // signature redacted (RedactURL)
	Err error
}

func (e *RequestError) Error() string { return "fetch: " + e.URL + ": " + e.Reason() }
func (e *RequestError) Unwrap() error { return e.Err }

// Reason is why the request failed, in a few words ("connection
// refused", "no such host", "timed out", "connection closed before a
// response"), without the URL, the dialled address or the system call
// that net/http's message repeats.
func (e *RequestError) Reason() string {
	err := e.Err
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var (
		de *net.DNSError
		oe *net.OpError
		se *os.SyscallError
	)
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timed out"
	case errors.Is(err, errRefused):
		return "connection refused" // the system's words differ: "Connection refused.", "actively refused it"
	case errors.Is(err, errReset):
		return "connection reset"
	case errors.Is(err, io.EOF):
		return "connection closed before a response"
	case errors.As(err, &de):
		if de.IsNotFound {
			return "no such host"
		}
		return de.Err
	case errors.As(err, &oe):
		err = oe.Err
		if errors.As(err, &se) {
			err = se.Err
		}
	}
	return err.Error()
}

// BadURLError is a URL (or cache host) NewHTTP or NewCache cannot use;
// nothing was sent anywhere.
type BadURLError struct {
	What  string // "URL" or "cache host"
	Value string // as given
	Why   string // what is wanted instead
}

func (e *BadURLError) Error() string {
	return fmt.Sprintf("fetch: bad %s %q: %s", e.What, RedactURL(e.Value), e.Why)
}
