package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// writeJSON prints v as the one JSON document of a --json run.
func writeJSON(e *env, v any) error {
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	return nil
}

// maxLine caps what one printed line may hold, in runes; a longer one
// keeps its start and end around " … ".
const maxLine = 1000

// safeLine makes s fit one terminal line: newlines fold to spaces, other
// control characters (C0, DEL, C1), invalid UTF-8, line and paragraph
// separators, the byte-order mark and the bidi embeddings, overrides and
// isolates are escaped as strconv.Quote would (\x1b, \t, \u202e), and the
// result is capped at maxLine runes. Printable Unicode, and backslashes,
// stay as they are.
func safeLine(s string) string { return capLine(escapeControls(s), maxLine) }

// escapeControls does safeLine's escaping, without the cap.
func escapeControls(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || unsafeRune(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n' || r == '\r':
			b.WriteByte(' ')
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x80 && unsafeRune(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case unsafeRune(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// unsafeRune reports whether r may move the cursor, change colours or
// reorder the text around it.
func unsafeRune(r rune) bool {
	switch {
	case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f): // C0, DEL, C1
		return true
	case r == 0x061c || r == 0x200e || r == 0x200f: // ALM, LRM, RLM
		return true
	case r >= 0x202a && r <= 0x202e: // LRE RLE PDF LRO RLO
		return true
	case r >= 0x2066 && r <= 0x2069: // LRI RLI FSI PDI
		return true
	case r == 0x2028 || r == 0x2029 || r == 0xfeff:
		return true
	}
	return false
}

// capLine shortens s to at most max runes, eliding its middle.
func capLine(s string, max int) string {
	if len(s) <= max || utf8.RuneCountInString(s) <= max {
		return s
	}
	const mid = " … "
	keep := max - utf8.RuneCountInString(mid)
	head, tail := keep-keep/2, keep/2
	r := []rune(s)
	return string(r[:head]) + mid + string(r[len(r)-tail:])
}

// sayf prints one terminal-safe line (safeLine) of format and a.
func sayf(w io.Writer, format string, a ...any) {
	fmt.Fprintln(w, safeLine(fmt.Sprintf(format, a...)))
}
