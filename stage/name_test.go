package stage

import (
	"archive/zip"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
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
		{"..foo/.bar", "..foo/.bar", false, true},
		{"CONFIG.SYS", "CONFIG.SYS", false, true},
		{"COM10", "COM10", false, true},
		{"a~b.txt", "a~b.txt", false, true},
		{"LONGNAME~1.TXT", "LONGNAME~1.TXT", false, true}, // 8 before ~: not a short name
		{"x~1.text", "x~1.text", false, true},             // 4-letter extension
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
		// issue 11: control characters, bidi, NTFS aliases
		{"a\x1b[31mred", "", false, false},
		{"tab\there", "", false, false},
		{"del\x7f", "", false, false},
		{"c1\u0085next", "", false, false},
		{"c1\u009b31m", "", false, false},
		{"invoice\u202Efdp.exe", "", false, false},
		{"a\u2066b", "", false, false},
		{"a\u200Fb", "", false, false},
		{"a\u061Cb", "", false, false},
		{"a.", "", false, false},
		{"dir./x", "", false, false},
		{"a ", "", false, false},
		{"sub /x", "", false, false},
		{"bar..", "", false, false},
		{"CON", "", false, false},
		{"con.txt", "", false, false},
		{"dir/Nul.tar.gz", "", false, false},
		{"AUX .txt", "", false, false},
		{"com1", "", false, false},
		{"LPT9.log", "", false, false},
		{"COM¹", "", false, false},
		{"conin$", "", false, false},
		{"PROGRA~1", "", false, false},
		{"dir/SETUP~12.EXE", "", false, false},
		{"a~1.t", "", false, false},
		{"a.txt:Zone.Identifier", "", false, false},
	}
	for _, tc := range tests {
		got, dir, err := cleanName(tc.in, true)
		if tc.valid != (err == nil) || got != tc.out || dir != tc.dir {
			t.Errorf("cleanName(%q) = %q, %v, %v; want %q, %v, valid %v", tc.in, got, dir, err, tc.out, tc.dir, tc.valid)
		}
		if err != nil && !errors.Is(err, ErrUnsafePath) {
			t.Errorf("cleanName(%q): %v is not ErrUnsafePath", tc.in, err)
		}
	}
}

// TestCleanNameEncoding: a name flagged UTF-8 must be valid UTF-8; one
// without the flag is CP437 and decoded (ASCII kept as is).
func TestCleanNameEncoding(t *testing.T) {
	if _, _, err := cleanName("bad\xff\xfe.txt", true); !errors.Is(err, ErrUnsafePath) {
		t.Errorf("invalid UTF-8 flagged UTF-8: %v", err)
	}
	if got, _, err := cleanName("caf\x82.txt", false); err != nil || got != "café.txt" {
		t.Errorf("CP437 name: %q, %v; want café.txt", got, err)
	}
	if got, _, err := cleanName(`plain\ascii.txt`, false); err != nil || got != "plain/ascii.txt" {
		t.Errorf("ASCII name without the flag: %q, %v", got, err)
	}
	if _, _, err := cleanName("esc\x1b.txt", false); !errors.Is(err, ErrUnsafePath) {
		t.Errorf("control character without the flag: %v", err)
	}
}

// TestNameErrorsAreShortAndEscaped: an error about a name is one short
// line with no raw control or escape bytes, whatever the name.
func TestNameErrorsAreShortAndEscaped(t *testing.T) {
	long := strings.Repeat("é", 4000) + "\x1b]0;pwned\x07" + strings.Repeat("x", 4000) + "/.."
	for _, name := range []string{long, "\x1b[2J\x1b[31mclear.", "a\u202Eb\r\nc", "bad\xff" + strings.Repeat("\xfe", 9000)} {
		_, _, err := cleanName(name, true)
		if err == nil {
			t.Fatalf("%.20q accepted", name)
		}
		msg := err.Error()
		if utf8.RuneCountInString(msg) > 400 {
			t.Errorf("error of %d runes: %.80s…", utf8.RuneCountInString(msg), msg)
		}
		for _, r := range msg {
			if r < 0x20 || r == 0x7f || r >= 0x80 && r <= 0x9f || isBidi(r) {
				t.Errorf("raw control %U in %q", r, msg)
			}
		}
	}
	if got := quoteName(strings.Repeat("a", 50) + strings.Repeat("b", 50)); got != `"`+strings.Repeat("a", 40)+`"…"`+strings.Repeat("b", 40)+`"` {
		t.Errorf("quoteName shortens to %s", got)
	}
}

// FuzzCleanName: an accepted name is local, free of controls and of
// parts Windows would alias, and cleaning it again changes nothing; an
// error is one short line without raw control bytes. Seeded with the
// names of the testdata ZIPs.
func FuzzCleanName(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "*.zip"))
	for _, p := range seeds {
		zr, err := zip.OpenReader(p)
		if err != nil {
			f.Fatal(err)
		}
		for _, zf := range zr.File {
			f.Add(zf.Name, zf.Flags&flagUTF8 != 0)
		}
		zr.Close()
	}
	f.Add("PROGRA~1/con.txt", true)
	f.Add("a\u202Eb", false)
	f.Fuzz(func(t *testing.T, name string, flagged bool) {
		got, _, err := cleanName(name, flagged)
		if err != nil {
			if msg := err.Error(); len(msg) > 800 || strings.ContainsAny(msg, "\x00\x1b\n\r\x07") {
				t.Fatalf("error not one short line: %q", msg)
			}
			return
		}
		if !filepath.IsLocal(filepath.FromSlash(got)) || !utf8.ValidString(got) {
			t.Fatalf("accepted %q as %q", name, got)
		}
		for _, r := range got {
			if r < 0x20 || r == 0x7f || r >= 0x80 && r <= 0x9f || isBidi(r) || r == ':' || r == '\\' {
				t.Fatalf("accepted %q with %U", got, r)
			}
		}
		for part := range strings.SplitSeq(got, "/") {
			if strings.HasSuffix(part, ".") || strings.HasSuffix(part, " ") || isDevice(part) || shortName.MatchString(part) {
				t.Fatalf("accepted alias part %q", part)
			}
		}
		if again, _, err := cleanName(got, true); err != nil || again != got {
			t.Fatalf("clean(%q) = %q, %v", got, again, err)
		}
	})
}
