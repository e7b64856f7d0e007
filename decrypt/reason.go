package decrypt

import "strings"

// Reason is err's text for a line that names path already: without the
// path and the layers' names ("decrypt: ", "stage: ") that lead it, in
// any order. It shapes a message only; nothing should decide on it
// (errors.Is and errors.As on err do that).
func Reason(err error, path string) string {
	msg := err.Error()
	for {
		rest := msg
		for _, p := range []string{"decrypt: ", "stage: ", path + ": "} {
			rest = strings.TrimPrefix(rest, p)
		}
		if rest == msg || rest == "" {
			return msg
		}
		msg = rest
	}
}
