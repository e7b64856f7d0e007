package rules

import (
	"path/filepath"
	"strings"
)

// foldersFromEnv reads the real known folders from a Windows environment
// (getenv is os.Getenv there): the keys KnownFolders uses, for the
// variables that are set. An agent on Windows detects apps in the real
// folders its installers write to, not under an emulated drive.
func foldersFromEnv(getenv func(string) string) map[string]string {
	m := map[string]string{}
	set := func(key, val string) {
		if val != "" {
			m[key] = val
		}
	}
	if d := getenv("SystemDrive"); d != "" {
		set("C:", d+`\`)
		set("%SYSTEMDRIVE%", d)
	}
	for _, v := range []string{
		"ProgramFiles", "ProgramW6432", "ProgramFiles(x86)", "CommonProgramFiles", "CommonProgramFiles(x86)",
		"ProgramData", "ALLUSERSPROFILE", "windir", "SystemRoot", "PUBLIC", "USERPROFILE", "APPDATA",
		"LOCALAPPDATA", "TEMP", "TMP",
	} {
		set("%"+strings.ToUpper(v)+"%", getenv(v))
	}
	return m
}

// emulatedFolders is where the known folders live on a system that has
// none: under root/Drive/C.
func emulatedFolders(root string) map[string]string {
	c := filepath.Join(root, "Drive", "C")
	return map[string]string{
		"C:":                        c,
		"%SYSTEMDRIVE%":             c,
		"%PROGRAMFILES%":            filepath.Join(c, "Program Files"),
		"%PROGRAMW6432%":            filepath.Join(c, "Program Files"),
		"%PROGRAMFILES(X86)%":       filepath.Join(c, "Program Files (x86)"),
		"%COMMONPROGRAMFILES%":      filepath.Join(c, "Program Files", "Common Files"),
		"%PROGRAMDATA%":             filepath.Join(c, "ProgramData"),
		"%ALLUSERSPROFILE%":         filepath.Join(c, "ProgramData"),
		"%WINDIR%":                  filepath.Join(c, "Windows"),
		"%SYSTEMROOT%":              filepath.Join(c, "Windows"),
		"%PUBLIC%":                  filepath.Join(c, "Users", "Public"),
		"%USERPROFILE%":             filepath.Join(c, "Users", "Default"),
		"%APPDATA%":                 filepath.Join(c, "Users", "Default", "AppData", "Roaming"),
		"%LOCALAPPDATA%":            filepath.Join(c, "Users", "Default", "AppData", "Local"),
		"%TEMP%":                    filepath.Join(c, "Windows", "Temp"),
		"%TMP%":                     filepath.Join(c, "Windows", "Temp"),
		"%COMMONPROGRAMFILES(X86)%": filepath.Join(c, "Program Files (x86)", "Common Files"),
	}
}
