package rules

import "golang.org/x/sys/windows"

// underWine reports whether the tests run under Wine (its ntdll exports
// wine_get_version; Windows' does not).
func underWine() bool {
	return windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version").Find() == nil
}

// systemRegistryExpected: UseSystem sets the system registry on Windows.
const systemRegistryExpected = true
