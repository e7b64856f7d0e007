package decrypt

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/imepipe/imepipe/internal/fixtures"
	"github.com/imepipe/imepipe/msi"
)

// msiFixture unpacks Microsoft's package of AESetup.msi into a temp dir
// and returns that folder and the package's Detection.xml.
func msiFixture(t *testing.T) (string, *Info) {
	t.Helper()
	path := fixtures.Path(t, "aesetup-msi.intunewin")
	dir := filepath.Join(t.TempDir(), "setup")
	res, err := Unpack(context.Background(), path, dir, UnpackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Info.Msi == nil {
		t.Fatal("fixture Detection.xml has no MsiInfo")
	}
	return dir, res.Info
}

func TestPackMsiInfo(t *testing.T) {
	setup, want := msiFixture(t)
	for _, name := range []string{"AESetup.msi", "AESETUP.MSI"} {
		t.Run(name, func(t *testing.T) {
			if name != "AESetup.msi" {
				if err := os.Rename(filepath.Join(setup, "AESetup.msi"), filepath.Join(setup, name)); err != nil {
					t.Fatal(err)
				}
				defer os.Rename(filepath.Join(setup, name), filepath.Join(setup, "AESetup.msi"))
			}
			out := filepath.Join(t.TempDir(), "out.intunewin")
			res, err := Pack(context.Background(), setup, name, out, PackOptions{})
			if err != nil {
				t.Fatal(err)
			}
			pkg, f, err := OpenFile(out)
			if err != nil {
				t.Fatal(err)
			}
			f.Close()
			got := pkg.Info
			if got.Name != "AutoElevate" || got.Name != want.Name {
				t.Errorf("Name = %q, want %q", got.Name, want.Name)
			}
			if got.SetupFile != name {
				t.Errorf("SetupFile = %q, want %q", got.SetupFile, name)
			}
			if got.Msi == nil || *got.Msi != *want.Msi {
				t.Errorf("MsiInfo = %+v\nwant      %+v", got.Msi, want.Msi)
			}
			if res.Info.Msi == nil || *res.Info.Msi != *want.Msi {
				t.Errorf("PackResult MsiInfo = %+v", res.Info.Msi)
			}
			// The MsiInfo element is byte-for-byte Microsoft's.
			if a, b := msiElement(t, got.Marshal()), msiElement(t, want.Marshal()); !bytes.Equal(a, b) {
				t.Errorf("MsiInfo XML differs:\n%s\nwant\n%s", a, b)
			}
		})
	}
}

func msiElement(t *testing.T, doc []byte) []byte {
	t.Helper()
	i, j := bytes.Index(doc, []byte("<MsiInfo>")), bytes.Index(doc, []byte("</MsiInfo>"))
	if i < 0 || j < i {
		t.Fatalf("no MsiInfo element in\n%s", doc)
	}
	return doc[i:j]
}

func TestPackBrokenMsi(t *testing.T) {
	setup, _ := msiFixture(t)
	good, err := os.ReadFile(filepath.Join(setup, "AESetup.msi"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, msi.ErrFormat},
		{"not a compound file", []byte("MZ this is an exe renamed to .msi, padded to be long enough" + string(make([]byte, 600))), msi.ErrFormat},
		{"truncated", good[:len(good)/3], msi.ErrFormat},
		{"header only", good[:512], msi.ErrFormat},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			src := filepath.Join(dir, "setup")
			if err := os.Mkdir(src, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(src, "bad.Msi"), tc.data, 0o644); err != nil {
				t.Fatal(err)
			}
			outDir := filepath.Join(dir, "out")
			if err := os.Mkdir(outDir, 0o755); err != nil {
				t.Fatal(err)
			}
			_, err := Pack(context.Background(), src, "bad.Msi", filepath.Join(outDir, "bad.intunewin"), PackOptions{})
			if !errors.Is(err, tc.want) {
				t.Fatalf("Pack = %v, want an error wrapping %v", err, tc.want)
			}
			if left, _ := os.ReadDir(outDir); len(left) != 0 {
				t.Errorf("failed pack left %d files in the output folder", len(left))
			}
		})
	}
}

// A setup file that is not an MSI keeps its file name and no MsiInfo.
func TestPackNonMsiHasNoMsiInfo(t *testing.T) {
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "setup.msix"), []byte("not an msi"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "x.intunewin")
	res, err := Pack(context.Background(), src, "setup.msix", out, PackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Info.Name != "setup.msix" || res.Info.Msi != nil {
		t.Errorf("Info = %+v, want Name setup.msix and no MsiInfo", res.Info)
	}
}
