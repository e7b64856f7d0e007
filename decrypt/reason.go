package decrypt

import "github.com/imepipe/imepipe/internal/errtext"

// Reason is err's text for a line that names path already: without the
// path and the layers' names ("decrypt: ", "stage: ") that lead it, in
// any order. It shapes a message only; nothing should decide on it
// (errors.Is and errors.As on err do that).
func Reason(err error, path string) string {
	return errtext.Trim(err.Error(), "decrypt: ", "stage: ", path+": ")
}
