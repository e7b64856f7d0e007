package main

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSafeLine(t *testing.T) {
	cases := []struct{ in, want string }{
		{"plain", "plain"},
		{"\x1b[31mred\x1b[0m", `\x1b[31mred\x1b[0m`},
		{"a\u202egnp.exe", `a\u202egnp.exe`},
		{"iso\u2066late\u2069", `iso\u2066late\u2069`},
		{"c1 \u009b2J", `c1 \u009b2J`},
		{"bad \xff\xfe utf-8", `bad \xff\xfe utf-8`},
		{"del\x7f bell\a nul\x00", `del\x7f bell\x07 nul\x00`},
		{"tab\there", `tab\there`},
		{"two\nlines\r\n", "two lines  "},
		{"sep\u2028bom\ufeff", `sep\u2028bom\ufeff`},
		{`C:\Program Files\Café 日本語 ✓`, `C:\Program Files\Café 日本語 ✓`},
	}
	for _, c := range cases {
		if got := safeLine(c.in); got != c.want {
			t.Errorf("safeLine(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestSafeLineCap(t *testing.T) {
	long := "start-" + strings.Repeat("é", 8<<10) + "-end"
	got := safeLine(long)
	if n := utf8.RuneCountInString(got); n > maxLine {
		t.Fatalf("%d runes, want at most %d", n, maxLine)
	}
	if !strings.HasPrefix(got, "start-") || !strings.HasSuffix(got, "-end") || !strings.Contains(got, " … ") {
		t.Fatalf("cap lost the ends or the marker: %q…%q", got[:20], got[len(got)-20:])
	}
	if safeLine("short") != "short" {
		t.Fatal("a short line changed")
	}
}

// TestErrorLineSafe: the CLI's error printer escapes what a file name
// carries and caps an 8 KB one.
func TestErrorLineSafe(t *testing.T) {
	dir := t.TempDir()
	code, _, stderr := runCLI(t, "unpack", "-o", dir+"/out", dir+"/evil\x1b[31m\u202e.intunewin")
	if code != 1 || strings.ContainsAny(stderr, "\x1b\u202e") || !strings.Contains(stderr, `evil\x1b[31m\u202e.intunewin`) {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if strings.Count(stderr, "\n") != 1 {
		t.Fatalf("not one line: %q", stderr)
	}
	name := dir + "/" + strings.Repeat("n", 8<<10) + ".intunewin"
	code, _, stderr = runCLI(t, "unpack", "-o", dir+"/out2", name)
	line := strings.TrimSuffix(stderr, "\n")
	if code != 1 || strings.Contains(line, "\n") || utf8.RuneCountInString(line) > maxLine || !strings.HasPrefix(line, "imepipe unpack: ") {
		t.Fatalf("exit %d, %d runes: %.120q", code, utf8.RuneCountInString(line), line)
	}
}
