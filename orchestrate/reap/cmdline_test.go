package reap

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestFirstToken(t *testing.T) {
	for _, tc := range []struct {
		line, prog, rest string
	}{
		{`setup.exe /S`, `setup.exe`, `/S`},
		{`"setup.exe" /S /D="C:\Program Files\X"`, `setup.exe`, `/S /D="C:\Program Files\X"`},
		{`msiexec /i "Contoso App.msi" /qn`, `msiexec`, `/i "Contoso App.msi" /qn`},
		{`msiexec.exe /x {11111111-2222-3333-4444-555555555555} /qn`, `msiexec.exe`, `/x {11111111-2222-3333-4444-555555555555} /qn`},
		{`"C:\Program Files\Contoso\setup.exe" /quiet`, `C:\Program Files\Contoso\setup.exe`, `/quiet`},
		{`C:\Program Files\Contoso\setup.exe /quiet`, `C:\Program`, `Files\Contoso\setup.exe /quiet`},
		{`C:\"Program Files"\Contoso\setup.exe /a`, `C:\Program Files\Contoso\setup.exe`, `/a`},
		{`"Contoso App.msi" /qn`, `Contoso App.msi`, `/qn`},
		{`install.ps1 -Mode "Silent Install"`, `install.ps1`, `-Mode "Silent Install"`},
		{`.\install.ps1`, `.\install.ps1`, ``},
		{`powershell.exe -ExecutionPolicy Bypass -File .\install.ps1`, `powershell.exe`, `-ExecutionPolicy Bypass -File .\install.ps1`},
		{"\t  install.cmd\t /q  ", `install.cmd`, `/q  `},
		{`\\fileserver\share\setup.exe /s`, `\\fileserver\share\setup.exe`, `/s`},
		{`"C:\path\" tail`, `C:\path\`, `tail`}, // no escapes in argv[0]
		{`""setup.exe"" /S`, `setup.exe`, `/S`},
		{`setup.exe`, `setup.exe`, ``},
		{`"Setup Ü.exe" /S`, `Setup Ü.exe`, `/S`},
	} {
		t.Run(tc.line, func(t *testing.T) {
			prog, rest, err := FirstToken(tc.line)
			if err != nil {
				t.Fatal(err)
			}
			if prog != tc.prog || rest != tc.rest {
				t.Fatalf("got %q, %q; want %q, %q", prog, rest, tc.prog, tc.rest)
			}
		})
	}
}

func TestFirstTokenRejects(t *testing.T) {
	for _, line := range []string{``, `   `, "\t", `""`, `"" /S`, `"setup.exe /S`, `C:\"Program Files\setup.exe`, "setup.exe\x00 /S"} {
		t.Run(line, func(t *testing.T) {
			if prog, _, err := FirstToken(line); !errors.Is(err, ErrCommandLine) {
				t.Fatalf("got %q, %v; want ErrCommandLine", prog, err)
			}
		})
	}
}

func TestCandidates(t *testing.T) {
	for _, tc := range []struct {
		line string
		want []string
	}{
		{`setup.exe /S`, []string{`setup.exe`}},
		{`msiexec /i "Contoso App.msi" /qn`, []string{`msiexec`}},
		{`"C:\Program Files\Contoso\setup.exe" /quiet`, []string{`C:\Program Files\Contoso\setup.exe`}},
		{`C:\Program Files\Contoso\setup.exe /quiet /norestart`, []string{
			`C:\Program`,
			`C:\Program Files\Contoso\setup.exe`,
			`C:\Program Files\Contoso\setup.exe /quiet`,
			`C:\Program Files\Contoso\setup.exe /quiet /norestart`,
		}},
		{`C:\Program Files\X\setup.exe /D="C:\y z" /S`, []string{`C:\Program`, `C:\Program Files\X\setup.exe`}},
		{"  C:\\a  b.exe\t ", []string{`C:\a`, `C:\a  b.exe`}},
		{`bin\tool.exe`, []string{`bin\tool.exe`}},
	} {
		t.Run(tc.line, func(t *testing.T) {
			got, err := candidates(tc.line)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestCandidatesBounded(t *testing.T) {
	got, err := candidates(`C:\x` + strings.Repeat(" a", 1000))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != maxCandidates {
		t.Fatalf("%d candidates, want %d", len(got), maxCandidates)
	}
}

// fakeWindows is a Windows file system for lookup: the files that exist,
// and PATH.
func fakeWindows(dir string, files []string, path []string) lookup {
	set := map[string]bool{}
	for _, f := range files {
		set[strings.ToLower(f)] = true
	}
	isFile := func(p string) bool { return set[strings.ToLower(p)] }
	return lookup{
		dir:    dir,
		isFile: isFile,
		lookPath: func(name string) (string, error) {
			for _, d := range path {
				if p := d + `\` + name; isFile(p) {
					return p, nil
				}
			}
			return "", exec.ErrNotFound
		},
	}
}

func TestLookupResolve(t *testing.T) {
	const content = `C:\Windows\IMECache\app_1`
	files := []string{
		content + `\setup.exe`,
		content + `\install.cmd`,
		content + `\bin\tool.exe`,
		content + `\Contoso App.msi`,
		`C:\Windows\System32\msiexec.exe`,
		`C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`,
		`C:\Program Files\Contoso\setup.exe`,
		`\\fileserver\share\setup.exe`,
		`D:\own\msiexec.exe`,
	}
	path := []string{`C:\Windows\System32`, `C:\Windows`, `C:\Windows\System32\WindowsPowerShell\v1.0`}
	for _, tc := range []struct {
		name, dir, line, want string
	}{
		{"content folder", content, `setup.exe /S`, content + `\setup.exe`},
		{"quoted", content, `"setup.exe" /S /D="C:\Program Files\X"`, content + `\setup.exe`},
		{".exe appended", content, `setup /S`, content + `\setup.exe`},
		{"dot slash", content, `.\setup.exe /S`, content + `\setup.exe`},
		{"subfolder", content, `bin\tool.exe --quiet`, content + `\bin\tool.exe`},
		{"batch file", content, `install.cmd /q`, content + `\install.cmd`},
		{"msiexec on PATH", content, `msiexec /i "Contoso App.msi" /qn`, `C:\Windows\System32\msiexec.exe`},
		{"content folder before PATH", `D:\own`, `msiexec /i x.msi`, `D:\own\msiexec.exe`},
		{"powershell on PATH", content, `powershell -ExecutionPolicy Bypass -File install.ps1`, `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`},
		{"absolute quoted", content, `"C:\Program Files\Contoso\setup.exe" /S`, `C:\Program Files\Contoso\setup.exe`},
		{"absolute unquoted with spaces", content, `C:\Program Files\Contoso\setup.exe /S`, `C:\Program Files\Contoso\setup.exe`},
		{"absolute without extension", content, `"C:\Program Files\Contoso\setup" /S`, `C:\Program Files\Contoso\setup.exe`},
		{"UNC", content, `\\fileserver\share\setup.exe /s`, `\\fileserver\share\setup.exe`},
		{"case-insensitive", content, `SETUP.EXE`, content + `\SETUP.EXE`},
		// Found; CreateProcess then refuses it (not a program).
		{"package found as a file", content, `"Contoso App.msi" /qn`, content + `\Contoso App.msi`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := fakeWindows(tc.dir, files, path).resolve(tc.line)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.EqualFold(got, tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestLookupResolveNotFound(t *testing.T) {
	// A file that is no program (Contoso.msi) is still found: CreateProcess
	// refuses it, as it does for the IME; orchestrate runs it through
	// msiexec.
	l := fakeWindows(`C:\c`, []string{`C:\c\setup.exe`, `C:\c\Contoso.msi`, `C:\c\Contoso`}, []string{`C:\Windows\System32`})
	for _, line := range []string{
		`nothere.exe /S`,
		`C:\Program Files\Nope\setup.exe /S`,
		`..\setup.exe`,
		`Contoso /qn`, // ".exe" appended: Contoso.exe
	} {
		t.Run(line, func(t *testing.T) {
			if p, err := l.resolve(line); !errors.Is(err, exec.ErrNotFound) {
				t.Fatalf("got %q, %v; want exec.ErrNotFound", p, err)
			}
		})
	}
	if _, err := l.resolve(`"setup.exe`); !errors.Is(err, ErrCommandLine) {
		t.Fatalf("unterminated quote: %v, want ErrCommandLine", err)
	}
}

func TestStartable(t *testing.T) {
	for _, tc := range []struct {
		path string
		ok   bool
	}{
		{`C:\c\setup.exe`, true},
		{`C:\c\SETUP.EXE`, true},
		{`C:\c\tool.com`, true},
		{`C:\c\install.cmd`, true},
		{`C:\c\install.BAT`, true},
		{`C:\c\Contoso App.msi`, false},
		{`C:\c\install.ps1`, false},
		{`C:\c.d\setup`, false},
		{`C:\c\setup.exe.txt`, false},
		{`\\host\share\setup.exe`, true},
	} {
		if err := startable(tc.path); (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrCommandLine)) {
			t.Errorf("startable(%q) = %v, want ok %v", tc.path, err, tc.ok)
		}
	}
}

func TestSpecCheck(t *testing.T) {
	const rp = "result.json"
	for _, tc := range []struct {
		name        string
		goos        string
		spec        Spec
		unsupported bool // errors.ErrUnsupported too
		cmdline     bool // ErrCommandLine too
		ok          bool
	}{
		{"argv on linux", "linux", Spec{Argv: []string{"/bin/sh", "-c", "exit 0"}, ResultPath: rp}, false, false, true},
		{"argv on windows", "windows", Spec{Argv: []string{"setup.exe", "/S"}, ResultPath: rp}, false, false, true},
		{"command line on windows", "windows", Spec{CommandLine: `msiexec /i "Contoso App.msi" /qn`, ResultPath: rp}, false, false, true},
		{"command line on linux", "linux", Spec{CommandLine: `setup.exe /S`, ResultPath: rp}, true, false, false},
		{"command line on darwin", "darwin", Spec{CommandLine: `setup.exe /S`, ResultPath: rp}, true, false, false},
		{"both", "windows", Spec{Argv: []string{"setup.exe"}, CommandLine: `setup.exe /S`, ResultPath: rp}, false, false, false},
		{"neither", "windows", Spec{ResultPath: rp}, false, false, false},
		{"unterminated quote", "windows", Spec{CommandLine: `"setup.exe /S`, ResultPath: rp}, false, true, false},
		{"blank line", "windows", Spec{CommandLine: `   `, ResultPath: rp}, false, true, false},
		{"NUL", "windows", Spec{CommandLine: "setup.exe\x00", ResultPath: rp}, false, true, false},
		{"not UTF-8", "windows", Spec{CommandLine: "setup.exe /D=\xff", ResultPath: rp}, false, true, false},
		{"too long", "windows", Spec{CommandLine: "setup.exe " + strings.Repeat("x", maxCommandLine), ResultPath: rp}, false, true, false},
		{"longest", "windows", Spec{CommandLine: "setup.exe " + strings.Repeat("x", maxCommandLine-10), ResultPath: rp}, false, false, true},
		{"no result path", "windows", Spec{CommandLine: `setup.exe`}, false, false, false},
		{"user token on windows", "windows", Spec{CommandLine: `setup.exe /S`, ResultPath: rp, Credential: &Credential{Session: 1, SID: winSID}}, false, false, true},
		{"uid on windows", "windows", Spec{CommandLine: `setup.exe /S`, ResultPath: rp, Credential: &Credential{UID: 1000, GID: 1000}}, true, false, false},
		{"uid on linux", "linux", Spec{Argv: []string{"/bin/true"}, ResultPath: rp, Credential: &Credential{UID: 1000, GID: 1000}}, false, false, true},
		{"user token on linux", "linux", Spec{Argv: []string{"/bin/true"}, ResultPath: rp, Credential: &Credential{Session: 1, SID: winSID}}, true, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.spec.check(tc.goos)
			if tc.ok {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, ErrBadSpec) {
				t.Fatalf("err %v, want ErrBadSpec", err)
			}
			if got := errors.Is(err, errors.ErrUnsupported); got != tc.unsupported {
				t.Fatalf("err %v: ErrUnsupported %v, want %v", err, got, tc.unsupported)
			}
			if got := errors.Is(err, ErrCommandLine); got != tc.cmdline {
				t.Fatalf("err %v: ErrCommandLine %v, want %v", err, got, tc.cmdline)
			}
		})
	}
}

func TestWithoutReaperEnv(t *testing.T) {
	in := []string{"PATH=/bin", "IMEPIPE_REAPER=1", "imepipe_reaper_result=/x", "Imepipe_Reaper_Cmdline=evil.exe", "IMEPIPE_REAPER_LAUNCH=3", "imepipe_reaper_credential=0:0:", "IMEPIPE_REAPER_JOB=j", "IMEPIPE_REAPERX=kept", "A=IMEPIPE_REAPER=1"}
	got := withoutReaperEnv(in)
	want := []string{"PATH=/bin", "IMEPIPE_REAPERX=kept", "A=IMEPIPE_REAPER=1"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func FuzzFirstToken(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("testdata", "cmdline", "*"))
	if err != nil || len(seeds) == 0 {
		f.Fatalf("no seeds in testdata/cmdline: %v", err)
	}
	for _, p := range seeds {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(data))
	}
	f.Fuzz(func(t *testing.T, line string) {
		prog, rest, err := FirstToken(line)
		cands, cerr := candidates(line)
		if (err == nil) != (cerr == nil) {
			t.Fatalf("FirstToken err %v, candidates err %v", err, cerr)
		}
		if err != nil {
			if !errors.Is(err, ErrCommandLine) {
				t.Fatalf("error %v does not wrap ErrCommandLine", err)
			}
			return
		}
		if prog == "" || strings.ContainsAny(prog, "\"\x00") {
			t.Fatalf("program %q", prog)
		}
		if !strings.HasSuffix(line, rest) || strings.HasPrefix(rest, " ") || strings.HasPrefix(rest, "\t") {
			t.Fatalf("rest %q of %q", rest, line)
		}
		// Quoting the program and putting the rest back reads the same.
		if p2, r2, err := FirstToken(`"` + prog + `" ` + rest); err != nil || p2 != prog || r2 != rest {
			t.Fatalf("requoted: %q, %q, %v; want %q, %q", p2, r2, err, prog, rest)
		}
		if len(cands) == 0 || cands[0] != prog || len(cands) > maxCandidates {
			t.Fatalf("candidates %q for program %q", cands, prog)
		}
		trimmed := strings.TrimLeft(line, " \t")
		for _, c := range cands[1:] {
			if !strings.HasPrefix(trimmed, c) || len(c) <= len(prog) {
				t.Fatalf("candidate %q is not a longer prefix of %q", c, trimmed)
			}
		}
		if utf8.ValidString(line) && len(line) < maxCommandLine {
			if err := checkCommandLine(line); err != nil {
				t.Fatalf("checkCommandLine: %v", err)
			}
		}
	})
}
