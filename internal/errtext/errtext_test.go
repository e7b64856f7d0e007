package errtext

import "testing"

func TestTrim(t *testing.T) {
	for _, c := range []struct{ msg, want string }{
		{"stage: decrypt: x.bin: truncated", "truncated"},
		{"x.bin: decrypt: stage: truncated", "truncated"},
		{"decrypt: ", "decrypt: "}, // nothing but prefixes: kept
		{"plain", "plain"},
	} {
		if got := Trim(c.msg, "decrypt: ", "stage: ", "x.bin: "); got != c.want {
			t.Errorf("Trim(%q) = %q, want %q", c.msg, got, c.want)
		}
	}
}
