package rules

import (
	"runtime"
	"testing"
)

// TestFoldersFromEnv: on Windows the known folders are the environment's,
// keyed as rules write them; unset variables keep the emulated default.
func TestFoldersFromEnv(t *testing.T) {
	env := map[string]string{
		"SystemDrive":       "D:",
		"ProgramFiles":      `D:\Program Files`,
		"ProgramFiles(x86)": `D:\Program Files (x86)`,
		"ProgramData":       `D:\ProgramData`,
		"windir":            `D:\Windows`,
	}
	got := foldersFromEnv(func(k string) string { return env[k] })
	want := map[string]string{
		"C:":                  `D:\`,
		"%SYSTEMDRIVE%":       "D:",
		"%PROGRAMFILES%":      `D:\Program Files`,
		"%PROGRAMFILES(X86)%": `D:\Program Files (x86)`,
		"%PROGRAMDATA%":       `D:\ProgramData`,
		"%WINDIR%":            `D:\Windows`,
	}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	// Off Windows nothing real overrides the emulated folders (on Windows the
	// process's own environment does, which the first half covers).
	if runtime.GOOS == "windows" {
		return
	}
	m := KnownFolders("/root", map[string]string{"%ProgramData%": "/pd"})
	if m["%PROGRAMFILES%"] != "/root/Drive/C/Program Files" || m["%PROGRAMDATA%"] != "/pd" {
		t.Errorf("KnownFolders: %v", m)
	}
}
