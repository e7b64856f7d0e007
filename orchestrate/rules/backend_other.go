//go:build !windows

package rules

// systemBackend: no system registry or installer database off Windows.
func systemBackend() (Registry, Products) { return nil, nil }
