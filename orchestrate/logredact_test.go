package orchestrate

import "testing"

// TestRedactSig: a blob signature is redacted wherever a line quotes a
// signed URL (plain, in a quoted error, JSON-escaped), and nothing else
// of the line changes.
func TestRedactSig(t *testing.T) {
	for in, want := range map[string]string{
		`Get "https://h/b.bin?se=2025&sig=AbC%2Fd=": EOF`:                 `Get "https://h/b.bin?se=2025&sig=REDACTED": EOF`,
		`https://h/b.bin?sig=xyz&sp=r`:                                    `https://h/b.bin?sig=REDACTED&sp=r`,
		`{"UploadLocation":"https://h/b?se=1\u0026sig=s3cr3t\u0026sp=r"}`: `{"UploadLocation":"https://h/b?se=1\u0026sig=REDACTED\u0026sp=r"}`,
		`no url here; design=sig=1`:                                       `no url here; design=sig=1`,
		`already https://h/b?sig=REDACTED`:                                `already https://h/b?sig=REDACTED`,
	} {
		if got := redactSig(in); got != want {
			t.Errorf("redactSig(%q) = %q, want %q", in, got, want)
		}
	}
}
