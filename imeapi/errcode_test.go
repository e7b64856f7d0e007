package imeapi

import "testing"

// Codes show as Intune shows them: an installer's Win32 exit code as
// HRESULT_FROM_WIN32, the IME's own negative codes as their 32 bits.
func TestCodeHex(t *testing.T) {
	for _, c := range []struct {
		code    int64
		hex     string
		meaning bool
	}{
		{0, "", false},
		{1603, "0x80070643", true},
		{1618, "0x80070652", true},
		{CodeNotDetected, "0x87D1041C", true},
		{CodeTimeout, "0x87D300C9", true},
		{CodeFailure, "0x80004005", true},
		{CodeDependency, "0x87D300D9", true},
		{CodeNoSession, "0x87D300CD", true},
		{70000, "0x00011170", false},
		{-1, "0xFFFFFFFF", false},
	} {
		if got := CodeHex(c.code); got != c.hex {
			t.Errorf("CodeHex(%d) = %q, want %q", c.code, got, c.hex)
		}
		if got := CodeMeaning(c.code); (got != "") != c.meaning {
			t.Errorf("CodeMeaning(%d) = %q", c.code, got)
		}
	}
	if CodeMeaning(1603) != "Fatal error during installation" {
		t.Errorf("1603: %q", CodeMeaning(1603))
	}
}
