package imeapi

import "strings"

// EffectiveArchitectures is the set of device architectures the app
// installs on, as Intune decides it: allowedArchitectures when set (Graph
// then writes applicableArchitectures "none"), else
// applicableArchitectures. An arm64 device runs x64 apps in emulation, so
// x64 brings arm64 with it; "neutral" means every architecture. nil
// means no restriction (neither field set, or neutral); an empty,
// non-nil set means none.
func (a *Win32LobApp) EffectiveArchitectures() []string {
	list := a.AllowedArchitectures
	if strings.TrimSpace(list) == "" || strings.EqualFold(strings.TrimSpace(list), "none") {
		list = a.ApplicableArchitectures
	}
	if strings.TrimSpace(list) == "" {
		return nil
	}
	out := []string{}
	add := func(x string) {
		for _, have := range out {
			if have == x {
				return
			}
		}
		out = append(out, x)
	}
	for _, x := range strings.Split(list, ",") {
		switch x = strings.ToLower(strings.TrimSpace(x)); x {
		case "neutral":
			return nil
		case "none", "":
		case "x64":
			add("x64")
			add("arm64")
		default:
			add(x)
		}
	}
	return out
}

// AllowsArchitecture reports whether a device of architecture arch (x86,
// x64, arm, arm64) may install the app (see EffectiveArchitectures).
func (a *Win32LobApp) AllowsArchitecture(arch string) bool {
	set := a.EffectiveArchitectures()
	if set == nil {
		return true
	}
	for _, x := range set {
		if strings.EqualFold(x, arch) {
			return true
		}
	}
	return false
}
