package main

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/imepipe/imepipe/decrypt"
)

// lfsPointerPrefix starts every Git LFS pointer file.
const lfsPointerPrefix = "version https://git-lfs.github.com/spec/"

// zipLocalHeader starts a ZIP's first entry, so every .intunewin.
var zipLocalHeader = []byte("PK\x03\x04")

// fileErr is an error about the file FILE given on the command line,
// printed as "FILE: reason": the file is named once, here, and the
// reason carries no layer's name. It wraps the error it describes, so
// errors.Is still sees decrypt's and stage's sentinels.
type fileErr struct {
	path, reason string
	err          error
}

func (e *fileErr) Error() string { return e.path + ": " + e.reason }
func (e *fileErr) Unwrap() error { return e.err }

// fileError describes err, met reading or unpacking the file at path,
// as "path: reason". A failure to open or read path itself is the
// system's reason alone ("no such file"); any other error keeps its
// text less the layers' names and path, which lead it ("decrypt: ",
// "stage: ", "path: ").
func fileError(path string, err error) *fileErr {
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Path == path {
		return &fileErr{path: path, reason: pathReason(pe.Err), err: err}
	}
	return &fileErr{path: path, reason: decrypt.Reason(err, path), err: err}
}

// notExtracted is fileError for a run that failed once it had started
// to extract: it adds that nothing was extracted (the output appears
// only whole).
func notExtracted(path string, err error) error {
	fe := fileError(path, err)
	fe.reason += "; nothing extracted"
	return fe
}

// pathReason says why the system refused a file, in a few words.
func pathReason(err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "no such file"
	case errors.Is(err, fs.ErrPermission):
		return "permission denied"
	}
	return err.Error()
}

// interrupted is the line of a run stopped by Ctrl-C or SIGTERM (ctx
// done), or nil when err is not that.
func interrupted(ctx context.Context, err error) error {
	if ctx.Err() == nil || !errors.Is(err, ctx.Err()) {
		return nil
	}
	return &reasonErr{msg: "interrupted; nothing extracted", err: err}
}

// reasonErr is a line of its own that wraps the error it stands for.
type reasonErr struct {
	msg string
	err error
}

func (e *reasonErr) Error() string { return e.msg }
func (e *reasonErr) Unwrap() error { return e.err }

// inputFile checks that path names a file to read before any work (and
// before the output folder is looked at), returning its size.
func inputFile(path string) (int64, error) {
	st, err := os.Stat(path)
	if err != nil {
		return 0, fileError(path, err)
	}
	if st.IsDir() {
		return 0, &fileErr{path: path, reason: "a folder, not a file", err: fs.ErrInvalid}
	}
	return st.Size(), nil
}

// sniff reads the first bytes of path (nil when it cannot be read: the
// real operation reports that).
func sniff(path string) []byte {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	b := make([]byte, 64)
	n, _ := io.ReadFull(f, b)
	return b[:n]
}

// lfsPointer is the error for a Git LFS pointer given where content
// was wanted, or nil when path is not one.
func lfsPointer(path string) error {
	if !bytes.HasPrefix(sniff(path), []byte(lfsPointerPrefix)) {
		return nil
	}
	return &fileErr{path: path, reason: "a Git LFS pointer, not the file itself: run git lfs pull in its repository, then try again", err: decrypt.ErrNotPackage}
}

// packageHint is fileError for the file cmd ("unpack", "inspect") could
// not open as a package, adding what to do to a "not an .intunewin
// package" error: an empty file or a Git LFS pointer says so, a file
// that starts like a ZIP but has none whole says it is truncated or
// corrupt, and a file that is no ZIP at all (the encrypted content,
// IMECache's or the service's .bin) points at unpack's raw mode, in
// the words of the command the user ran.
func packageHint(cmd, path string, err error) error {
	if !errors.Is(err, decrypt.ErrNotPackage) {
		return fileError(path, err)
	}
	if lerr := lfsPointer(path); lerr != nil {
		return lerr
	}
	if zerr := zipDamage(path, ".intunewin", err); zerr != nil {
		return zerr
	}
	if head := sniff(path); len(head) >= 2 && !bytes.HasPrefix(head, []byte("PK")) {
		what := "give its keys with --keys-file KEYS.json (from inspect --json --show-keys of the .intunewin) or --key and --iv"
		if cmd != "unpack" {
			what = "unpack it with imepipe unpack --keys-file KEYS.json " + shellWord(path) + " (KEYS.json from imepipe inspect --json --show-keys of its .intunewin)"
		}
		return &fileErr{path: path, reason: "not an .intunewin (no ZIP inside); if it is the encrypted content (a .bin), " + what, err: err}
	}
	return fileError(path, err)
}

// zipDamage is the line for a file that archive/zip refused as a ZIP
// (err wraps zip.ErrFormat or a short read), read as kind (".intunewin",
// "ZIP"): an empty file, or one that starts like a ZIP but lacks its end
// record, which is what a cut-off download or copy leaves. It is nil for
// other errors and files.
func zipDamage(path, kind string, err error) error {
	if !errors.Is(err, zip.ErrFormat) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil
	}
	st, serr := os.Stat(path)
	if serr != nil || !st.Mode().IsRegular() {
		return nil
	}
	if st.Size() == 0 {
		return &fileErr{path: path, reason: "empty file", err: err}
	}
	if !bytes.HasPrefix(sniff(path), zipLocalHeader) {
		return nil
	}
	var why string
	switch {
	case hasEndRecord(path, st.Size()):
		why = "its ZIP directory is unreadable"
	case kind == "ZIP":
		why = "it has no end record"
	default:
		why = "it starts like a ZIP but has no end record"
	}
	return &fileErr{path: path, reason: fmt.Sprintf("truncated or corrupt %s (%s; %d bytes)", kind, why, st.Size()), err: err}
}

// hasEndRecord reports whether the last 64 KiB of the file of size bytes
// at path hold a ZIP end-of-central-directory signature.
func hasEndRecord(path string, size int64) bool {
	const tail = 22 + 1<<16 // the record and the longest comment
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	n := min(size, tail)
	b := make([]byte, n)
	if _, err := f.ReadAt(b, size-n); err != nil {
		return false
	}
	return bytes.Contains(b, []byte("PK\x05\x06"))
}

// rawZip is the line for a ZIP given to unpack's raw mode (by flag,
// --keys-file or --key): an .intunewin is unpacked without keys, which it
// carries. The file is one when it starts like a ZIP and, unless failed
// (the raw unpack of it has failed already), opens as one: a real
// encrypted file starts with its HMAC, which may begin with those four
// bytes, but never has a ZIP directory.
func rawZip(path, flag string, failed bool) error {
	if !bytes.HasPrefix(sniff(path), zipLocalHeader) {
		return nil
	}
	if !failed {
		zr, err := zip.OpenReader(path)
		if err != nil {
			return nil
		}
		zr.Close()
	}
	return &fileErr{path: path, reason: "an .intunewin package (a ZIP), not its encrypted content: unpack it without " + flag, err: decrypt.ErrNotPackage}
}

// shellWord single-quotes s for a POSIX shell (PowerShell reads it the
// same unless s holds a quote) when it holds a space or a character a
// shell would act on; a Windows path's backslashes and colon stay bare.
func shellWord(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n'\"`$&|;<>()*?[]{}!#~^") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
