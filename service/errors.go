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

// Reason is the error as an app folder's verdict says it, beside the
// folder's name: the file relative to the folder (app.json, the
// .intunewin), the field, and the cause; no package prefix.
func (e *AppError) Reason() string {
	file := e.File
	if rel, err := filepath.Rel(e.Dir, e.File); err == nil && rel != "." && !strings.HasPrefix(rel, "..") {
		file = rel
	}
	if e.Field != "" {
		return fmt.Sprintf("%s: %s: %v", file, e.Field, e.Err)
	}
	if file == e.Dir {
		return e.Err.Error()
	}
	return fmt.Sprintf("%s: %v", file, e.Err)
}

func (e *AppError) Unwrap() []error { return []error{ErrApp, e.Err} }
