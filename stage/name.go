package stage

import (
	"fmt"
	"path/filepath"
	"strings"
)

// cleanName checks a ZIP entry name and returns it slash-separated, without
// a trailing separator, plus whether the name marks a directory (a trailing
// "/" or "\"). Both "/" and "\" separate path parts (Microsoft's tool writes
// "\").
//
// Refused (ErrUnsafePath): empty names, NUL bytes, absolute and UNC paths
// ("/x", "\x", "\\host\share"), any ":" (drive letters "C:\", "C:x", and
// NTFS alternate data streams), empty, "." or ".." path parts, and anything
// filepath.IsLocal rejects on the running OS. Names are otherwise kept as
// their bytes (names without the UTF-8 flag are not transcoded from CP437).
func cleanName(name string) (string, bool, error) {
	unsafe := func(why string) (string, bool, error) {
		return "", false, fmt.Errorf("stage: entry %q: %s: %w", name, why, ErrUnsafePath)
	}
	if name == "" {
		return unsafe("empty name")
	}
	if strings.IndexByte(name, 0) >= 0 {
		return unsafe("NUL byte in name")
	}
	s := strings.ReplaceAll(name, `\`, "/")
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
		switch part {
		case "":
			return unsafe("empty path part")
		case ".", "..":
			return unsafe(`"." or ".." path part`)
		}
	}
	if !filepath.IsLocal(filepath.FromSlash(s)) {
		return unsafe("not a local path")
	}
	return s, dir, nil
}
