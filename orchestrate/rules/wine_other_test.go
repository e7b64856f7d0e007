//go:build !windows

package rules

// underWine is false off Windows.
func underWine() bool { return false }

// systemRegistryExpected: UseSystem leaves the emulated registry off Windows.
const systemRegistryExpected = false
