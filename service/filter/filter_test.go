package filter

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEval(t *testing.T) {
	surface := map[string]string{"manufacturer": "Microsoft Corporation", "model": "Surface Laptop 5", "deviceName": "PC-1"}
	cases := []struct {
		rule  string
		props map[string]string
		want  bool
	}{
		{`device.model -eq "surface laptop 5"`, surface, true}, // values case-insensitive
		{`DEVICE.MODEL -EQ "Surface Laptop 5"`, surface, true}, // names and operators too
		{`device.model -ne "Surface Laptop 5"`, surface, false},
		{`device.model -startsWith "Surface"`, surface, true},
		{`device.model -notStartsWith "Surface"`, surface, false},
		{`device.model -endsWith "5"`, surface, true},
		{`device.model -notEndsWith "5"`, surface, false},
		{`device.model -contains "laptop"`, surface, true},
		{`device.model -notContains "laptop"`, surface, false},
		{`device.deviceName -in ["pc-1", "PC-2"]`, surface, true},
		{`device.deviceName -notIn ['PC-1']`, surface, false},
		{`device.deviceCategory -eq ""`, surface, true}, // a property not reported is empty
		{`device.model -eq "X" or device.deviceName -eq "PC-1"`, surface, true},
		{`device.model -eq "X" or device.deviceName -eq "PC-1" and device.manufacturer -eq "Y"`, surface, false}, // and binds tighter
		{`(device.model -eq "X" or device.deviceName -eq "PC-1") and device.manufacturer -eq "microsoft corporation"`, surface, true},
		{`device.model -eq "X" or (device.deviceName -eq "PC-1" and device.manufacturer -eq "Y")`, surface, false},
	}
	for _, c := range cases {
		r, err := Parse(c.rule)
		if err != nil {
			t.Errorf("%s: %v", c.rule, err)
			continue
		}
		if got := r.Eval(c.props); got != c.want {
			t.Errorf("%s: %v, want %v", c.rule, got, c.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct{ rule, msg string }{
		{``, "the end of the rule"},
		{`device.colour -eq "red"`, "unknown property"},
		{`model -eq "x"`, "device property"},
		{`device.model -like "x"`, "operator"},
		{`device.model -eq x`, "quoted value"},
		{`device.model -eq "x`, "unterminated"},
		{`device.model -in "x"`, "list"},
		{`device.model -in ["x" "y"]`, ", or ]"},
		{`(device.model -eq "x"`, "want )"},
		{`device.model -eq "x" device.model -eq "y"`, "and, or"},
		{`device.model -eq "x" and`, "the end of the rule"},
		{`device.model -eq "x" ; rm`, "unexpected"},
		{strings.Repeat("(", 100) + `device.model -eq "x"` + strings.Repeat(")", 100), "deeper"},
	}
	for _, c := range cases {
		_, err := Parse(c.rule)
		if !errors.Is(err, ErrSyntax) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%q: %v, want ErrSyntax mentioning %q", c.rule, err, c.msg)
		}
	}
}

func TestReadFile(t *testing.T) {
	fs, err := ReadFile("testdata/filters.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 2 {
		t.Fatalf("%d filters, want 2", len(fs))
	}
	f := fs["9c2f3b6e-1d4a-4e8b-9f0a-5b7c8d9e0f11"]
	if f == nil || f.Err != nil || f.DisplayName != "Surface devices" {
		t.Fatalf("surface filter: %+v", f)
	}
	if !f.Rule.Eval(map[string]string{"manufacturer": "Microsoft Corporation", "model": "Surface Pro 9"}) ||
		f.Rule.Eval(map[string]string{"manufacturer": "Dell Inc.", "model": "Surface Pro 9"}) {
		t.Error("surface filter evaluates wrong")
	}
	dir := t.TempDir()
	for name, body := range map[string]string{
		"array": `[{"id":"a","platform":"windows10AndLater","rule":"device.model -eq \"x\""},{"id":"b","rule":"device.model -eq"},{"id":"c","platform":"iOS","rule":"device.model -eq \"x\""}]`,
	} {
		p := filepath.Join(dir, name+".json")
		os.WriteFile(p, []byte(body), 0o644)
		fs, err := ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if fs["a"].Err != nil || fs["b"].Err == nil || !errors.Is(fs["b"].Err, ErrSyntax) || fs["c"].Err == nil || !strings.Contains(fs["c"].Err.Error(), "platform") {
			t.Errorf("%s: a %v, b %v, c %v", name, fs["a"].Err, fs["b"].Err, fs["c"].Err)
		}
	}
	if fs, err := ReadFile(filepath.Join(dir, "none.json")); err != nil || len(fs) != 0 {
		t.Errorf("missing file: %v %v", fs, err)
	}
	for name, body := range map[string]string{
		"syntax":  `[{"id":`,
		"noid":    `[{"rule":"device.model -eq \"x\""}]`,
		"twice":   `[{"id":"A","rule":"device.model -eq \"x\""},{"id":"a","rule":"device.model -eq \"x\""}]`,
		"novalue": `{"filters":[]}`,
	} {
		if _, err := Decode(name, []byte(body)); !errors.Is(err, ErrFile) {
			t.Errorf("%s: %v, want ErrFile", name, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/rule-*.txt")
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(data))
	}
	props := map[string]string{"model": "Surface", "deviceName": "LAB-1"}
	f.Fuzz(func(t *testing.T, rule string) {
		r, err := Parse(rule)
		if err != nil {
			if !errors.Is(err, ErrSyntax) {
				t.Fatalf("error without ErrSyntax: %v", err)
			}
			return
		}
		a := r.Eval(props)
		if b := r.Eval(props); a != b {
			t.Fatal("evaluation is not deterministic")
		}
	})
}
