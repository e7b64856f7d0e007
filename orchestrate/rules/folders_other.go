//go:build !windows

package rules

// systemFolders is empty off Windows: the known folders are emulated.
func systemFolders() map[string]string { return nil }
