package rules

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imepipe/imepipe/imeapi"
)

// reg runs reg.exe (Wine's or Windows') with args.
func reg(t *testing.T, args ...string) {
	t.Helper()
	out, err := exec.Command("reg.exe", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("reg %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// TestSystemRegistryRules (issue #15, acceptance 2): registry rules on an
// Env that UseSystem switched to the system registry read values written
// with reg.exe add, each type as the emulated registry holds it, and
// check32BitOn64System reads the 32-bit view (reg add /reg:32) and only it.
func TestSystemRegistryRules(t *testing.T) {
	key := `HKLM\SOFTWARE\imepipe-test-` + filepath.Base(t.TempDir())
	t.Cleanup(func() {
		_ = exec.Command("reg.exe", "delete", key, "/f", "/reg:64").Run()
		_ = exec.Command("reg.exe", "delete", key, "/f", "/reg:32").Run()
	})
	reg(t, "add", key, "/v", "Ring", "/t", "REG_SZ", "/d", "Pilot", "/f", "/reg:64")
	reg(t, "add", key, "/v", "Build", "/t", "REG_DWORD", "/d", "40", "/f", "/reg:64")
	reg(t, "add", key, "/v", "Big", "/t", "REG_QWORD", "/d", "5000000000", "/f", "/reg:64")
	reg(t, "add", key, "/v", "Version", "/t", "REG_SZ", "/d", "2.10.1", "/f", "/reg:64")
	reg(t, "add", key, "/v", "Build32", "/t", "REG_DWORD", "/d", "32", "/f", "/reg:32")
	reg(t, "add", key+`\Sub`, "/f", "/reg:64")

	env := (&Env{}).UseSystem()
	if env.Registry == nil || env.Products == nil {
		t.Fatal("UseSystem set no system backend on Windows")
	}
	r := func(name, value string, wow bool, op, operator, cmp string) imeapi.Rule {
		return imeapi.Rule{ODataType: imeapi.TypeRegistryRule, KeyPath: key, ValueName: value, Check32BitOn64System: wow,
			OperationType: op, Operator: operator, ComparisonValue: cmp}
	}
	cases := []struct {
		name string
		rule imeapi.Rule
		want bool
	}{
		{"string equal, case-insensitive", r("", "ring", false, "string", "equal", "pilot"), true},
		{"string not equal", r("", "Ring", false, "string", "notEqual", "pilot"), false},
		{"dword greater", r("", "Build", false, "integer", "greaterThan", "39"), true},
		{"dword not greater", r("", "Build", false, "integer", "greaterThan", "40"), false},
		{"qword", r("", "Big", false, "integer", "greaterThanOrEqual", "5000000000"), true},
		{"version compare", r("", "Version", false, "version", "greaterThan", "2.9"), true},
		{"key exists", r("", "", false, "exists", "", ""), true},
		{"value exists", r("", "Ring", false, "exists", "", ""), true},
		{"missing value", r("", "Nope", false, "doesNotExist", "", ""), true},
		{"missing key", imeapi.Rule{ODataType: imeapi.TypeRegistryRule, KeyPath: key + `\Absent`, OperationType: "exists"}, false},
		{"32-bit view has Build32", r("", "Build32", true, "integer", "equal", "32"), true},
		{"64-bit view lacks Build32", r("", "Build32", false, "exists", "", ""), false},
		{"32-bit view lacks Ring", r("", "Ring", true, "exists", "", ""), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, detail, err := env.Eval(context.Background(), c.rule, true)
			if err != nil || got != c.want {
				t.Fatalf("got %v (%s), %v; want %v", got, detail, err, c.want)
			}
		})
	}
	k, subs, err := env.Registry.RegQuery(key)
	if err != nil || len(k.Values) != 4 || len(subs) != 1 || subs[0] != "Sub" {
		t.Fatalf("RegQuery: %+v %v %v; want 4 values and subkey Sub", k, subs, err)
	}
	if v, err := env.Registry.RegGet(key, "Big"); err != nil || v.Data != "5000000000" || v.Type != "REG_QWORD" {
		t.Fatalf("RegGet Big: %+v %v", v, err)
	}
}

// TestWindowsInstallerAbsent: a product code nobody installed is not
// detected through msi.dll, with or without a version operator.
func TestWindowsInstallerAbsent(t *testing.T) {
	env := (&Env{}).UseSystem()
	for _, r := range []imeapi.Rule{
		{ODataType: imeapi.TypeProductCodeRule, ProductCode: "{6F1D1D2B-0000-4000-8000-00000000F00D}"},
		{ODataType: imeapi.TypeProductCodeRule, ProductCode: "{6F1D1D2B-0000-4000-8000-00000000F00D}", ProductVersionOperator: "greaterThan", ProductVersion: "0"},
	} {
		got, detail, err := env.Eval(context.Background(), r, true)
		if err != nil || got {
			t.Fatalf("absent product: %v (%s), %v", got, detail, err)
		}
	}
}

// TestWindowsInstallerProduct (issue #15, acceptance 2): an MSI built by
// wixl (scripts/windows/test.sh builds testdata/tiny.wxs and passes its
// path, product code and version) installed with msiexec /i /qn is
// detected by product code through Windows Installer, with version
// compare; after msiexec /x it is not.
func TestWindowsInstallerProduct(t *testing.T) {
	msi, code, version := os.Getenv("IMEPIPE_TEST_MSI"), os.Getenv("IMEPIPE_TEST_MSI_CODE"), os.Getenv("IMEPIPE_TEST_MSI_VERSION")
	if msi == "" || code == "" || version == "" {
		t.Skip("needs an MSI built with wixl on the Linux side: run through make test-windows")
	}
	env := (&Env{}).UseSystem()
	detect := func(op, v string) bool {
		t.Helper()
		got, detail, err := env.Eval(context.Background(), imeapi.Rule{ODataType: imeapi.TypeProductCodeRule, ProductCode: code,
			ProductVersionOperator: op, ProductVersion: v}, true)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s %s: %v (%s)", op, v, got, detail)
		return got
	}
	msiexec := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("msiexec.exe", args...).CombinedOutput(); err != nil {
			t.Fatalf("msiexec %v: %v: %s", args, err, out)
		}
	}
	// A run stopped half way (here or in e2e-msi.sh) may have left it.
	_ = exec.Command("msiexec.exe", "/x", code, "/qn").Run()
	if detect("", "") {
		t.Fatalf("%s detected before install", code)
	}
	msiexec("/i", msi, "/qn")
	t.Cleanup(func() { _ = exec.Command("msiexec.exe", "/x", code, "/qn").Run() })
	if !detect("", "") || !detect("equal", version) || !detect("greaterThanOrEqual", "1.0") || detect("greaterThan", version) {
		t.Fatalf("installed %s %s: detection or version compare wrong", code, version)
	}
	msiexec("/x", code, "/qn")
	if detect("", "") {
		t.Fatalf("%s still detected after msiexec /x", code)
	}
}

// TestPowershellArgv: script rules run the IME's PowerShell command line,
// the 32-bit host for runAs32Bit, AllSigned for enforceSignatureCheck.
func TestPowershellArgv(t *testing.T) {
	cases := []struct {
		rule imeapi.Rule
		want string
	}{
		{imeapi.Rule{}, `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe -NoProfile -ExecutionPolicy Bypass -File C:\s\a.ps1`},
		{imeapi.Rule{RunAs32Bit: true}, `C:\Windows\SysWOW64\WindowsPowerShell\v1.0\powershell.exe -NoProfile -ExecutionPolicy Bypass -File C:\s\a.ps1`},
		{imeapi.Rule{EnforceSignatureCheck: true}, `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe -NoProfile -ExecutionPolicy AllSigned -File C:\s\a.ps1`},
	}
	for _, c := range cases {
		if got := strings.Join(powershellArgv(`C:\Windows`, `C:\s\a.ps1`, c.rule), " "); got != c.want {
			t.Errorf("%+v:\n got %s\nwant %s", c.rule, got, c.want)
		}
	}
	if scriptExt != ".ps1" {
		t.Errorf("scratch scripts end in %s, want .ps1 (-File needs it)", scriptExt)
	}
}
