package msi

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// msiWith builds an MSI whose Property table holds a valid base set of
// properties overridden by props ("" deletes one), plus tables.
func msiWith(props map[string]string, tables ...testTable) testMSI {
	base := map[string]string{
		"ProductCode":    "{A39A1B33-CEB9-4875-BA5B-980AD93D91FC}",
		"ProductVersion": "1.2.3",
		"ProductName":    "Test Product",
		"Manufacturer":   "Acme",
		"UpgradeCode":    "{9c48e0ac-1427-4615-8a5b-f2e7f01848f4}",
		"ALLUSERS":       "1",
	}
	for k, v := range props {
		if v == "" {
			delete(base, k)
		} else {
			base[k] = v
		}
	}
	var kv []string
	for _, k := range []string{"ProductCode", "ProductVersion", "ProductName", "Manufacturer", "UpgradeCode", "ALLUSERS", "MSIINSTALLPERUSER", "REBOOT", "Big"} {
		if v, ok := base[k]; ok {
			kv = append(kv, k, v)
		}
	}
	return testMSI{
		codepage: 1252,
		tables:   append([]testTable{propertyTable(kv...)}, tables...),
		summary:  map[uint32]any{1: int16(1252), 3: "Summary Subject", 4: "Summary Author", 9: "{712AD9AE-A5E8-4F31-9BAC-BA3997370490}", 15: int32(2)},
	}
}

func registryTable(name string, roots ...any) testTable {
	t := testTable{name: name, cols: []Column{{name, tS72}, {"Root", tI2}, {"Key", tL0}}}
	for i, r := range roots {
		t.rows = append(t.rows, []any{name + string(rune('a'+i)), r, `SOFTWARE\Test`})
	}
	return t
}

func keyTable(name string, keys ...string) testTable {
	t := testTable{name: name, cols: []Column{{name, tS72}, {"Other", tL0}}}
	for _, k := range keys {
		t.rows = append(t.rows, []any{k, "x"})
	}
	return t
}

func readBuilt(t *testing.T, m testMSI) (Info, error) {
	t.Helper()
	b, _ := m.build()
	return ReadInfo(bytes.NewReader(b), int64(len(b)))
}

func TestReadInfoRules(t *testing.T) {
	type want struct {
		ctx                          Context
		logon, reboot, machine, user bool
		odbc, regKeys, folders       bool
		services                     int
		name, manufacturer           string
	}
	sys := want{ctx: ContextSystem, machine: true, name: "Test Product", manufacturer: "Acme"}
	with := func(w want, f func(*want)) want { f(&w); return w }
	cases := []struct {
		name string
		m    testMSI
		want want
	}{
		{"ALLUSERS=1", msiWith(nil), sys},
		{"ALLUSERS absent", msiWith(map[string]string{"ALLUSERS": ""}),
			with(sys, func(w *want) { w.ctx, w.logon, w.machine, w.user = ContextUser, true, false, true })},
		{"ALLUSERS=2", msiWith(map[string]string{"ALLUSERS": "2"}), with(sys, func(w *want) { w.ctx = ContextAny })},
		{"ALLUSERS=2 MSIINSTALLPERUSER=1", msiWith(map[string]string{"ALLUSERS": "2", "MSIINSTALLPERUSER": "1"}),
			with(sys, func(w *want) { w.ctx, w.machine, w.user = ContextAny, false, true })},
		{"REBOOT=Force", msiWith(map[string]string{"REBOOT": "Force"}), with(sys, func(w *want) { w.reboot = true })},
		{"REBOOT=ReallySuppress", msiWith(map[string]string{"REBOOT": "ReallySuppress"}), sys},
		{"HKLM key", msiWith(nil, registryTable("Registry", int32(1), int32(2))), with(sys, func(w *want) { w.regKeys = true })},
		{"HKCU key only", msiWith(nil, registryTable("Registry", int32(1), int32(0))), sys},
		{"HKU removal", msiWith(nil, registryTable("RemoveRegistry", int32(3))), with(sys, func(w *want) { w.regKeys = true })},
		{"root -1 machine", msiWith(nil, registryTable("Registry", int32(-1))), with(sys, func(w *want) { w.regKeys = true })},
		{"root -1 user", msiWith(map[string]string{"ALLUSERS": ""}, registryTable("Registry", int32(-1))),
			with(sys, func(w *want) { w.ctx, w.logon, w.machine, w.user = ContextUser, true, false, true })},
		{"system folder", msiWith(nil, keyTable("Directory", "TARGETDIR", "systemfolder")), with(sys, func(w *want) { w.folders = true })},
		{"program files only", msiWith(nil, keyTable("Directory", "TARGETDIR", "ProgramFilesFolder")), sys},
		{"ODBC", msiWith(nil, keyTable("ODBCDataSource", "dsn")), with(sys, func(w *want) { w.odbc = true })},
		{"ODBC table empty", msiWith(nil, keyTable("ODBCDataSource")), sys},
		{"services", msiWith(nil, keyTable("ServiceInstall", "svc1", "svc2")), with(sys, func(w *want) { w.services = 2 })},
		{"summary fallbacks", msiWith(map[string]string{"ProductName": "", "Manufacturer": ""}),
			with(sys, func(w *want) { w.name, w.manufacturer = "Summary Subject", "Summary Author" })},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in, err := readBuilt(t, tc.m)
			if err != nil {
				t.Fatal(err)
			}
			got := want{in.Context, in.RequiresLogon, in.RequiresReboot, in.MachineInstall, in.UserInstall,
				in.IncludesODBC, in.SystemRegistryKeys, in.SystemFolders, in.Services, in.ProductName, in.Manufacturer}
			if got != tc.want {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
			if in.IncludesServices {
				t.Error("IncludesServices is true; Microsoft's tool writes false")
			}
			if in.ProductCode != "{A39A1B33-CEB9-4875-BA5B-980AD93D91FC}" || in.UpgradeCode != "{9c48e0ac-1427-4615-8a5b-f2e7f01848f4}" ||
				in.PackageCode != "{712AD9AE-A5E8-4F31-9BAC-BA3997370490}" || in.ProductVersion != "1.2.3" {
				t.Errorf("codes not kept as stored: %+v", in)
			}
		})
	}
}

func TestReadInfoRefuses(t *testing.T) {
	cases := []struct {
		name string
		m    testMSI
		want string
	}{
		{"ALLUSERS=0", msiWith(map[string]string{"ALLUSERS": "0"}), "ALLUSERS"},
		{"ALLUSERS= 1", msiWith(map[string]string{"ALLUSERS": " 1"}), "ALLUSERS"},
		{"no ProductCode", msiWith(map[string]string{"ProductCode": ""}), "ProductCode"},
		{"no ProductVersion", msiWith(map[string]string{"ProductVersion": ""}), "ProductVersion"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := readBuilt(t, tc.m)
			if !errors.Is(err, ErrProperty) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrProperty naming %s", err, tc.want)
			}
		})
	}
}

// The storage variants: sector size 4096, three-byte string references,
// strings of 64 KiB and more, code pages.
func TestReadInfoEncodings(t *testing.T) {
	long := strings.Repeat("L", 70000)
	cases := []struct {
		name      string
		m         testMSI
		wantName  string
		wantMaker string
	}{
		{"v4", func() testMSI { m := msiWith(nil); m.major = 4; return m }(), "Test Product", "Acme"},
		{"long refs", func() testMSI { m := msiWith(nil); m.longRefs = true; return m }(), "Test Product", "Acme"},
		{"long string", msiWith(map[string]string{"ProductName": long}), long, "Acme"},
		{"long string v4 long refs", func() testMSI {
			m := msiWith(map[string]string{"ProductName": long})
			m.major, m.longRefs = 4, true
			return m
		}(), long, "Acme"},
		{"cp1252", msiWith(map[string]string{"ProductName": "Caf\xe9\x99", "Manufacturer": "M\xfcller"}), "Café™", "Müller"},
		{"utf-8", func() testMSI {
			m := msiWith(map[string]string{"ProductName": "Café™", "Manufacturer": "Müller"})
			m.codepage = 65001
			return m
		}(), "Café™", "Müller"},
		{"cp932", func() testMSI {
			m := msiWith(map[string]string{"ProductName": "A\x82\xa0", "Manufacturer": "\x83\x5c\x83\x74\x83\x67"})
			m.codepage = 932
			return m
		}(), "Aあ", "ソフト"},
		{"cp1251", func() testMSI {
			m := msiWith(map[string]string{"ProductName": "\xcf\xf0\xee\xe3\xf0\xe0\xec\xec\xe0"})
			m.codepage = 1251
			return m
		}(), "Программа", "Acme"},
		{"cp936", func() testMSI {
			m := msiWith(map[string]string{"ProductName": "\xb2\xe2\xca\xd4"})
			m.codepage = 936
			return m
		}(), "测试", "Acme"},
		{"unknown code page", func() testMSI {
			m := msiWith(map[string]string{"ProductName": "A\xc1"})
			m.codepage = 37 // EBCDIC: not decoded
			return m
		}(), "A\uFFFD", "Acme"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in, err := readBuilt(t, tc.m)
			if err != nil {
				t.Fatal(err)
			}
			if in.ProductName != tc.wantName || in.Manufacturer != tc.wantMaker {
				t.Errorf("ProductName %.40q Manufacturer %q, want %.40q %q", in.ProductName, in.Manufacturer, tc.wantName, tc.wantMaker)
			}
			if in.Summary.WordCount != 2 || in.Summary.Codepage != 1252 {
				t.Errorf("summary %+v", in.Summary)
			}
		})
	}
}

func TestStreamNames(t *testing.T) {
	for _, n := range []string{"_StringPool", "Property", "ServiceInstall", "A.b_9", "x", "Binary.WixCA"} {
		for _, table := range []bool{false, true} {
			got := decodeName(encodeName(n, table))
			if got.name != n || got.table != table {
				t.Errorf("round trip of %q (table %v) = %+v", n, table, got)
			}
		}
	}
	// Real names from the fixture: 0x4840 prefix and packed pairs.
	if got := decodeName([]uint16{0x4840, 0x3f3f, 0x4577, 0x446c, 0x3b6a, 0x45e4, 0x4824}); got.name != "_StringData" || !got.table {
		t.Errorf("decodeName = %+v, want table _StringData", got)
	}
}
