package rules

// Viewer is a Registry with a real 32-bit view (Windows' registry): a
// check32BitOn64System rule reads View32 instead of rewriting its key to
// HKLM\SOFTWARE\WOW6432Node, as the rules do on the emulated registry.
type Viewer interface {
	Registry
	View32() Registry
}

// Products answers MSI product code rules (Windows Installer on Windows).
// Without one (Env.Products nil) the rules look the code up under the
// registry's Uninstall key, as on the emulated registry.
type Products interface {
	// Product reports whether the product is installed for the machine or
	// the user, and its VersionString ("" when not installed).
	Product(code string) (installed bool, version string, err error)
}

// UseSystem makes e read this system's own registry and installer
// database where it has them (Windows: the registry through
// x/sys/windows/registry with 64- and 32-bit views, MSI product codes
// through msi.dll). Elsewhere it changes nothing: the emulated registry
// stays. It returns e.
func (e *Env) UseSystem() *Env {
	if reg, products := systemBackend(); reg != nil {
		e.Registry, e.Products = reg, products
	}
	return e
}
