package bench

import (
	"bytes"
	"compress/flate"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
)

// hashTree hashes every file's path, size, content and modification time.
func hashTree(t *testing.T, dir string) string {
	t.Helper()
	h := sha256.New()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		c := sha256.New()
		if _, err := io.Copy(c, f); err != nil {
			return err
		}
		io.WriteString(h, rel+"\x00"+fi.ModTime().UTC().String()+"\x00"+hex.EncodeToString(c.Sum(nil))+"\n")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func TestGenerateDeterministic(t *testing.T) {
	for _, p := range Profiles() {
		t.Run(string(p), func(t *testing.T) {
			const size = 3 << 20
			gen := func(seed uint64) (Dataset, string) {
				dir := filepath.Join(t.TempDir(), "setup")
				ds, err := Generate(dir, p, size, seed)
				if err != nil {
					t.Fatal(err)
				}
				tr, err := Stat(dir)
				if err != nil {
					t.Fatal(err)
				}
				if tr.Files != ds.Files || tr.Bytes != ds.Bytes || ds.Bytes != size {
					t.Fatalf("dataset %+v, tree %+v, want %d bytes", ds, tr, size)
				}
				st, err := os.Stat(filepath.Join(dir, SetupFile))
				if err != nil || !st.Mode().IsRegular() || !st.ModTime().Equal(ModTime) {
					t.Fatalf("setup file: %v, %v", st, err)
				}
				return ds, hashTree(t, dir)
			}
			_, a := gen(7)
			_, b := gen(7)
			_, c := gen(8)
			if a != b {
				t.Errorf("same seed, different trees: %s vs %s", a, b)
			}
			if a == c {
				t.Errorf("seeds 7 and 8 gave the same tree %s", a)
			}
		})
	}
}

func TestPlanShapes(t *testing.T) {
	const gib = 1 << 30
	tests := []struct {
		profile          Profile
		size             int64
		minFiles, maxFls int
		cabs, docs       int
	}{
		{Installer, gib, 4000, 6000, 4, 24},
		{Installer, 64 << 20, 200, 600, 4, 4},
		{Installer, 4 << 20, 10, 60, 4, 4},
		{ManySmall, gib, 50000, 80000, 0, 0},
		{ManySmall, 4 << 20, 150, 400, 0, 0},
		{SingleLarge, gib, 1, 1, 0, 0},
		{SingleLarge, MinSize, 1, 1, 0, 0},
	}
	for _, tt := range tests {
		files, err := plan(tt.profile, tt.size, 1)
		if err != nil {
			t.Fatalf("%s %d: %v", tt.profile, tt.size, err)
		}
		var total int64
		var cabs, docs, incompressible int
		var big int64
		seen := map[string]bool{}
		for _, f := range files {
			total += f.size
			if f.size <= 0 || seen[f.path] || !fs.ValidPath(f.path) {
				t.Fatalf("%s: bad or duplicate file %+v", tt.profile, f)
			}
			seen[f.path] = true
			switch path.Dir(f.path) {
			case "Packages":
				cabs++
				big += f.size
			case "Docs", "Config":
				docs++
			}
			if f.kind == random {
				incompressible++
			}
		}
		if total != tt.size {
			t.Errorf("%s %d: total %d bytes", tt.profile, tt.size, total)
		}
		if len(files) < tt.minFiles || len(files) > tt.maxFls {
			t.Errorf("%s %d: %d files, want %d..%d", tt.profile, tt.size, len(files), tt.minFiles, tt.maxFls)
		}
		if cabs != tt.cabs || docs != tt.docs {
			t.Errorf("%s %d: %d large and %d compressible files, want %d and %d", tt.profile, tt.size, cabs, docs, tt.cabs, tt.docs)
		}
		if tt.profile == Installer && (big < tt.size*55/100 || big > tt.size*65/100) {
			t.Errorf("installer: large files hold %d of %d bytes, want about 60%%", big, tt.size)
		}
		if files[0].path != SetupFile {
			t.Errorf("%s: first file %q, want %s", tt.profile, files[0].path, SetupFile)
		}
		if incompressible == 0 {
			t.Errorf("%s: no incompressible file", tt.profile)
		}
	}
}

func TestGenerateErrors(t *testing.T) {
	if _, err := plan(Installer, MinSize-1, 1); !errors.Is(err, ErrSize) {
		t.Errorf("too small: %v, want ErrSize", err)
	}
	if _, err := ParseProfile("huge"); !errors.Is(err, ErrProfile) {
		t.Errorf("unknown profile: %v, want ErrProfile", err)
	}
	if p, err := ParseProfile("many-small"); err != nil || p != ManySmall {
		t.Errorf("ParseProfile(many-small) = %q, %v", p, err)
	}
	dir := t.TempDir()
	keep := filepath.Join(dir, "mine.txt")
	if err := os.WriteFile(keep, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Generate(dir, SingleLarge, MinSize, 1); !errors.Is(err, ErrExists) {
		t.Errorf("non-empty folder: %v, want ErrExists", err)
	}
	if b, err := os.ReadFile(keep); err != nil || string(b) != "keep me" {
		t.Errorf("the folder's file was touched: %q, %v", b, err)
	}
}

func TestContentCompressibility(t *testing.T) {
	d := newDictionary(1)
	tests := []struct {
		kind     kind
		min, max float64 // deflated size over raw size
	}{
		{random, 0.99, 1.01},
		{text, 0.3, 0.8},
		{repetitive, 0, 0.05},
	}
	for _, tt := range tests {
		raw := make([]byte, 1<<20)
		newSource(tt.kind, 42, d).Fill(raw)
		var z bytes.Buffer
		w, _ := flate.NewWriter(&z, flate.DefaultCompression)
		w.Write(raw)
		w.Close()
		if r := float64(z.Len()) / float64(len(raw)); r < tt.min || r > tt.max {
			t.Errorf("kind %d compresses to %.3f, want %.2f..%.2f", tt.kind, r, tt.min, tt.max)
		}
		if tt.kind != random && !strings.Contains(string(raw[:4096]), " ") {
			t.Errorf("kind %d has no words", tt.kind)
		}
	}
}

func TestSourceStreamsAcrossBuffers(t *testing.T) {
	d := newDictionary(3)
	for _, k := range []kind{random, text, repetitive} {
		whole := make([]byte, 1<<16)
		newSource(k, 9, d).Fill(whole)
		parts := make([]byte, 0, len(whole))
		src := newSource(k, 9, d)
		for len(parts) < len(whole) {
			b := make([]byte, min(8*1024, len(whole)-len(parts)))
			src.Fill(b)
			parts = append(parts, b...)
		}
		if !bytes.Equal(whole, parts) {
			t.Errorf("kind %d: filling in 8 KiB pieces differs from one fill", k)
		}
	}
}

func BenchmarkSource(b *testing.B) {
	d := newDictionary(1)
	for _, k := range []struct {
		name string
		kind kind
	}{{"random", random}, {"text", text}, {"repetitive", repetitive}} {
		b.Run(k.name, func(b *testing.B) {
			buf := make([]byte, genBuf)
			src := newSource(k.kind, 1, d)
			b.SetBytes(int64(len(buf)))
			for b.Loop() {
				src.Fill(buf)
			}
		})
	}
}
