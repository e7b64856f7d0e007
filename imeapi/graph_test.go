package imeapi

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"
)

func TestCanonicalType(t *testing.T) {
	for in, want := range map[string]string{
		"microsoft.graph.win32LobAppRegistryRule":          TypeRegistryRule,
		"#microsoft.graph.win32LobAppRegistryRule":         TypeRegistryRule,
		"#Microsoft.Graph.Win32LobAppRegistryRule":         TypeRegistryRule,
		"MICROSOFT.GRAPH.allLicensedUsersAssignmentTarget": TypeAllUsers,
		"microsoft.graph.somethingNew":                     "#microsoft.graph.somethingNew",
		"":                                                 "",
		"#other.ns.win32LobApp":                            "#other.ns.win32LobApp",
	} {
		if got := CanonicalType(in); got != want {
			t.Errorf("CanonicalType(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestInt64(t *testing.T) {
	var v struct{ Size Int64 }
	for in, want := range map[string]Int64{`{"Size":123}`: 123, `{"Size":"123"}`: 123, `{"Size":" 9007199254740993 "}`: 9007199254740993, `{"Size":null}`: 0} {
		v.Size = 0
		if err := json.Unmarshal([]byte(in), &v); err != nil || v.Size != want {
			t.Errorf("%s: %d %v, want %d", in, v.Size, err, want)
		}
	}
	var te *json.UnmarshalTypeError
	if err := json.Unmarshal([]byte(`{"Size":"1e3"}`), &v); !errors.As(err, &te) || te.Field != "Size" {
		t.Errorf("1e3: %v, want a type error naming Size", err)
	}
	if b, _ := json.Marshal(struct{ Size Int64 }{7}); string(b) != `{"Size":7}` {
		t.Errorf("encodes as %s", b)
	}
}

func TestEffectiveArchitectures(t *testing.T) {
	cases := []struct {
		applicable, allowed string
		want                []string
		on, off             string
	}{
		{"", "", nil, "arm", ""},
		{"neutral", "", nil, "x86", ""},
		{"x64", "", []string{"x64", "arm64"}, "arm64", "x86"},
		{"none", "x64", []string{"x64", "arm64"}, "x64", "x86"},
		{"none", "arm64", []string{"arm64"}, "arm64", "x64"},
		{"none", "x86,arm64", []string{"x86", "arm64"}, "x86", "x64"},
		{"x86", "none", []string{"x86"}, "x86", "x64"},
		{"none", "", []string{}, "", "x64"},
	}
	for _, c := range cases {
		a := Win32LobApp{ApplicableArchitectures: c.applicable, AllowedArchitectures: c.allowed}
		got := a.EffectiveArchitectures()
		if !slices.Equal(got, c.want) || (got == nil) != (c.want == nil) {
			t.Errorf("%q/%q: %v, want %v", c.applicable, c.allowed, got, c.want)
		}
		if c.on != "" && !a.AllowsArchitecture(c.on) {
			t.Errorf("%q/%q: %s refused", c.applicable, c.allowed, c.on)
		}
		if c.off != "" && a.AllowsArchitecture(c.off) {
			t.Errorf("%q/%q: %s allowed", c.applicable, c.allowed, c.off)
		}
	}
}

func TestMinimumOS(t *testing.T) {
	var m MinimumOS
	if err := json.Unmarshal([]byte(`{"@odata.type":"microsoft.graph.windowsMinimumOperatingSystem","v10_1809":true,"v10_2004":true,"v8_0":false}`), &m); err != nil {
		t.Fatal(err)
	}
	if m.ODataType != TypeMinimumOS || m.Minimum() != "v10_1809" {
		t.Errorf("%+v minimum %s", m, m.Minimum())
	}
	b, _ := json.Marshal(m)
	var back MinimumOS
	if err := json.Unmarshal(b, &back); err != nil || back.Minimum() != "v10_1809" || back.ODataType != TypeMinimumOS {
		t.Errorf("round trip %s: %+v %v", b, back, err)
	}
}
