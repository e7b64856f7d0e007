package stage

import (
	"errors"
	"testing"
)

func TestCleanName(t *testing.T) {
	tests := []struct {
		in    string
		out   string
		dir   bool
		valid bool
	}{
		{`Fonts\x.otf`, "Fonts/x.otf", false, true},
		{"Fonts/x.otf", "Fonts/x.otf", false, true},
		{`Fonts\`, "Fonts", true, true},
		{"a/b/", "a/b", true, true},
		{"Ünïcødé €.txt", "Ünïcødé €.txt", false, true},
		{"..foo/bar..", "..foo/bar..", false, true},
		{"", "", false, false},
		{"..", "", false, false},
		{`a\..`, "", false, false},
		{"./a", "", false, false},
		{"/etc/passwd", "", false, false},
		{`\Windows`, "", false, false},
		{`C:\Windows`, "", false, false},
		{`c:relative`, "", false, false},
		{`\\?\C:\x`, "", false, false},
		{`\\server\share\x`, "", false, false},
		{"a\x00", "", false, false},
		{"a//", "", false, false},
		{"/", "", false, false},
	}
	for _, tc := range tests {
		got, dir, err := cleanName(tc.in)
		if tc.valid != (err == nil) || got != tc.out || dir != tc.dir {
			t.Errorf("cleanName(%q) = %q, %v, %v; want %q, %v, valid %v", tc.in, got, dir, err, tc.out, tc.dir, tc.valid)
		}
		if err != nil && !errors.Is(err, ErrUnsafePath) {
			t.Errorf("cleanName(%q): %v is not ErrUnsafePath", tc.in, err)
		}
	}
}
