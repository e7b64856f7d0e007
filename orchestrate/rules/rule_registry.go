package rules

import (
	"errors"
	"fmt"
	"strings"

	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/orchestrate/state"
)

// UninstallKey is where MSI product codes are registered.
const UninstallKey = `HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall`

// wow64Key maps HKLM\SOFTWARE\X to HKLM\SOFTWARE\WOW6432Node\X, the
// 32-bit view a check32BitOn64System rule reads.
func wow64Key(key string) string {
	canon, err := state.NormalizeKey(key)
	if err != nil {
		return key
	}
	const sw = `HKEY_LOCAL_MACHINE\SOFTWARE\`
	if strings.HasPrefix(strings.ToUpper(canon), sw) && !strings.HasPrefix(strings.ToUpper(canon[len(sw):]), `WOW6432NODE\`) {
		return canon[:len(sw)] + `WOW6432Node\` + canon[len(sw):]
	}
	return canon
}

// registryRule checks the registry: exists / doesNotExist (the key, or
// the value when valueName is set), string, integer, version. For
// check32BitOn64System it reads the 32-bit view: a Viewer's View32, or
// on the emulated registry the WOW6432Node key.
func (e *Env) registryRule(r imeapi.Rule) (bool, string, error) {
	key := r.KeyPath
	reg := e.Registry
	if r.Check32BitOn64System {
		if v, ok := reg.(Viewer); ok {
			reg = v.View32()
		} else {
			key = wow64Key(key)
		}
	}
	if _, err := state.NormalizeKey(key); err != nil {
		return false, "", fmt.Errorf("rules: %w", err)
	}
	op, want := opOf(r)
	var val state.RegValue
	var err error
	if r.ValueName == "" && (strings.EqualFold(op, "exists") || strings.EqualFold(op, "doesNotExist")) {
		_, _, err = reg.RegQuery(key)
	} else {
		val, err = reg.RegGet(key, r.ValueName)
	}
	found := err == nil
	if err != nil && !errors.Is(err, state.ErrNotFound) {
		return false, "", err
	}
	where := key
	if r.ValueName != "" {
		where += `\` + r.ValueName
	}
	switch strings.ToLower(op) {
	case "exists", "notconfigured":
		return found, fmt.Sprintf("%s exists: %v", where, found), nil
	case "doesnotexist":
		return !found, fmt.Sprintf("%s exists: %v", where, found), nil
	}
	if !found {
		return false, fmt.Sprintf("%s not found", where), nil
	}
	kind := map[string]string{"string": "string", "integer": "integer", "version": "version"}[strings.ToLower(op)]
	if kind == "" {
		return false, "", fmt.Errorf("rules: registry rule operation %q: %w", op, ErrRule)
	}
	ok, err := compare(kind, r.Operator, val.Data, want)
	return ok, fmt.Sprintf("%s = %q %s %q: %v", where, val.Data, r.Operator, want, ok), err
}

// productCodeRule checks an MSI product code: through e.Products when
// set (Windows Installer), else under the Uninstall key (64- and 32-bit
// views); and its version (VersionString, DisplayVersion) when an
// operator is set.
func (e *Env) productCodeRule(r imeapi.Rule) (bool, string, error) {
	code := strings.TrimSpace(r.ProductCode)
	if code == "" || strings.ContainsAny(code, `\/`) {
		return false, "", fmt.Errorf("rules: product code %q: %w", r.ProductCode, ErrRule)
	}
	if e.Products != nil {
		installed, version, err := e.Products.Product(code)
		switch {
		case err != nil:
			return false, "", err
		case !installed:
			return false, fmt.Sprintf("product code %s not installed (Windows Installer)", code), nil
		case r.ProductVersionOperator == "" || strings.EqualFold(r.ProductVersionOperator, "notConfigured"):
			return true, fmt.Sprintf("product code %s installed (Windows Installer)", code), nil
		}
		ok, err := compare("version", r.ProductVersionOperator, version, r.ProductVersion)
		return ok, fmt.Sprintf("product code %s version %s %s %s: %v", code, version, r.ProductVersionOperator, r.ProductVersion, ok), err
	}
	for _, key := range []string{UninstallKey + `\` + code, wow64Key(UninstallKey + `\` + code)} {
		if _, _, err := e.Registry.RegQuery(key); err != nil {
			continue
		}
		if r.ProductVersionOperator == "" || strings.EqualFold(r.ProductVersionOperator, "notConfigured") {
			return true, fmt.Sprintf("product code %s found", code), nil
		}
		v, err := e.Registry.RegGet(key, "DisplayVersion")
		if err != nil {
			return false, fmt.Sprintf("product code %s found without DisplayVersion", code), nil
		}
		ok, err := compare("version", r.ProductVersionOperator, v.Data, r.ProductVersion)
		return ok, fmt.Sprintf("product code %s version %s %s %s: %v", code, v.Data, r.ProductVersionOperator, r.ProductVersion, ok), err
	}
	return false, fmt.Sprintf("product code %s not found", code), nil
}
