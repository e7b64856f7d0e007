package service

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
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

// pathKind is what a path given to the service should be, for the words
// of an error about it.
type pathKind int

const (
	kindFile   pathKind = iota // a file (a secret, a certificate)
	kindFolder                 // a folder (the apps and data folders)
)

func (k pathKind) String() string {
	if k == kindFolder {
		return "folder"
	}
	return "file"
}

// pathError is the error about the file or folder path, which a line
// calls what ("apps folder", "enrollment secret"): "what path: reason",
// the reason in a few words (osReason). It wraps err.
func pathError(what, path string, kind pathKind, err error) error {
	return &wordedError{msg: what + " " + path + ": " + osReason(path, kind, err), err: err}
}

// osReason says why the system refused path, a kind, in the words of
// the CLI's file errors: "no such folder", "permission denied", "a
// file, not a folder" (or, for a file in the way above it, "P is a file,
// not a folder"). An error about a path inside path (a folder's blobs)
// names that one, relative to path; any other path in err (a temporary
// file beside it) is not repeated. An error that is not the system's
// keeps its text.
func osReason(path string, kind pathKind, err error) string {
	at := path
	var pe *fs.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		at = pe.Path
	case errors.As(err, &le):
		at = le.New
	}
	if errors.Is(err, syscall.ENOTDIR) || errors.Is(err, fs.ErrNotExist) {
		if f := fileInTheWay(at); f == filepath.Clean(path) && kind == kindFolder {
			return "a file, not a folder"
		} else if f != "" && f != filepath.Clean(path) {
			return f + " is a file, not a folder"
		}
	}
	why := sysReason(err, kind)
	if fi, serr := os.Stat(path); kind == kindFile && serr == nil && fi.IsDir() {
		why = "a folder, not a file"
	}
	if rel, rerr := filepath.Rel(path, at); rerr == nil && rel != "." && filepath.IsLocal(rel) {
		if pe != nil && pe.Op == "mkdir" {
			return "cannot create " + filepath.ToSlash(rel) + ": " + why
		}
		return filepath.ToSlash(rel) + ": " + why
	}
	return why
}

// sysReason is the system's reason for err alone, in a few words, without
// the path and operation it names: "no such file", "permission denied";
// anything else as the system says it ("no space left on device"). An
// error that is not the system's keeps its text.
func sysReason(err error, kind pathKind) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "no such " + kind.String()
	case errors.Is(err, fs.ErrPermission):
		return "permission denied"
	case errors.Is(err, syscall.EISDIR):
		return "a folder, not a file"
	}
	var pe *fs.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		return pe.Err.Error()
	case errors.As(err, &le):
		return le.Err.Error()
	}
	return err.Error()
}

// fileInTheWay is the deepest existing path of p and its parents when it
// is not a folder (a file where a folder was wanted); "" when it is one.
func fileInTheWay(p string) string {
	for q := filepath.Clean(p); ; q = filepath.Dir(q) {
		if fi, err := os.Stat(q); err == nil {
			if fi.IsDir() {
				return ""
			}
			return q
		}
		if filepath.Dir(q) == q {
			return ""
		}
	}
}
