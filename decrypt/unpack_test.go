package decrypt

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imepipe/imepipe/internal/fixtures"
)

type manifestEntry struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

type manifestPackage struct {
	ToolVersion            string          `json:"toolVersion"`
	SetupFile              string          `json:"setupFile"`
	UnencryptedContentSize int64           `json:"unencryptedContentSize"`
	MsiProductCode         *string         `json:"msiProductCode"`
	Entries                []manifestEntry `json:"entries"`
}

// TestUnpackManifest unpacks every real fixture and compares the result
// with MANIFEST.json: the same entries (backslashes as folders), sizes and
// SHA-256, and nothing else.
func TestUnpackManifest(t *testing.T) {
	data, err := os.ReadFile(fixtures.Path(t, "MANIFEST.json"))
	if err != nil {
		t.Fatal(err)
	}
	var manifest map[string]manifestPackage
	if err := json.Unmarshal(data, &manifest); err != nil {
		t.Fatal(err)
	}
	if len(manifest) < 5 {
		t.Fatalf("manifest lists %d packages", len(manifest))
	}
	for name, want := range manifest {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "out")
			res, err := Unpack(context.Background(), fixtures.Path(t, name), dir, UnpackOptions{})
			if err != nil {
				t.Fatalf("Unpack: %v", err)
			}
			if !res.Open.Verified() {
				t.Error("not verified")
			}
			if res.Info.ToolVersion != want.ToolVersion || res.Info.SetupFile != want.SetupFile ||
				res.Info.UnencryptedContentSize != want.UnencryptedContentSize {
				t.Errorf("info %+v does not match manifest %+v", res.Info, want)
			}
			if (want.MsiProductCode == nil) != (res.Info.Msi == nil) ||
				(res.Info.Msi != nil && res.Info.Msi.MsiProductCode != *want.MsiProductCode) {
				t.Errorf("MsiInfo %+v, manifest product code %v", res.Info.Msi, want.MsiProductCode)
			}
			got := walkFiles(t, dir)
			if len(got) != len(want.Entries) {
				t.Errorf("extracted %d files, manifest has %d: %v", len(got), len(want.Entries), got)
			}
			for _, e := range want.Entries {
				rel := filepath.FromSlash(strings.ReplaceAll(e.Name, `\`, "/"))
				sum, ok := got[rel]
				if !ok {
					t.Errorf("missing %s", rel)
					continue
				}
				if sum != e.SHA256 {
					t.Errorf("%s: sha256 %s, want %s", rel, sum, e.SHA256)
				}
			}
		})
	}
}

// walkFiles returns every regular file under dir with its SHA-256.
func walkFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		h := sha256.New()
		if _, err := io.Copy(h, f); err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[rel] = hex.EncodeToString(h.Sum(nil))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestUnpackLeavesNothing: a tampered package fails and leaves no output
// folder and no staging file.
func TestUnpackLeavesNothing(t *testing.T) {
	src, err := os.ReadFile(fixtures.Path(t, "desktopinfo.intunewin"))
	if err != nil {
		t.Fatal(err)
	}
	pkg, f, err := OpenFile(fixtures.Path(t, "desktopinfo.intunewin"))
	if err != nil {
		t.Fatal(err)
	}
	_, base, _ := pkg.Content.Outer()
	f.Close()
	for _, at := range []int64{base + 5, base + 40, base + 1000, base + pkg.ContentSize - 1} {
		bad := append([]byte(nil), src...)
		bad[at] ^= 0x10
		work := t.TempDir()
		path := filepath.Join(work, "bad.intunewin")
		if err := os.WriteFile(path, bad, 0o644); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(work, "out")
		_, err := Unpack(context.Background(), path, out, UnpackOptions{})
		if !errors.Is(err, ErrMAC) && !errors.Is(err, ErrIV) {
			t.Fatalf("flip at %d: want ErrMAC or ErrIV, got %v", at, err)
		}
		ents, _ := os.ReadDir(work)
		if len(ents) != 1 {
			t.Fatalf("flip at %d: left behind %v", at, ents)
		}
	}
}
