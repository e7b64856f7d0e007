package stage

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/imepipe/imepipe/internal/fixtures"
)

// fixtureZips maps each committed inner ZIP to its .intunewin in MANIFEST.json.
var fixtureZips = map[string]string{
	"7zip.zip":                "7zip.intunewin",
	"irfanview-backslash.zip": "irfanview-backslash.intunewin",
	"chocolatey-tool1.4.zip":  "chocolatey-tool1.4.intunewin",
}

type manifestEntry struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

func readManifest(t *testing.T) map[string][]manifestEntry {
	t.Helper()
	b, err := os.ReadFile(fixtures.Path(t, "MANIFEST.json"))
	if err != nil {
		t.Fatalf("fixture manifest: %v", err)
	}
	var m map[string]struct {
		Entries []manifestEntry `json:"entries"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	out := map[string][]manifestEntry{}
	for k, v := range m {
		out[k] = v.Entries
	}
	return out
}

func extractFile(t *testing.T, zipPath, dir string, opt Options) (Result, error) {
	t.Helper()
	b, err := os.ReadFile(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	return Extract(context.Background(), bytes.NewReader(b), int64(len(b)), dir, opt)
}

func TestExtractFixtures(t *testing.T) {
	manifest := readManifest(t)
	for zipName, fixture := range fixtureZips {
		t.Run(zipName, func(t *testing.T) {
			want, ok := manifest[fixture]
			if !ok {
				t.Fatalf("%s not in manifest", fixture)
			}
			dir := filepath.Join(t.TempDir(), "out")
			res, err := extractFile(t, filepath.Join("testdata", zipName), dir, Options{Workers: 2})
			if err != nil {
				t.Fatal(err)
			}
			if res.Files != len(want) {
				t.Errorf("files = %d, want %d", res.Files, len(want))
			}
			var total int64
			for _, e := range want {
				total += e.Size
				p := filepath.Join(dir, filepath.FromSlash(strings.ReplaceAll(e.Name, `\`, "/")))
				b, err := os.ReadFile(p)
				if err != nil {
					t.Errorf("%s: %v", e.Name, err)
					continue
				}
				sum := sha256.Sum256(b)
				if int64(len(b)) != e.Size || hex.EncodeToString(sum[:]) != e.SHA256 {
					t.Errorf("%s: size %d sha256 %x, want %d %s", e.Name, len(b), sum, e.Size, e.SHA256)
				}
				fi, _ := os.Stat(p)
				if fi.Mode().Perm()&0o600 != 0o600 || fi.Mode().Perm()&0o111 != 0 {
					t.Errorf("%s: mode %v, want 0644 (less umask)", e.Name, fi.Mode())
				}
			}
			if res.Bytes != total {
				t.Errorf("bytes = %d, want %d", res.Bytes, total)
			}
			if _, err := os.Stat(dir + ".partial"); !errors.Is(err, os.ErrNotExist) {
				t.Errorf(".partial left behind: %v", err)
			}
		})
	}
}

// TestPlanBatches: a big file is a batch of its own; other files go in
// runs of one directory, at most maxBatch long.
func TestPlanBatches(t *testing.T) {
	f := func(parent int, size uint64) fileEntry { return fileEntry{parent: parent, size: size} }
	p := &plan{files: []fileEntry{f(1, bigFile), f(0, 1), f(0, 2), f(2, 3), f(2, bigFile), f(2, 4)}}
	for range maxBatch + 1 {
		p.files = append(p.files, f(3, 5))
	}
	var got []int
	for _, b := range p.batches() {
		got = append(got, len(b))
	}
	want := []int{1, 2, 1, 1, 1, maxBatch, 1}
	if !slices.Equal(got, want) {
		t.Fatalf("batch sizes %v, want %v", got, want)
	}
	if len((&plan{}).batches()) != 0 {
		t.Fatal("an empty plan has batches")
	}
}
