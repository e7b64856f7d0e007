package state

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// ErrBadKey: a registry key path or value that reg.exe would refuse.
var ErrBadKey = errors.New("invalid registry key or value")

// Registry value types (reg.exe's /t names).
const (
	RegSZ       = "REG_SZ"
	RegExpandSZ = "REG_EXPAND_SZ"
	RegMultiSZ  = "REG_MULTI_SZ"
	RegDWORD    = "REG_DWORD"
	RegQWORD    = "REG_QWORD"
	RegBinary   = "REG_BINARY"
	RegNone     = "REG_NONE"
)

var hives = map[string]string{
	"HKLM": "HKEY_LOCAL_MACHINE", "HKEY_LOCAL_MACHINE": "HKEY_LOCAL_MACHINE",
	"HKCU": "HKEY_CURRENT_USER", "HKEY_CURRENT_USER": "HKEY_CURRENT_USER",
	"HKCR": "HKEY_CLASSES_ROOT", "HKEY_CLASSES_ROOT": "HKEY_CLASSES_ROOT",
	"HKU": "HKEY_USERS", "HKEY_USERS": "HKEY_USERS",
	"HKCC": "HKEY_CURRENT_CONFIG", "HKEY_CURRENT_CONFIG": "HKEY_CURRENT_CONFIG",
}

// RegValue is one named, typed value. Name "" is the key's default value.
// Data is the value as text: decimal for DWORD and QWORD, hex for BINARY,
// entries separated by \0 for MULTI_SZ.
type RegValue struct {
	Name string `json:"name"`
	Type string `json:"type"`
	Data string `json:"data"`
}

// Uint returns a DWORD or QWORD value as a number.
func (v RegValue) Uint() (uint64, error) {
	if v.Type != RegDWORD && v.Type != RegQWORD {
		return 0, fmt.Errorf("state: %s is %s, not a number: %w", v.Name, v.Type, ErrBadKey)
	}
	return strconv.ParseUint(v.Data, 10, 64)
}

// RegKey is one key and its values.
type RegKey struct {
	Path   string     `json:"path"`
	Values []RegValue `json:"values"`
}

// NormalizeKey returns the canonical form of a key path
// ("HKLM\Software\X" → "HKEY_LOCAL_MACHINE\Software\X").
func NormalizeKey(path string) (string, error) {
	parts := strings.Split(strings.Trim(strings.ReplaceAll(path, "/", `\`), `\`), `\`)
	hive, ok := hives[strings.ToUpper(parts[0])]
	if !ok {
		return "", fmt.Errorf("state: key %q: unknown root (want HKLM, HKCU, HKCR, HKU or HKCC): %w", path, ErrBadKey)
	}
	parts[0] = hive
	for _, p := range parts[1:] {
		if p == "" {
			return "", fmt.Errorf("state: key %q: empty component: %w", path, ErrBadKey)
		}
	}
	return strings.Join(parts, `\`), nil
}

// ParseValue checks and normalises data for a type, as reg add /t /d does.
func ParseValue(name, typ, data string) (RegValue, error) {
	typ = strings.ToUpper(typ)
	if typ == "" {
		typ = RegSZ
	}
	v := RegValue{Name: name, Type: typ, Data: data}
	switch typ {
	case RegSZ, RegExpandSZ, RegNone:
	case RegMultiSZ:
		v.Data = strings.ReplaceAll(data, `\0`, "\x00")
	case RegDWORD, RegQWORD:
		bits := 32
		if typ == RegQWORD {
			bits = 64
		}
		if data == "" {
			data = "0"
		}
		n, err := strconv.ParseUint(data, 0, bits)
		if err != nil {
			return v, fmt.Errorf("state: value %q: %s data %q: %w", name, typ, data, ErrBadKey)
		}
		v.Data = strconv.FormatUint(n, 10)
	case RegBinary:
		if _, err := hex.DecodeString(data); err != nil {
			return v, fmt.Errorf("state: value %q: REG_BINARY data must be hex: %w", name, ErrBadKey)
		}
		v.Data = strings.ToLower(data)
	default:
		return v, fmt.Errorf("state: value %q: unknown type %q: %w", name, typ, ErrBadKey)
	}
	return v, nil
}

func regID(canon string) []byte { return []byte(strings.ToLower(canon)) }

// RegAdd creates key (and, implicitly, its parents) and, when v is not
// nil, sets the value (replacing one of the same name).
func (s *Store) RegAdd(key string, v *RegValue) error {
	canon, err := NormalizeKey(key)
	if err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRegistry)
		k := RegKey{Path: canon}
		if raw := b.Get(regID(canon)); raw != nil {
			if err := json.Unmarshal(raw, &k); err != nil {
				return fmt.Errorf("state: registry %s: %w", canon, err)
			}
		}
		if v != nil {
			k.Values = setValue(k.Values, *v)
		}
		return putJSON(b, regID(canon), k)
	})
}

func setValue(vals []RegValue, v RegValue) []RegValue {
	for i := range vals {
		if strings.EqualFold(vals[i].Name, v.Name) {
			vals[i] = v
			return vals
		}
	}
	vals = append(vals, v)
	sort.Slice(vals, func(i, j int) bool { return strings.ToLower(vals[i].Name) < strings.ToLower(vals[j].Name) })
	return vals
}

// RegQuery returns a key, its values and the names of its direct subkeys.
// A key that only exists as a parent of another has no values.
func (s *Store) RegQuery(key string) (RegKey, []string, error) {
	canon, err := NormalizeKey(key)
	if err != nil {
		return RegKey{}, nil, err
	}
	k := RegKey{Path: canon}
	found := false
	subs := map[string]string{}
	err = s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRegistry)
		id := regID(canon)
		if raw := b.Get(id); raw != nil {
			found = true
			if err := json.Unmarshal(raw, &k); err != nil {
				return err
			}
		}
		prefix := append(append([]byte(nil), id...), '\\')
		c := b.Cursor()
		for ck, v := c.Seek(prefix); ck != nil && strings.HasPrefix(string(ck), string(prefix)); ck, v = c.Next() {
			found = true
			var sk RegKey
			if err := json.Unmarshal(v, &sk); err != nil {
				return err
			}
			rest := sk.Path[len(canon)+1:]
			name, _, _ := strings.Cut(rest, `\`)
			subs[strings.ToLower(name)] = name
		}
		return nil
	})
	if err != nil {
		return k, nil, fmt.Errorf("state: registry %s: %w", canon, err)
	}
	if !found {
		return k, nil, fmt.Errorf("state: registry key %s: %w", canon, ErrNotFound)
	}
	names := make([]string, 0, len(subs))
	for _, n := range subs {
		names = append(names, n)
	}
	sort.Strings(names)
	return k, names, nil
}

// RegGet returns one value of a key (name "" is the default value).
func (s *Store) RegGet(key, name string) (RegValue, error) {
	k, _, err := s.RegQuery(key)
	if err != nil {
		return RegValue{}, err
	}
	for _, v := range k.Values {
		if strings.EqualFold(v.Name, name) {
			return v, nil
		}
	}
	return RegValue{}, fmt.Errorf("state: registry value %s\\%s: %w", k.Path, name, ErrNotFound)
}

// RegDeleteValue removes one value; all removes every value of the key.
func (s *Store) RegDeleteValue(key, name string, all bool) error {
	canon, err := NormalizeKey(key)
	if err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRegistry)
		raw := b.Get(regID(canon))
		if raw == nil {
			return fmt.Errorf("state: registry key %s: %w", canon, ErrNotFound)
		}
		var k RegKey
		if err := json.Unmarshal(raw, &k); err != nil {
			return err
		}
		if all {
			k.Values = nil
			return putJSON(b, regID(canon), k)
		}
		for i, v := range k.Values {
			if strings.EqualFold(v.Name, name) {
				k.Values = append(k.Values[:i], k.Values[i+1:]...)
				return putJSON(b, regID(canon), k)
			}
		}
		return fmt.Errorf("state: registry value %s\\%s: %w", canon, name, ErrNotFound)
	})
}

// RegDeleteKey removes a key and every subkey.
func (s *Store) RegDeleteKey(key string) error {
	canon, err := NormalizeKey(key)
	if err != nil {
		return err
	}
	if len(strings.Split(canon, `\`)) < 2 {
		return fmt.Errorf("state: refusing to delete a root key %s: %w", canon, ErrBadKey)
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRegistry)
		id := regID(canon)
		var doomed [][]byte
		if b.Get(id) != nil {
			doomed = append(doomed, id)
		}
		prefix := string(id) + `\`
		c := b.Cursor()
		for k, _ := c.Seek([]byte(prefix)); k != nil && strings.HasPrefix(string(k), prefix); k, _ = c.Next() {
			doomed = append(doomed, append([]byte(nil), k...))
		}
		if len(doomed) == 0 {
			return fmt.Errorf("state: registry key %s: %w", canon, ErrNotFound)
		}
		for _, k := range doomed {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}
