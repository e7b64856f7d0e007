package msi_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/imepipe/imepipe/decrypt"
	"github.com/imepipe/imepipe/internal/fixtures"
	"github.com/imepipe/imepipe/msi"
)

// fixtureMSI unpacks the fixture into a temp dir and returns the MSI's
// path and the package's Detection.xml, as Microsoft's tool wrote it.
func fixtureMSI(t testing.TB) (string, *decrypt.Info) {
	t.Helper()
	fixturePath := fixtures.Path(t, "aesetup-msi.intunewin") // Microsoft's package of AESetup.msi
	dir := filepath.Join(t.TempDir(), "out")
	res, err := decrypt.Unpack(context.Background(), fixturePath, dir, decrypt.UnpackOptions{})
	if err != nil {
		t.Fatalf("unpack %s: %v", fixturePath, err)
	}
	return filepath.Join(dir, "AESetup.msi"), res.Info
}

func TestFixtureInfo(t *testing.T) {
	path, det := fixtureMSI(t)
	in, err := msi.ReadInfoFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := det.Msi
	if want == nil {
		t.Fatal("fixture Detection.xml has no MsiInfo")
	}
	got := []struct {
		name      string
		got, want any
	}{
		{"Name", in.ProductName, det.Name},
		{"MsiProductCode", in.ProductCode, want.MsiProductCode},
		{"MsiProductVersion", in.ProductVersion, want.MsiProductVersion},
		{"MsiPackageCode", in.PackageCode, want.MsiPackageCode},
		{"MsiUpgradeCode", in.UpgradeCode, want.MsiUpgradeCode},
		{"MsiExecutionContext", string(in.Context), want.MsiExecutionContext},
		{"MsiRequiresLogon", in.RequiresLogon, want.MsiRequiresLogon},
		{"MsiRequiresReboot", in.RequiresReboot, want.MsiRequiresReboot},
		{"MsiIsMachineInstall", in.MachineInstall, want.MsiIsMachineInstall},
		{"MsiIsUserInstall", in.UserInstall, want.MsiIsUserInstall},
		{"MsiIncludesServices", in.IncludesServices, want.MsiIncludesServices},
		{"MsiIncludesODBCDataSource", in.IncludesODBC, want.MsiIncludesODBCDataSource},
		{"MsiContainsSystemRegistryKeys", in.SystemRegistryKeys, want.MsiContainsSystemRegistryKeys},
		{"MsiContainsSystemFolders", in.SystemFolders, want.MsiContainsSystemFolders},
		{"MsiPublisher", in.Manufacturer, want.MsiPublisher},
	}
	for _, g := range got {
		if g.got != g.want {
			t.Errorf("%s = %#v, Microsoft's tool wrote %#v", g.name, g.got, g.want)
		}
	}
	t.Logf("%+v", in)
}

// BenchmarkReadInfo reads the fixture's MSI from memory; SetBytes is the
// whole file, though only its metadata streams are read.
func BenchmarkReadInfo(b *testing.B) {
	path, _ := fixtureMSI(b)
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := msi.ReadInfo(bytes.NewReader(data), int64(len(data))); err != nil {
			b.Fatal(err)
		}
	}
}
