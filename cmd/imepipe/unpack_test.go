package main

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imepipe/imepipe/decrypt"
	"github.com/imepipe/imepipe/internal/fixtures"
)

// rebuild rewrites an .intunewin's outer ZIP, letting edit change each entry.
func rebuild(t *testing.T, src string, edit func(name string, data []byte) []byte) []byte {
	t.Helper()
	zr, err := zip.OpenReader(src)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		data = edit(f.Name, data)
		if data == nil {
			continue
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.Name, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestUnpackBadInput(t *testing.T) {
	good := fixtures.Path(t, "7zip.intunewin")
	goodBytes, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	pkg, f, err := decrypt.OpenFile(good)
	if err != nil {
		t.Fatal(err)
	}
	_, contentOff, _ := pkg.Content.Outer()
	contentLen := pkg.ContentSize
	enc := pkg.Info.Encryption
	f.Close()
	raw := goodBytes[contentOff : contentOff+contentLen]

	flip := func(at int64) []byte {
		b := bytes.Clone(goodBytes)
		b[at] ^= 0x04
		return b
	}
	otherKey := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, 32))
	otherIV := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, 16))
	badDigest := rebuild(t, good, func(name string, data []byte) []byte {
		if strings.HasSuffix(name, "Detection.xml") {
			return bytes.Replace(data, []byte(enc.FileDigest), []byte(otherKey), 1)
		}
		return data
	})
	noDetection := rebuild(t, good, func(name string, data []byte) []byte {
		if strings.HasSuffix(name, "Detection.xml") {
			return nil
		}
		return data
	})

	cases := []struct {
		name string
		file []byte
		ext  string
		args []string
		want string // a word the one-line error must contain
	}{
		{"flipped MAC bit", flip(contentOff + 3), ".intunewin", nil, "HMAC"},
		{"flipped IV bit", flip(contentOff + 35), ".intunewin", nil, "IV"},
		{"flipped ciphertext bit", flip(contentOff + 60), ".intunewin", nil, "HMAC"},
		{"flipped last byte", flip(contentOff + contentLen - 1), ".intunewin", nil, "HMAC"},
		{"truncated package", goodBytes[:len(goodBytes)/2], ".intunewin", nil, "truncated or corrupt .intunewin"},
		{"not a zip", []byte("MZ this is an exe, not a package"), ".intunewin", nil, "not an .intunewin"},
		{"missing Detection.xml", noDetection, ".intunewin", nil, "Detection.xml"},
		{"FileDigest differs", badDigest, ".intunewin", nil, "FileDigest"},
		{"raw wrong key", raw, ".bin", []string{"--key", otherKey, "--iv", enc.InitializationVector}, "padding"},
		{"raw wrong IV", raw, ".bin", []string{"--key", enc.EncryptionKey, "--iv", otherIV}, "IV"},
		{"raw wrong key with MAC", raw, ".bin", []string{"--key", otherKey, "--iv", enc.InitializationVector, "--mac-key", enc.MacKey, "--mac", enc.Mac}, "padding"},
		{"raw truncated", raw[:len(raw)-7], ".bin", []string{"--key", enc.EncryptionKey, "--iv", enc.InitializationVector}, "truncated"},
		{"raw header only", raw[:30], ".bin", []string{"--key", enc.EncryptionKey, "--iv", enc.InitializationVector}, "truncated"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := filepath.Join(t.TempDir(), "pkg"+c.ext)
			if err := os.WriteFile(in, c.file, 0o644); err != nil {
				t.Fatal(err)
			}
			outParent := t.TempDir()
			args := append([]string{"unpack", "-o", filepath.Join(outParent, "out")}, c.args...)
			code, stdout, stderr := runCLI(t, append(args, in)...)
			if code != 1 {
				t.Fatalf("exit %d, want 1; stderr %q", code, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout not empty: %q", stdout)
			}
			if strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, c.want) {
				t.Errorf("want one line mentioning %q, got %q", c.want, stderr)
			}
			if ents, _ := os.ReadDir(outParent); len(ents) != 0 {
				t.Errorf("left behind in the output folder: %v", ents)
			}
		})
	}
}

func TestUnpackJSON(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	code, stdout, stderr := runCLI(t, "unpack", "--json", "-o", out, fixtures.Path(t, "irfanview-backslash.intunewin"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var doc struct {
		SetupFile   string `json:"setupFile"`
		ToolVersion string `json:"toolVersion"`
		Files       int    `json:"files"`
		Bytes       int64  `json:"bytes"`
		Verified    bool   `json:"verified"`
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatalf("stdout is not one JSON document: %v\n%s", err, stdout)
	}
	if doc.SetupFile != "install.ps1" || doc.ToolVersion != "1.8.4.0" || doc.Files != 4 || doc.Bytes == 0 || !doc.Verified {
		t.Errorf("unexpected %+v", doc)
	}
	if _, err := os.Stat(filepath.Join(out, "Expand", "IntunePackage.intunewin")); err != nil {
		t.Errorf("backslash path not extracted as a folder: %v", err)
	}
}

func TestInspectHidesKeys(t *testing.T) {
	path := fixtures.Path(t, "7zip.intunewin")
	key := "/MmE0ito56q2/+EId2ihAC+0UoyIQY1kp1yy+drieb0="
	for _, args := range [][]string{{"inspect", path}, {"inspect", "--json", path}} {
		code, stdout, _ := runCLI(t, args...)
		if code != 0 || strings.Contains(stdout, key) || !strings.Contains(stdout, "install.ps1") {
			t.Errorf("%v: exit %d, key shown or setup file missing:\n%s", args, code, stdout)
		}
	}
	code, stdout, _ := runCLI(t, "inspect", "--show-keys", path)
	if code != 0 || !strings.Contains(stdout, key) {
		t.Errorf("--show-keys did not show the key:\n%s", stdout)
	}
}

func TestPackRefusesExisting(t *testing.T) {
	src := t.TempDir()
	os.WriteFile(filepath.Join(src, "setup.exe"), []byte("MZ"), 0o644)
	out := t.TempDir()
	if code, _, stderr := runCLI(t, "pack", "-c", src, "-s", "setup.exe", "-o", out); code != 0 {
		t.Fatalf("first pack: %s", stderr)
	}
	before, _ := os.ReadFile(filepath.Join(out, "setup.intunewin"))
	code, _, stderr := runCLI(t, "pack", "-c", src, "-s", "setup.exe", "-o", out)
	if code != 1 || !strings.Contains(stderr, "-q") {
		t.Fatalf("second pack without -q: exit %d, %q", code, stderr)
	}
	after, _ := os.ReadFile(filepath.Join(out, "setup.intunewin"))
	if !bytes.Equal(before, after) {
		t.Fatal("existing package was changed")
	}
	if code, _, stderr := runCLI(t, "pack", "-c", src, "-s", "setup.exe", "-o", out, "-q"); code != 0 {
		t.Fatalf("pack -q: %s", stderr)
	}
	if ents, _ := os.ReadDir(out); len(ents) != 1 {
		t.Fatalf("output folder holds %v, want only the package", ents)
	}
	if code, _, _ := runCLI(t, "pack", "-c", src, "-s", "missing.exe", "-o", out, "-q"); code != 1 {
		t.Fatal("missing setup file accepted")
	}
	if code, _, _ := runCLI(t, "pack", "-c", src, "-s", "../x", "-o", out, "-q"); code != 1 {
		t.Fatal("setup file outside the folder accepted")
	}
}

// TestUnpackHints: an encrypted .bin given without keys points at
// --keys-file, and a Git LFS pointer says to run git lfs pull, each in
// one line (not "not a valid zip file"), creating nothing.
func TestUnpackHints(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "app.intunewin.bin")
	if err := os.WriteFile(bin, bytes.Repeat([]byte{0x9c, 0x41, 0x07}, 4000), 0o644); err != nil {
		t.Fatal(err)
	}
	lfs := filepath.Join(dir, "app.intunewin")
	if err := os.WriteFile(lfs, []byte("version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"unpack", "-o", filepath.Join(dir, "out1"), bin}, "--keys-file"},
		{[]string{"unpack", "-o", filepath.Join(dir, "out2"), lfs}, "git lfs pull"},
		{[]string{"inspect", lfs}, "Git LFS pointer"},
	} {
		code, stdout, stderr := runCLI(t, c.args...)
		if code != 1 || stdout != "" || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, c.want) || strings.Contains(stderr, "not a valid zip") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want one line with %q", c.args, code, stdout, stderr, c.want)
		}
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 2 {
		t.Errorf("the failed runs left %d entries in %s, want the 2 inputs", len(ents), dir)
	}
}
