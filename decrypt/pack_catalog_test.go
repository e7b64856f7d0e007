package decrypt

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// packFolder writes a small setup folder with setup.exe in it.
func packFolder(t *testing.T) string {
	t.Helper()
	src := filepath.Join(t.TempDir(), "setup")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "setup.exe"), bytes.Repeat([]byte("MZ"), 5000), 0o644); err != nil {
		t.Fatal(err)
	}
	return src
}

// TestPackCatalogs: every file of CatalogFolder is in the package under
// CatalogsPath with its bytes; the package still opens and unpacks to
// the setup folder alone (catalogs are not content).
func TestPackCatalogs(t *testing.T) {
	src := packFolder(t)
	cat := filepath.Join(t.TempDir(), "catalogs")
	os.MkdirAll(cat, 0o755)
	want := map[string]string{"app.cat": "catalog one", "Helper.CAT": "catalog two"}
	for n, d := range want {
		if err := os.WriteFile(filepath.Join(cat, n), []byte(d), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(t.TempDir(), "setup.intunewin")
	if _, err := Pack(context.Background(), src, "setup.exe", out, PackOptions{CatalogFolder: cat}); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.OpenReader(out)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	got := map[string]string{}
	for _, f := range zr.File {
		if n, ok := strings.CutPrefix(f.Name, CatalogsPath); ok {
			rc, _ := f.Open()
			b, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				t.Fatalf("%s: %v", f.Name, err)
			}
			got[n] = string(b)
		}
	}
	if len(got) != len(want) || got["app.cat"] != want["app.cat"] || got["Helper.CAT"] != want["Helper.CAT"] {
		t.Fatalf("catalog entries %v, want %v", got, want)
	}
	dir := filepath.Join(t.TempDir(), "x")
	res, err := Unpack(context.Background(), out, dir, UnpackOptions{})
	if err != nil || res.Extract.Files != 1 {
		t.Fatalf("unpack: %v, %d files", err, res.Extract.Files)
	}
}

// TestPackCatalogRefusals: a catalog folder with a subfolder, or none at
// all, fails the pack before anything is written.
func TestPackCatalogRefusals(t *testing.T) {
	src := packFolder(t)
	withSub := filepath.Join(t.TempDir(), "cats")
	os.MkdirAll(filepath.Join(withSub, "sub"), 0o755)
	empty := filepath.Join(t.TempDir(), "empty")
	os.MkdirAll(empty, 0o755)
	for _, cat := range []string{withSub, empty, filepath.Join(t.TempDir(), "missing")} {
		outDir := t.TempDir()
		_, err := Pack(context.Background(), src, "setup.exe", filepath.Join(outDir, "setup.intunewin"), PackOptions{CatalogFolder: cat})
		if err == nil {
			t.Errorf("%s: packed", cat)
		}
		if ents, _ := os.ReadDir(outDir); len(ents) != 0 {
			t.Errorf("%s: left %d files in the output folder", cat, len(ents))
		}
	}
}
