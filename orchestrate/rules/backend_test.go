package rules

import (
	"context"
	"testing"

	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/orchestrate/state"
)

// fakeProducts is an installer database with fixed products.
type fakeProducts map[string]string

func (f fakeProducts) Product(code string) (bool, string, error) {
	v, ok := f[code]
	return ok, v, nil
}

// fakeRegistry holds one value per key; view32 is its 32-bit view.
type fakeRegistry struct {
	vals   map[string]string
	view32 *fakeRegistry
}

func (f *fakeRegistry) RegQuery(key string) (state.RegKey, []string, error) {
	if _, ok := f.vals[key]; !ok {
		return state.RegKey{}, nil, state.ErrNotFound
	}
	return state.RegKey{Path: key}, nil, nil
}

func (f *fakeRegistry) RegGet(key, name string) (state.RegValue, error) {
	v, ok := f.vals[key]
	if !ok {
		return state.RegValue{}, state.ErrNotFound
	}
	return state.RegValue{Name: name, Type: state.RegSZ, Data: v}, nil
}

func (f *fakeRegistry) View32() Registry { return f.view32 }

// TestProductsAndViewer: with Env.Products set, product code rules ask it
// (not the Uninstall key) and compare its version; a Viewer registry's
// View32 answers check32BitOn64System, with the key path unchanged.
func TestProductsAndViewer(t *testing.T) {
	const code = "{6F1D1D2B-15A1-4E5B-9C3D-1B2C3D4E5F15}"
	r32 := &fakeRegistry{vals: map[string]string{`HKLM\SOFTWARE\X`: "32"}}
	env := &Env{Products: fakeProducts{code: "1.2.3"}, Registry: &fakeRegistry{vals: map[string]string{`HKLM\SOFTWARE\X`: "64"}, view32: r32}}
	cases := []struct {
		rule imeapi.Rule
		want bool
	}{
		{imeapi.Rule{ODataType: imeapi.TypeProductCodeRule, ProductCode: code}, true},
		{imeapi.Rule{ODataType: imeapi.TypeProductCodeRule, ProductCode: code, ProductVersionOperator: "greaterThanOrEqual", ProductVersion: "1.2"}, true},
		{imeapi.Rule{ODataType: imeapi.TypeProductCodeRule, ProductCode: code, ProductVersionOperator: "greaterThan", ProductVersion: "1.2.3"}, false},
		{imeapi.Rule{ODataType: imeapi.TypeProductCodeRule, ProductCode: "{00000000-0000-0000-0000-000000000001}"}, false},
		{imeapi.Rule{ODataType: imeapi.TypeRegistryRule, KeyPath: `HKLM\SOFTWARE\X`, ValueName: "v", OperationType: "string", Operator: "equal", ComparisonValue: "64"}, true},
		{imeapi.Rule{ODataType: imeapi.TypeRegistryRule, KeyPath: `HKLM\SOFTWARE\X`, ValueName: "v", Check32BitOn64System: true, OperationType: "string", Operator: "equal", ComparisonValue: "32"}, true},
	}
	for i, c := range cases {
		got, detail, err := env.Eval(context.Background(), c.rule, true)
		if err != nil || got != c.want {
			t.Errorf("case %d: %v (%s), %v; want %v", i, got, detail, err, c.want)
		}
	}
	if e := (&Env{}).UseSystem(); (e.Registry != nil) != (systemRegistryExpected) {
		t.Errorf("UseSystem set Registry %T", e.Registry)
	}
}
