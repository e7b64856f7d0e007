//go:build !windows

package orchestrate

// systemFolders is empty off Windows: the known folders are emulated.
func systemFolders() map[string]string { return nil }
