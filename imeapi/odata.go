package imeapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// How Graph writes its JSON, and how this package reads it.

const graphNS = "microsoft.graph."

// canonicalTypes maps the folded name after "microsoft.graph." to the
// constant this package compares against.
var canonicalTypes = func() map[string]string {
	m := map[string]string{}
	for _, t := range []string{
		TypeWin32LobApp, TypeAssignment, TypeAllDevices, TypeAllUsers, TypeGroup, TypeExclusionGroup, TypeSettings,
		TypeDependency, TypeSupersedence, TypeInstallExperience, TypeReturnCode, TypeMsiInformation, TypeMinimumOS,
		TypeInstallTime, TypeRestartSettings, TypeScriptReference, TypeInstallScript, TypeUninstallScript,
		TypeFileSystemRule, TypeRegistryRule, TypeProductCodeRule, TypeScriptRule,
		TypeFileSystemDetection, TypeRegistryDetection, TypeProductCodeDetection, TypeScriptDetection,
		TypeFileSystemRequirement, TypeRegistryRequirement, TypeScriptRequirement,
	} {
		m[strings.ToLower(strings.TrimPrefix(t, "#"+graphNS))] = t
	}
	return m
}()

// CanonicalType returns an @odata.type in this package's spelling
// ("#microsoft.graph.win32LobAppRegistryRule"): Graph writes nested types
// without the "#", and scripts write the prefix in any case. A type this
// package does not know keeps its name, with "#microsoft.graph." in front
// when it had the prefix; anything else, "" included, is returned as is.
func CanonicalType(t string) string {
	s := strings.TrimSpace(t)
	s = strings.TrimPrefix(s, "#")
	if len(s) < len(graphNS) || !strings.EqualFold(s[:len(graphNS)], graphNS) {
		return t
	}
	name := s[len(graphNS):]
	if c, ok := canonicalTypes[strings.ToLower(name)]; ok {
		return c
	}
	return "#" + graphNS + name
}

// isAnnotation reports whether a JSON key is an OData annotation
// ("@odata.context", "assignments@odata.context"), not a property.
func isAnnotation(k string) bool { return strings.Contains(k, "@") }

// unwrapValue returns the object inside a {"value": …} wrapper (as a GET
// through some tools returns one app), or b unchanged. A "value" array
// must hold exactly one app.
func unwrapValue(b []byte) ([]byte, error) {
	t := bytes.TrimSpace(b)
	if len(t) == 0 || t[0] != '{' {
		return b, nil
	}
	var all map[string]json.RawMessage
	if json.Unmarshal(t, &all) != nil {
		return b, nil // the decoder reports it
	}
	var value json.RawMessage
	for k, v := range all {
		switch {
		case isAnnotation(k):
		case strings.EqualFold(k, "value"):
			value = v
		default:
			return b, nil // an app, not a wrapper
		}
	}
	v := bytes.TrimSpace(value)
	switch {
	case len(v) == 0:
		return b, nil
	case v[0] == '{':
		return v, nil
	case v[0] == '[':
		var list []json.RawMessage
		if err := json.Unmarshal(v, &list); err != nil {
			return nil, err
		}
		if len(list) != 1 {
			return nil, &FieldError{Field: "value", Err: fmt.Errorf("%w: %d apps, want one per app.json", ErrInvalid, len(list))}
		}
		return list[0], nil
	}
	return nil, &FieldError{Field: "value", Err: fmt.Errorf("%w: want the app object", ErrInvalid)}
}

// normalize applies Graph's defaults and spellings after decoding.
func (a *Win32LobApp) normalize() {
	a.ODataType = CanonicalType(a.ODataType)
	if a.Version == "" {
		a.Version = contentVersion(a.CommittedContentVersion)
	}
	for i := range a.Rules {
		r := &a.Rules[i]
		if r.ODataType == TypeProductCodeRule && r.RuleType == "" {
			r.RuleType = "detection" // the only kind a product-code rule can be
		}
	}
}

// Int64 is a Graph Int64: a JSON number, or with IEEE754Compatible=true a
// string holding one ("size": "123"). It encodes as a number.
type Int64 int64

// UnmarshalJSON accepts a number or a decimal string.
func (n *Int64) UnmarshalJSON(b []byte) error {
	s := string(bytes.TrimSpace(b))
	if s == "null" {
		return nil
	}
	if len(s) >= 2 && s[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	}
	v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		// A type error, so that the decoder names the field.
		return &json.UnmarshalTypeError{Value: "string " + strconv.Quote(s) + " (not an Int64)", Type: reflect.TypeOf(int64(0))}
	}
	*n = Int64(v)
	return nil
}
