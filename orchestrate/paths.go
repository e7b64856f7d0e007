package orchestrate

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
)

// KnownFolders returns the Windows known folders as local paths: the
// defaults under root/Drive/C, overridden by over. Keys are written with
// percent signs ("%ProgramFiles%") or as a drive ("C:").
func KnownFolders(root string, over map[string]string) map[string]string {
	c := filepath.Join(root, "Drive", "C")
	m := map[string]string{
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
	for k, v := range over {
		m[strings.ToUpper(k)] = v
	}
	return m
}

var envRef = regexp.MustCompile(`%[A-Za-z0-9_()]+%`)

// MapPath turns a Windows path of a rule ("%ProgramFiles%\App\app.exe",
// "C:\Tools") into a local one. A path that is already absolute in the
// local sense (/opt/app) is kept. An unknown %VAR% is an error.
func MapPath(p string, folders map[string]string, wow64 bool) (string, error) {
	if strings.HasPrefix(p, "/") {
		return filepath.Clean(p), nil
	}
	var bad error
	out := envRef.ReplaceAllStringFunc(p, func(v string) string {
		key := strings.ToUpper(v)
		if wow64 {
			switch key {
			case "%PROGRAMFILES%":
				key = "%PROGRAMFILES(X86)%"
			case "%COMMONPROGRAMFILES%":
				key = "%COMMONPROGRAMFILES(X86)%"
			}
		}
		r, ok := folders[key]
		if !ok {
			bad = fmt.Errorf("orchestrate: path %q: unknown variable %s: %w", p, v, ErrRule)
			return v
		}
		return r
	})
	if bad != nil {
		return "", bad
	}
	if len(out) >= 2 && out[1] == ':' {
		drive := strings.ToUpper(out[:2])
		r, ok := folders[drive]
		if !ok {
			return "", fmt.Errorf("orchestrate: path %q: unmapped drive %s: %w", p, drive, ErrRule)
		}
		out = r + `\` + out[2:]
	}
	out = strings.ReplaceAll(out, `\`, "/")
	if !strings.HasPrefix(out, "/") {
		return "", fmt.Errorf("orchestrate: path %q is not absolute: %w", p, ErrRule)
	}
	return filepath.Clean(out), nil
}

// folderEnv is the installer's view of the known folders as environment
// variables (ProgramFiles, ProgramFilesX86, ProgramData, SystemDrive, …).
func folderEnv(folders map[string]string) []string {
	names := map[string]string{
		"SystemDrive": "%SYSTEMDRIVE%", "ProgramFiles": "%PROGRAMFILES%", "ProgramFilesX86": "%PROGRAMFILES(X86)%",
		"ProgramData": "%PROGRAMDATA%", "windir": "%WINDIR%", "SystemRoot": "%SYSTEMROOT%", "APPDATA": "%APPDATA%",
		"LOCALAPPDATA": "%LOCALAPPDATA%", "PUBLIC": "%PUBLIC%", "USERPROFILE": "%USERPROFILE%", "ALLUSERSPROFILE": "%ALLUSERSPROFILE%",
	}
	var env []string
	for n, k := range names {
		env = append(env, n+"="+folders[k])
	}
	return env
}
