package rules

import (
	"context"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/orchestrate/state"
)

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestRulesOnEmulatedRegistryAndFiles(t *testing.T) {
	dir := t.TempDir()
	st, err := state.Open(filepath.Join(dir, "state.db"), 0)
	must(t, err)
	defer st.Close()
	// On Windows the folders would be the real ones: point them into dir.
	c := filepath.Join(dir, "Drive", "C")
	folders := KnownFolders(dir, map[string]string{"C:": c,
		"%PROGRAMFILES%": filepath.Join(c, "Program Files"), "%PROGRAMFILES(X86)%": filepath.Join(c, "Program Files (x86)")})
	env := &Env{Registry: st, Folders: folders, Scripts: Scripts{Dir: dir, Timeout: DefaultScriptTimeout, Env: os.Environ()}}
	reg := func(key, name, typ, data string) {
		v, err := state.ParseValue(name, typ, data)
		must(t, err)
		must(t, st.RegAdd(key, &v))
	}
	reg(UninstallKey+`\{A39A1B33-CEB9-4875-BA5B-980AD93D91FC}`, "DisplayVersion", "REG_SZ", "1.2.0")
	reg(`HKLM\SOFTWARE\WOW6432Node\Contoso`, "Build", "REG_DWORD", "0x20")
	reg(`HKLM\SOFTWARE\Contoso`, "Ring", "REG_SZ", "Pilot")
	pf := filepath.Join(folders["%PROGRAMFILES%"], "App")
	must(t, os.MkdirAll(pf, 0o755))
	must(t, os.WriteFile(filepath.Join(pf, "big.bin"), make([]byte, 3<<20), 0o644))
	script := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

	cases := []struct {
		name   string
		rule   imeapi.Rule
		detect bool
		want   bool
	}{
		{"msi code", imeapi.Rule{ODataType: imeapi.TypeProductCodeDetection, ProductCode: "{A39A1B33-CEB9-4875-BA5B-980AD93D91FC}"}, true, true},
		{"msi version ge", imeapi.Rule{ODataType: imeapi.TypeProductCodeRule, ProductCode: "{A39A1B33-CEB9-4875-BA5B-980AD93D91FC}", ProductVersionOperator: "greaterThanOrEqual", ProductVersion: "1.10"}, true, false},
		{"msi version lt", imeapi.Rule{ODataType: imeapi.TypeProductCodeRule, ProductCode: "{A39A1B33-CEB9-4875-BA5B-980AD93D91FC}", ProductVersionOperator: "lessThan", ProductVersion: "1.10"}, true, true},
		{"msi absent", imeapi.Rule{ODataType: imeapi.TypeProductCodeRule, ProductCode: "{00000000-0000-0000-0000-000000000001}"}, true, false},
		{"reg string equal, case-insensitive", imeapi.Rule{ODataType: imeapi.TypeRegistryRule, KeyPath: `HKEY_LOCAL_MACHINE\Software\contoso`, ValueName: "ring", OperationType: "string", Operator: "equal", ComparisonValue: "pilot"}, true, true},
		{"reg integer wow64", imeapi.Rule{ODataType: imeapi.TypeRegistryDetection, KeyPath: `HKLM\SOFTWARE\Contoso`, ValueName: "Build", Check32BitOn64System: true, DetectionType: "integer", Operator: "greaterThan", DetectionValue: "31"}, true, true},
		{"reg integer 64-bit view lacks it", imeapi.Rule{ODataType: imeapi.TypeRegistryDetection, KeyPath: `HKLM\SOFTWARE\Contoso`, ValueName: "Build", DetectionType: "integer", Operator: "greaterThan", DetectionValue: "31"}, true, false},
		{"reg key exists", imeapi.Rule{ODataType: imeapi.TypeRegistryRule, KeyPath: `HKLM\SOFTWARE\Contoso`, OperationType: "exists"}, true, true},
		{"reg key doesNotExist", imeapi.Rule{ODataType: imeapi.TypeRegistryRule, KeyPath: `HKLM\SOFTWARE\Fabrikam`, OperationType: "doesNotExist"}, true, true},
		{"file size", imeapi.Rule{ODataType: imeapi.TypeFileSystemRule, Path: `%ProgramFiles%\App`, FileOrFolderName: "big.bin", OperationType: "sizeInMB", Operator: "greaterThanOrEqual", ComparisonValue: "3"}, true, true},
		{"file size too small", imeapi.Rule{ODataType: imeapi.TypeFileSystemRule, Path: `%ProgramFiles%\App`, FileOrFolderName: "big.bin", OperationType: "sizeInMB", Operator: "greaterThan", ComparisonValue: "3"}, true, false},
		{"folder exists via C:", imeapi.Rule{ODataType: imeapi.TypeFileSystemDetection, Path: `C:\Program Files`, FileOrFolderName: "App", DetectionType: "exists"}, true, true},
		{"file doesNotExist", imeapi.Rule{ODataType: imeapi.TypeFileSystemRule, Path: `%ProgramFiles%\App`, FileOrFolderName: "nope.exe", OperationType: "doesNotExist"}, true, true},
		{"x86 program files", imeapi.Rule{ODataType: imeapi.TypeFileSystemRule, Path: `%ProgramFiles%\App`, FileOrFolderName: "big.bin", Check32BitOn64System: true, OperationType: "exists"}, true, false},
		{"modified after 2000", imeapi.Rule{ODataType: imeapi.TypeFileSystemRule, Path: `%ProgramFiles%\App`, FileOrFolderName: "big.bin", OperationType: "modifiedDate", Operator: "greaterThan", ComparisonValue: "2000-01-01T00:00:00Z"}, true, true},
		{"script detected", imeapi.Rule{ODataType: imeapi.TypeScriptDetection, ScriptContent: script("echo found; exit 0")}, true, true},
		{"script exit 0 silent", imeapi.Rule{ODataType: imeapi.TypeScriptDetection, ScriptContent: script("exit 0")}, true, false},
		{"script output but exit 1", imeapi.Rule{ODataType: imeapi.TypeScriptRule, RuleType: "detection", ScriptContent: script("echo found; exit 1")}, true, false},
		{"script requirement boolean", imeapi.Rule{ODataType: imeapi.TypeScriptRequirement, ScriptContent: script("echo True"), DetectionType: "boolean", Operator: "equal", DetectionValue: "true"}, false, true},
		{"script requirement version", imeapi.Rule{ODataType: imeapi.TypeScriptRule, RuleType: "requirement", ScriptContent: script("echo 10.0.19045"), OperationType: "version", Operator: "greaterThanOrEqual", ComparisonValue: "10.0.17763"}, false, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			switch c.rule.ODataType {
			case imeapi.TypeScriptDetection, imeapi.TypeScriptRule, imeapi.TypeScriptRequirement:
				skipWithoutScriptHost(t) // these lines read the same in sh and PowerShell
			}
			got, detail, err := env.Eval(context.Background(), c.rule, c.detect)
			if err != nil || got != c.want {
				t.Fatalf("got %v (%s), %v; want %v", got, detail, err, c.want)
			}
		})
	}
	bad := []imeapi.Rule{
		{ODataType: "#microsoft.graph.somethingElse"},
		{ODataType: imeapi.TypeFileSystemRule, Path: `%NOPE%\x`, OperationType: "exists"},
		{ODataType: imeapi.TypeFileSystemRule, Path: `%ProgramFiles%`, FileOrFolderName: `..\..\etc`, OperationType: "exists"},
		{ODataType: imeapi.TypeRegistryRule, KeyPath: `HKXX\Foo`, OperationType: "exists"},
		{ODataType: imeapi.TypeRegistryRule, KeyPath: `HKLM\SOFTWARE\Contoso`, ValueName: "Ring", OperationType: "string", Operator: "sideways", ComparisonValue: "x"},
		{ODataType: imeapi.TypeScriptDetection, ScriptContent: "not base64!"},
	}
	for i, r := range bad {
		if _, _, err := env.Eval(context.Background(), r, true); !errors.Is(err, ErrRule) && !errors.Is(err, state.ErrBadKey) {
			t.Errorf("bad rule %d: %v, want ErrRule", i, err)
		}
	}
}

func TestMapPath(t *testing.T) {
	f := KnownFolders("/r", map[string]string{"D:": "/data"})
	cases := []struct{ in, want string }{
		{`%ProgramFiles%\App\app.exe`, "/r/Drive/C/Program Files/App/app.exe"},
		{`%programdata%\X`, "/r/Drive/C/ProgramData/X"},
		{`C:\Tools`, "/r/Drive/C/Tools"},
		{`D:\x\..\y`, "/data/y"},
		{"/opt/app", "/opt/app"},
	}
	if runtime.GOOS == "windows" {
		// Windows paths stay Windows paths; a drive a folder expanded to
		// is not mapped again.
		f = KnownFolders(`C:\r`, map[string]string{"C:": `C:\r\Drive\C`, "D:": `C:\data`,
			"%PROGRAMFILES%": `C:\Program Files`, "%PROGRAMDATA%": `C:\ProgramData`})
		cases = []struct{ in, want string }{
			{`%ProgramFiles%\App\app.exe`, `C:\Program Files\App\app.exe`},
			{`%programdata%\X`, `C:\ProgramData\X`},
			{`C:\Tools`, `C:\r\Drive\C\Tools`},
			{`D:\x\..\y`, `C:\data\y`},
			{`%IMEPIPE_RULES_TEST_DIR%\app.exe`, `C:\from-env\app.exe`}, // any environment variable, as the IME
		}
		t.Setenv("IMEPIPE_RULES_TEST_DIR", `C:\from-env`)
	}
	for _, c := range cases {
		got, err := MapPath(c.in, f, false)
		if err != nil || got != c.want {
			t.Errorf("MapPath(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	for _, in := range []string{`E:\x`, `%UNKNOWN%\x`, `relative\x`} {
		if _, err := MapPath(in, f, false); !errors.Is(err, ErrRule) {
			t.Errorf("MapPath(%q): %v, want ErrRule", in, err)
		}
	}
}
