// Package errtext shapes an error's text for a line that already says
// what it is about: it drops the prefixes (package names, a path the line
// names) that lead the text. It shapes messages only; nothing should
// decide on its result (errors.Is and errors.As on the error do that).
package errtext

import "strings"

// Trim is msg without the prefixes that lead it, each as often and in
// whatever order they come; a msg that is nothing but prefixes stays as
// it is.
func Trim(msg string, prefixes ...string) string {
	for {
		rest := msg
		for _, p := range prefixes {
			rest = strings.TrimPrefix(rest, p)
		}
		if rest == msg || rest == "" {
			return msg
		}
		msg = rest
	}
}
