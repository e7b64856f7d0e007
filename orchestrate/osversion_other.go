//go:build !windows

package orchestrate

// hostOSVersion is "" off Windows: Config.OSVersion or DefaultOSVersion stands for it.
func hostOSVersion() string { return "" }
