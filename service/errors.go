package service

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// Sentinel errors of the server side; the wire sentinels (ErrNotFound,
// ErrForbidden, …) are imeapi's.
var (
	// ErrApp: an app folder that cannot be served (bad app.json or package).
	ErrApp = errors.New("service: invalid app")
	// errForbidden prefixes why a blob URL was refused; the handler
	// answers 403 with it.
	errForbidden = errors.New("forbidden")
	// ErrUnsupported: an app with settings the agent does not implement
	// yet (imeapi.Review), refused unless Config.AllowUnsupported. It is
	// always inside an AppError, which names the package.
	ErrUnsupported = errors.New("unsupported settings")
)

// AppError says why one app folder was skipped: the file and, when known,
// the JSON field at fault. Also holds the other reasons found in the
// same pass (an unsupported setting and a setupFilePath the package
// contradicts, say), so that one verdict names them all.
type AppError struct {
	Dir   string // the app's folder
	File  string // the file at fault (app.json or the .intunewin); Dir: the folder, which Err then names
	Field string // JSON field path, e.g. "rules[0].path"; empty for package errors
	Err   error
	Also  []*AppError // further reasons, in the order found; each has no Also
}

func (e *AppError) Error() string {
	parts := []string{e.one(false)}
	for _, a := range e.Also {
		parts = append(parts, a.one(false))
	}
	return "service: " + strings.Join(parts, "; ")
}

// Reason is the error as an app folder's verdict says it, beside the
// folder's name: for each reason, the file relative to the folder
// (app.json, the .intunewin), the field, and the cause; no package
// prefix. Several reasons are joined with "; ".
func (e *AppError) Reason() string {
	parts := []string{e.one(true)}
	for _, a := range e.Also {
		parts = append(parts, a.one(true))
	}
	return strings.Join(parts, "; ")
}

// one words e alone (not its Also), its file relative to Dir when rel.
func (e *AppError) one(rel bool) string {
	file := e.File
	if r, err := filepath.Rel(e.Dir, e.File); rel && err == nil && r != "." && !strings.HasPrefix(r, "..") {
		file = r
	}
	switch {
	case e.Field != "":
		return fmt.Sprintf("%s: %s: %v", file, e.Field, e.Err)
	case e.File == e.Dir:
		return e.Err.Error() // about the folder, which the message names itself
	}
	return fmt.Sprintf("%s: %v", file, e.Err)
}

// Unwrap gives ErrApp, the cause and the further reasons, so that
// errors.Is finds a sentinel of any of them.
func (e *AppError) Unwrap() []error {
	out := []error{ErrApp, e.Err}
	for _, a := range e.Also {
		out = append(out, a)
	}
	return out
}

// refusal is nil for no reasons, else the first reason with the others
// as its Also.
func refusal(reasons []*AppError) error {
	if len(reasons) == 0 {
		return nil
	}
	first := *reasons[0]
	first.Also = reasons[1:]
	return &first
}

// wordedError is an error worded for the reader (no layer's name, no
// path the line already gives), wrapping the error it stands for so that
// errors.Is still sees its sentinels.
type wordedError struct {
	msg string
	err error
}

func (e *wordedError) Error() string { return e.msg }
func (e *wordedError) Unwrap() error { return e.err }
