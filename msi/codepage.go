package msi

import (
	"strings"
	"unicode/utf8"
)

// cp1252High maps Windows-1252 bytes 0x80-0x9F; the rest of the code
// page is Latin-1. Undefined bytes map to U+FFFD.
var cp1252High = [32]rune{
	'€', '\uFFFD', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\uFFFD', 'Ž', '\uFFFD',
	'\uFFFD', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\uFFFD', 'ž', 'Ÿ',
}

// decodeText turns a string stored in code page cp into UTF-8. ASCII is
// kept as is; UTF-8 (65001) is checked; 1252, Latin-1 (28591) and the
// neutral code page 0 are mapped (0 as 1252: the ANSI code page of the
// Windows systems the tool usually runs on, a guess); in any other code
// page non-ASCII bytes become U+FFFD.
func decodeText(b []byte, cp int) string {
	ascii := true
	for _, c := range b {
		if c >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return string(b)
	}
	switch cp {
	case 65001:
		if utf8.Valid(b) {
			return string(b)
		}
		return strings.ToValidUTF8(string(b), "\uFFFD")
	case 0, 1252, 28591:
		var s strings.Builder
		for _, c := range b {
			switch {
			case c < 0x80 || c >= 0xA0 || cp == 28591:
				s.WriteRune(rune(c))
			default:
				s.WriteRune(cp1252High[c-0x80])
			}
		}
		return s.String()
	}
	var s strings.Builder
	for _, c := range b {
		if c < 0x80 {
			s.WriteByte(c)
		} else {
			s.WriteRune(utf8.RuneError)
		}
	}
	return s.String()
}
