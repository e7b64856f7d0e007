package stage

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// cleanName checks a ZIP entry name and returns it slash-separated, without
// a trailing separator, plus whether the name marks a directory (a trailing
// "/" or "\"). Both "/" and "\" separate path parts (Microsoft's tool writes
// "\"). utf8Flag is the entry's general-purpose flag bit 11.
//
// Encoding: a name flagged UTF-8 must be valid UTF-8. A name without the
// flag is CP437, as the ZIP specification says (and Windows' extractor
// reads it): pure ASCII is kept, anything else is decoded from CP437 into
// the UTF-8 name created. So a name means the same here as on Windows, and
// every check below runs on the name that is created.
//
// Refused (ErrUnsafePath), the same on every OS so that a package unpacks
// the same everywhere: empty names; control characters (U+0000–U+001F,
// U+007F, U+0080–U+009F); bidirectional controls (U+061C, U+200E, U+200F,
// U+202A–U+202E, U+2066–U+2069), which make a name display as another;
// absolute and UNC paths ("/x", "\x", "\\host\share"); any ":" (drive
// letters "C:\", "C:x", NTFS alternate data streams); empty, "." or ".."
// path parts; parts NTFS would alias to another name: ending in a dot or a
// space ("a." is "a"), Windows device names with any extension (CON, PRN,
// AUX, NUL, CONIN$, CONOUT$, COM1–9, LPT1–9, also with ¹²³), and 8.3 short
// names ("PROGRA~1", "SETUP~12.EXE"); and anything filepath.IsLocal rejects
// on the running OS.
func cleanName(name string, utf8Flag bool) (string, bool, error) {
	unsafe := func(why string) (string, bool, error) {
		return "", false, fmt.Errorf("stage: entry %s: %s: %w", quoteName(name), why, ErrUnsafePath)
	}
	if name == "" {
		return unsafe("empty name")
	}
	s := name
	switch {
	case utf8Flag && !utf8.ValidString(s):
		return unsafe("invalid UTF-8 in a name flagged UTF-8")
	case !utf8Flag && !isASCII(s):
		d, err := charmap.CodePage437.NewDecoder().String(s)
		if err != nil {
			return unsafe("undecodable CP437 name")
		}
		s = d
	}
	for _, r := range s {
		switch {
		case r == 0:
			return unsafe("NUL byte in name")
		case r < 0x20 || r >= 0x7f && r <= 0x9f:
			return unsafe("control character in name")
		case isBidi(r):
			return unsafe("bidirectional control character in name")
		}
	}
	s = strings.ReplaceAll(s, `\`, "/")
	dir := strings.HasSuffix(s, "/")
	if dir {
		s = s[:len(s)-1]
	}
	switch {
	case s == "":
		return unsafe("root directory entry")
	case s[0] == '/':
		return unsafe("absolute or UNC path")
	case strings.IndexByte(s, ':') >= 0:
		return unsafe("drive letter or stream name")
	}
	for part := range strings.SplitSeq(s, "/") {
		switch {
		case part == "":
			return unsafe("empty path part")
		case part == "." || part == "..":
			return unsafe(`"." or ".." path part`)
		case strings.HasSuffix(part, ".") || strings.HasSuffix(part, " "):
			return unsafe("path part ends in a dot or space (Windows drops it)")
		case isDevice(part):
			return unsafe("Windows device name")
		case shortName.MatchString(part):
			return unsafe("8.3 short name (Windows may alias it to another file)")
		}
	}
	if !filepath.IsLocal(filepath.FromSlash(s)) {
		return unsafe("not a local path")
	}
	return s, dir, nil
}

func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func isBidi(r rune) bool {
	return r == 0x061c || r == 0x200e || r == 0x200f || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069
}

// shortName is the form of an 8.3 alias NTFS generates for a long name.
var shortName = regexp.MustCompile(`^[^~]{1,6}~[0-9]+(\.[^.]{0,3})?$`)

// isDevice reports whether a path part names a Windows device: the part
// before its first dot, trailing spaces dropped, in any letter case.
func isDevice(part string) bool {
	base, _, _ := strings.Cut(part, ".")
	base = strings.ToUpper(strings.TrimRight(base, " "))
	switch base {
	case "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$":
		return true
	}
	if rest, ok := strings.CutPrefix(base, "COM"); ok {
		return isDeviceDigit(rest)
	}
	if rest, ok := strings.CutPrefix(base, "LPT"); ok {
		return isDeviceDigit(rest)
	}
	return false
}

func isDeviceDigit(s string) bool {
	switch s {
	case "1", "2", "3", "4", "5", "6", "7", "8", "9", "¹", "²", "³":
		return true
	}
	return false
}

// maxQuoted is how many runes of a name an error shows from each end.
const maxQuoted = 40

// quoteName returns name for an error message: quoted with Go escapes, so
// that no control or escape byte reaches a terminal (invalid UTF-8 as \x
// escapes, format characters such as U+202E as \u escapes), and shortened
// to its first and last maxQuoted runes around "…", so that a hostile
// 8 KB name makes a short line.
func quoteName(name string) string {
	if utf8.RuneCountInString(name) <= 2*maxQuoted+1 {
		return strconv.Quote(name)
	}
	head, tail := name, name
	for range maxQuoted {
		_, n := utf8.DecodeRuneInString(tail)
		tail = tail[n:]
	}
	head = name[:len(name)-len(tail)]
	tail = name
	for range utf8.RuneCountInString(name) - maxQuoted {
		_, n := utf8.DecodeRuneInString(tail)
		tail = tail[n:]
	}
	return strconv.Quote(head) + "…" + strconv.Quote(tail)
}

// entryErr wraps a file-system error met on an entry. The error's own
// path (which holds the name raw and whole) is dropped for the quoted,
// shortened name; errors.Is still finds the cause (ENOSPC, ENOENT).
func entryErr(name string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("stage: entry %s: %s: %w", quoteName(name), pe.Op, pe.Err)
	}
	return fmt.Errorf("stage: entry %s: %w", quoteName(name), err)
}
