package rules

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"

	"github.com/imepipe/imepipe/orchestrate/state"
)

func systemBackend() (Registry, Products) {
	return SystemRegistry{view: registry.WOW64_64KEY}, WindowsInstaller{}
}

// SystemRegistry reads Windows' registry in one view: the 64-bit one
// (registry.WOW64_64KEY) or the 32-bit one (WOW64_32KEY, what a 32-bit
// program sees: HKLM\SOFTWARE\WOW6432Node). It only reads.
type SystemRegistry struct{ view uint32 }

// View32 is the same registry's 32-bit view.
func (r SystemRegistry) View32() Registry { return SystemRegistry{view: registry.WOW64_32KEY} }

// open opens key (HKLM\…, HKEY_LOCAL_MACHINE\…; state.NormalizeKey's
// forms) for reading; a missing key is state.ErrNotFound.
func (r SystemRegistry) open(key string) (registry.Key, string, error) {
	canon, err := state.NormalizeKey(key)
	if err != nil {
		return 0, "", err
	}
	hive, path, _ := strings.Cut(canon, `\`)
	roots := map[string]registry.Key{
		"HKEY_LOCAL_MACHINE": registry.LOCAL_MACHINE, "HKEY_CURRENT_USER": registry.CURRENT_USER,
		"HKEY_CLASSES_ROOT": registry.CLASSES_ROOT, "HKEY_USERS": registry.USERS, "HKEY_CURRENT_CONFIG": registry.CURRENT_CONFIG,
	}
	root, ok := roots[hive]
	if !ok {
		return 0, "", fmt.Errorf("rules: registry hive %s: %w", hive, state.ErrBadKey)
	}
	k, err := registry.OpenKey(root, path, registry.QUERY_VALUE|registry.ENUMERATE_SUB_KEYS|r.view)
	if errors.Is(err, registry.ErrNotExist) || errors.Is(err, windows.ERROR_FILE_NOT_FOUND) {
		return 0, "", fmt.Errorf("rules: %s: %w", canon, state.ErrNotFound)
	}
	if err != nil {
		return 0, "", fmt.Errorf("rules: open %s: %w", canon, err)
	}
	return k, canon, nil
}

// RegQuery returns key with its values and the names of its subkeys.
func (r SystemRegistry) RegQuery(key string) (state.RegKey, []string, error) {
	k, canon, err := r.open(key)
	if err != nil {
		return state.RegKey{}, nil, err
	}
	defer k.Close()
	names, err := k.ReadValueNames(-1)
	if err != nil {
		return state.RegKey{}, nil, fmt.Errorf("rules: %s: %w", canon, err)
	}
	out := state.RegKey{Path: canon}
	for _, n := range names {
		v, err := readValue(k, n)
		if err != nil {
			return state.RegKey{}, nil, fmt.Errorf("rules: %s: %w", canon, err)
		}
		out.Values = append(out.Values, v)
	}
	subs, err := k.ReadSubKeyNames(-1)
	if err != nil {
		return state.RegKey{}, nil, fmt.Errorf("rules: %s: %w", canon, err)
	}
	return out, subs, nil
}

// RegGet returns one value of key ("" the default value); a missing key
// or value is state.ErrNotFound.
func (r SystemRegistry) RegGet(key, name string) (state.RegValue, error) {
	k, canon, err := r.open(key)
	if err != nil {
		return state.RegValue{}, err
	}
	defer k.Close()
	v, err := readValue(k, name)
	if errors.Is(err, registry.ErrNotExist) || errors.Is(err, windows.ERROR_FILE_NOT_FOUND) {
		return state.RegValue{}, fmt.Errorf("rules: %s\\%s: %w", canon, name, state.ErrNotFound)
	}
	if err != nil {
		return state.RegValue{}, fmt.Errorf("rules: %s\\%s: %w", canon, name, err)
	}
	return v, nil
}

// readValue reads one value as the emulated registry holds it: decimal
// for DWORD and QWORD, hex for binary, \0 between MULTI_SZ entries.
func readValue(k registry.Key, name string) (state.RegValue, error) {
	_, typ, err := k.GetValue(name, nil)
	if err != nil {
		return state.RegValue{}, err
	}
	v := state.RegValue{Name: name}
	switch typ {
	case registry.SZ, registry.EXPAND_SZ:
		v.Type = state.RegSZ
		if typ == registry.EXPAND_SZ {
			v.Type = state.RegExpandSZ
		}
		v.Data, _, err = k.GetStringValue(name)
	case registry.DWORD, registry.QWORD:
		v.Type = state.RegDWORD
		if typ == registry.QWORD {
			v.Type = state.RegQWORD
		}
		var n uint64
		n, _, err = k.GetIntegerValue(name)
		v.Data = strconv.FormatUint(n, 10)
	case registry.MULTI_SZ:
		v.Type = state.RegMultiSZ
		var ss []string
		ss, _, err = k.GetStringsValue(name)
		v.Data = strings.Join(ss, "\x00")
	default:
		v.Type = state.RegBinary
		if typ == registry.NONE {
			v.Type = state.RegNone
		}
		var b []byte
		b, _, err = k.GetBinaryValue(name)
		if errors.Is(err, registry.ErrUnexpectedType) {
			buf := make([]byte, 64<<10)
			var n int
			n, _, err = k.GetValue(name, buf)
			b = buf[:min(n, len(buf))]
		}
		v.Data = hex.EncodeToString(b)
	}
	return v, err
}
