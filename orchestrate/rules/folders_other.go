//go:build !windows

package rules

// systemFolders is empty off Windows: the known folders are emulated.
func systemFolders() map[string]string { return nil }

// systemVar finds nothing off Windows: only the emulated folders expand.
func systemVar(string) (string, bool) { return "", false }
