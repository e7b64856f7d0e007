package decrypt

import (
	"errors"
	"testing"
)

// TestReason: the path and the layers' names that lead an error go, in
// any order; the rest of the text stays, even where it repeats them.
func TestReason(t *testing.T) {
	for in, want := range map[string]string{
		"decrypt: a.intunewin: stage: entry x: unsafe path": "entry x: unsafe path",
		"a.intunewin: decrypt: HMAC mismatch":               "HMAC mismatch",
		"HMAC mismatch: decrypt: a.intunewin":               "HMAC mismatch: decrypt: a.intunewin",
		"decrypt: ":                                         "decrypt: ",
	} {
		if got := Reason(errors.New(in), "a.intunewin"); got != want {
			t.Errorf("Reason(%q) = %q, want %q", in, got, want)
		}
	}
}
