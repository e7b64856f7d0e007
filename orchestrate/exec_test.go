package orchestrate

import (
	"errors"
	"testing"

	"github.com/imepipe/imepipe/orchestrate/reap"
)

func TestWindowsCommandLine(t *testing.T) {
	h := winHosts{
		cmd:        `C:\Windows\system32\cmd.exe`,
		powershell: `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`,
		msiexec:    `C:\Windows\System32\msiexec.exe`,
	}
	const ps = `"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe" -NoProfile -ExecutionPolicy Bypass -File `
	for _, tc := range []struct {
		name, line, want string
	}{
		{"exe as given", `setup.exe /S`, `setup.exe /S`},
		{"quoted exe, quoted argument", `"setup.exe" /S /D="C:\Program Files\X"`, `"setup.exe" /S /D="C:\Program Files\X"`},
		{"msiexec as given", `msiexec /i "Contoso App.msi" /qn`, `msiexec /i "Contoso App.msi" /qn`},
		{"msiexec uninstall", `msiexec /x "{11111111-2222-3333-4444-555555555555}" /qn`, `msiexec /x "{11111111-2222-3333-4444-555555555555}" /qn`},
		{"backslash before quote kept", `setup.exe /D="C:\Program Files\X\\" /S`, `setup.exe /D="C:\Program Files\X\\" /S`},
		{"Program Files exe", `"C:\Program Files\Contoso\uninstall.exe" /S`, `"C:\Program Files\Contoso\uninstall.exe" /S`},
		{"blanks trimmed", "  setup.exe /S \r\n", `setup.exe /S`},
		{"powershell as given", `powershell.exe -ExecutionPolicy Bypass -File .\install.ps1 -Mode "A B"`, `powershell.exe -ExecutionPolicy Bypass -File .\install.ps1 -Mode "A B"`},
		{"powershell by path as given", `%SystemRoot%\sysnative\WindowsPowerShell\v1.0\powershell.exe -file install.ps1`, `%SystemRoot%\sysnative\WindowsPowerShell\v1.0\powershell.exe -file install.ps1`},
		{"pwsh as given", `pwsh -File install.ps1`, `pwsh -File install.ps1`},
		{"script", `install.ps1 -Mode "Silent Install"`, ps + `install.ps1 -Mode "Silent Install"`},
		{"script quoted with spaces", `".\My Script.PS1"`, ps + `".\My Script.PS1"`},
		{"batch file", `install.cmd /q`, `"C:\Windows\system32\cmd.exe" /d /s /c "install.cmd /q"`},
		{"batch file with quotes", `"my install.bat" "a b"`, `"C:\Windows\system32\cmd.exe" /d /s /c ""my install.bat" "a b""`},
		{"package", `"Contoso App.msi" /qn`, `"C:\Windows\System32\msiexec.exe" /i "Contoso App.msi" /qn`},
		{"ps1 only as the first token", `setup.exe install.ps1`, `setup.exe install.ps1`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := windowsCommandLine(tc.line, h)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("got  %s\nwant %s", got, tc.want)
			}
			// What the reaper will be given is a valid command line whose
			// first token is the host (or the line's own program).
			if _, _, err := reap.FirstToken(got); err != nil {
				t.Fatalf("result does not parse: %v", err)
			}
		})
	}
}

func TestWindowsCommandLineRejects(t *testing.T) {
	for _, line := range []string{"", "  \r\n", `"setup.exe /S`, `""`} {
		t.Run(line, func(t *testing.T) {
			got, err := windowsCommandLine(line, winHosts{cmd: "cmd.exe", powershell: "powershell.exe", msiexec: "msiexec.exe"})
			if !errors.Is(err, reap.ErrCommandLine) {
				t.Fatalf("got %q, %v; want reap.ErrCommandLine", got, err)
			}
		})
	}
}
