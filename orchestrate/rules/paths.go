package rules

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
)

// KnownFolders returns the Windows known folders as local paths: the
// real ones on Windows (from the environment), elsewhere defaults under
// root/Drive/C; over overrides both. Keys are written with percent signs
// ("%ProgramFiles%") or as a drive ("C:").
func KnownFolders(root string, over map[string]string) map[string]string {
	m := emulatedFolders(root)
	for k, v := range systemFolders() {
		m[k] = v
	}
	for k, v := range over {
		m[strings.ToUpper(k)] = v
	}
	return m
}

var envRef = regexp.MustCompile(`%[A-Za-z0-9_()]+%`)

// MapPath turns a Windows path of a rule ("%ProgramFiles%\App\app.exe",
// "C:\Tools") into a local one. A path that is already absolute in the
// local sense (/opt/app) is kept. A %VAR% that is no known folder is, on
// Windows, the process's environment variable; unknown, it is an error. On
// Windows the result keeps backslashes and must be absolute there
// (C:\…, \\server\share\…).
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
			r, ok = systemVar(v[1 : len(v)-1])
		}
		if !ok {
			bad = fmt.Errorf("rules: path %q: unknown variable %s: %w", p, v, ErrRule)
			return v
		}
		return r
	})
	if bad != nil {
		return "", bad
	}
	// A drive the rule names is mapped; one a folder expanded to is real.
	if len(p) >= 2 && p[1] == ':' {
		drive := strings.ToUpper(out[:2])
		r, ok := folders[drive]
		if !ok {
			return "", fmt.Errorf("rules: path %q: unmapped drive %s: %w", p, drive, ErrRule)
		}
		out = r + `\` + out[2:]
	}
	if filepath.Separator == '\\' {
		// Windows: the folders are real Windows paths; keep the backslashes.
		out = filepath.Clean(out)
		if !filepath.IsAbs(out) {
			return "", fmt.Errorf("rules: path %q is not absolute: %w", p, ErrRule)
		}
		return out, nil
	}
	out = strings.ReplaceAll(out, `\`, "/")
	if !strings.HasPrefix(out, "/") {
		return "", fmt.Errorf("rules: path %q is not absolute: %w", p, ErrRule)
	}
	return filepath.Clean(out), nil
}

// FolderEnv is the installer's view of the known folders as environment
// variables (ProgramFiles, ProgramFilesX86, ProgramData, SystemDrive, …).
func FolderEnv(folders map[string]string) []string {
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
