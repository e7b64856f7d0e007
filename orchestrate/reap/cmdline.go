package reap

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// ErrCommandLine: a Windows command line that names no program the
// reaper can start (empty, an unterminated quote, a NUL, not UTF-8,
// longer than Windows allows, or a first token that is a file but no
// program, such as a .msi).
var ErrCommandLine = errors.New("invalid command line")

// maxCommandLine is CreateProcess's limit on lpCommandLine: 32,767 UTF-16
// code units with the terminating NUL.
const maxCommandLine = 32766

// maxCandidates bounds the program names tried for an unquoted path with
// spaces (see candidates).
const maxCandidates = 32

// FirstToken splits a Windows command line into its program name and the
// rest of the line. The program is read the way the C runtime reads
// argv[0] (and so the way the started program sees its own name): leading
// blanks are skipped, a double quote toggles quoting and is dropped,
// and a space or tab outside quotes ends the name; backslashes are plain
// characters (there is no escaping in argv[0]). rest is the line after
// the program and the blanks that follow it, unchanged.
//
//	`"C:\Program Files\X\setup.exe" /S`  →  `C:\Program Files\X\setup.exe`, `/S`
//	`msiexec /i "Contoso App.msi" /qn`   →  `msiexec`, `/i "Contoso App.msi" /qn`
func FirstToken(line string) (program, rest string, err error) {
	program, rest, _, err = firstToken(line)
	return program, rest, err
}

// firstToken is FirstToken that also says whether the name held a quote.
func firstToken(line string) (program, rest string, quoted bool, err error) {
	if strings.IndexByte(line, 0) >= 0 {
		return "", "", false, fmt.Errorf("reap: command line holds a NUL: %w", ErrCommandLine)
	}
	s := strings.TrimLeft(line, " \t")
	var b strings.Builder
	in := false
	i := 0
	for ; i < len(s); i++ {
		c := s[i]
		if c == '"' {
			in, quoted = !in, true
			continue
		}
		if !in && isBlank(c) {
			break
		}
		b.WriteByte(c)
	}
	if in {
		return "", "", quoted, fmt.Errorf("reap: command line %q: unterminated quote: %w", line, ErrCommandLine)
	}
	if b.Len() == 0 {
		return "", "", quoted, fmt.Errorf("reap: command line %q names no program: %w", line, ErrCommandLine)
	}
	return b.String(), strings.TrimLeft(s[i:], " \t"), quoted, nil
}

// checkCommandLine reports what stops line from reaching CreateProcess
// intact.
func checkCommandLine(line string) error {
	if !utf8.ValidString(line) {
		return fmt.Errorf("reap: command line is not UTF-8: %w", ErrCommandLine)
	}
	if n := len(utf16.Encode([]rune(line))); n > maxCommandLine {
		return fmt.Errorf("reap: command line is %d UTF-16 units, Windows allows %d: %w", n, maxCommandLine, ErrCommandLine)
	}
	_, _, _, err := firstToken(line)
	return err
}

// candidates lists the program names to try for line, in order: the
// first token, then, only when that token is an unquoted path (it holds a
// backslash or slash) and not found, ever longer prefixes of the line
// that end before a blank, as CreateProcess does for
// `C:\Program Files\X\setup.exe /S` written without quotes.
func candidates(line string) ([]string, error) {
	first, _, quoted, err := firstToken(line)
	if err != nil {
		return nil, err
	}
	out := []string{first}
	if quoted || !strings.ContainsAny(first, `\/`) {
		return out, nil
	}
	// Unquoted, first is the line's start and a blank follows it.
	s := strings.TrimRight(strings.TrimLeft(line, " \t"), " \t")
	for i := len(first) + 1; i < len(s) && len(out) < maxCandidates; i++ {
		if s[i] == '"' {
			return out, nil // quoted arguments follow: no longer a path with spaces
		}
		if isBlank(s[i]) && !isBlank(s[i-1]) {
			out = append(out, s[:i])
		}
	}
	if len(s) > len(first) && len(out) < maxCandidates {
		out = append(out, s)
	}
	return out, nil
}

// lookup resolves a command line's program the way the IME's
// CreateProcess call finds it: a bare name (setup.exe, msiexec) in the
// content folder first, then on PATH; a relative path (.\setup.exe,
// bin\setup.exe) in the content folder; an absolute path (C:\…, \\host\…)
// as written. A name without an extension gets ".exe", as CreateProcess
// appends it. It is pure string code over Windows path rules so that it
// runs in tests on every OS.
type lookup struct {
	dir      string                       // the content folder (the installer's working directory)
	isFile   func(path string) bool       // a regular file exists at path
	lookPath func(string) (string, error) // PATH search (exec.LookPath on Windows)
}

// resolve returns the path of the program line starts.
func (l lookup) resolve(line string) (string, error) {
	names, err := candidates(line)
	if err != nil {
		return "", err
	}
	for _, name := range names {
		if !hasExt(name) {
			name += ".exe"
		}
		switch {
		case isAbsWindows(name):
			if l.isFile(name) {
				return name, nil
			}
		case strings.ContainsAny(name, `\/`):
			if p := joinWindows(l.dir, name); l.isFile(p) {
				return p, nil
			}
		default:
			if p := joinWindows(l.dir, name); l.isFile(p) {
				return p, nil
			}
			if p, err := l.lookPath(name); err == nil {
				return p, nil
			}
		}
	}
	return "", fmt.Errorf("reap: %q in %s or on PATH: %w", names[0], l.dir, exec.ErrNotFound)
}

// startable reports whether CreateProcess can start the file at p, by its
// extension: a program (.exe, .com) or a batch file (.bat, .cmd, which
// CreateProcess hands to cmd.exe). A package (.msi) or a script (.ps1)
// needs its host on the command line (msiexec /i, powershell -File).
func startable(p string) error {
	ext := p[strings.LastIndexAny(p, `\/:`)+1:]
	if i := strings.LastIndexByte(ext, '.'); i >= 0 {
		ext = strings.ToLower(ext[i:])
	}
	switch ext {
	case ".exe", ".com", ".bat", ".cmd":
		return nil
	}
	return fmt.Errorf("reap: %s is not a program Windows can start (.exe, .com, .bat, .cmd): %w", p, ErrCommandLine)
}

// isAbsWindows: a drive (C:\x, C:x) or a root (\x, \\host\share\x).
func isAbsWindows(p string) bool {
	return (len(p) >= 2 && p[1] == ':') || strings.HasPrefix(p, `\`) || strings.HasPrefix(p, "/")
}

// hasExt: the last path element holds a dot (CreateProcess appends
// ".exe" to a name without one, and not to "setup.").
func hasExt(p string) bool {
	return strings.Contains(p[strings.LastIndexAny(p, `\/:`)+1:], ".")
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' }

// joinWindows puts name under dir with one backslash between them;
// ".\" at name's start is dropped.
func joinWindows(dir, name string) string {
	for strings.HasPrefix(name, `.\`) || strings.HasPrefix(name, "./") {
		name = name[2:]
	}
	if dir == "" {
		return name
	}
	return strings.TrimRight(dir, `\/`) + `\` + name
}
