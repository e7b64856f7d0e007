package decrypt

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// needTools skips unless python3 and openssl are on PATH.
func needTools(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"python3", "openssl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("interop test needs %s on PATH: %v", tool, err)
		}
	}
}

// awkwardTree makes a setup folder with Unicode names, spaces, nested and
// empty folders, empty files and a 0-byte setup file.
func awkwardTree(t *testing.T) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "src")
	files := map[string]string{
		"setup.cmd":                    "", // a 0-byte setup file
		"ünïcødé naïve.txt":            "café ☕\n",
		"sub dir/nested/deep file.bin": strings.Repeat("imepipe\x00\x01", 40000),
		"sub dir/empty.txt":            "",
		"日本語/ファイル.txt":                 "こんにちは",
		"Fonts/x.otf":                  "OTTO",
	}
	for name, body := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(root, "empty folder"), 0o755); err != nil {
		t.Fatal(err)
	}
	return root
}

func TestInteropPackDecodedByPython(t *testing.T) {
	needTools(t)
	src := awkwardTree(t)
	out := filepath.Join(t.TempDir(), "setup.intunewin")
	if _, err := Pack(context.Background(), src, "setup.cmd", out, PackOptions{}); err != nil {
		t.Fatalf("Pack: %v", err)
	}
	dest := t.TempDir()
	cmd := exec.Command("python3", "testdata/interop.py", "decode", out, dest)
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("independent decoder rejected our package: %v\n%s", err, b)
	}
	if strings.TrimSpace(string(b)) != "setup.cmd" {
		t.Errorf("SetupFile read back as %q", b)
	}
	assertSameTree(t, src, dest)
}

func TestInteropPythonPackageUnpacks(t *testing.T) {
	needTools(t)
	src := awkwardTree(t)
	pkg := filepath.Join(t.TempDir(), "py.intunewin")
	if b, err := exec.Command("python3", "testdata/interop.py", "encode", src, "setup.cmd", pkg).CombinedOutput(); err != nil {
		t.Fatalf("independent encoder: %v\n%s", err, b)
	}
	dest := filepath.Join(t.TempDir(), "out")
	res, err := Unpack(context.Background(), pkg, dest, UnpackOptions{})
	if err != nil {
		t.Fatalf("Unpack of an independently made package: %v", err)
	}
	if !res.Open.Verified() {
		t.Fatal("not verified")
	}
	assertSameTree(t, src, dest)
}

// assertSameTree compares the regular files under two folders (empty
// folders are compared where both sides keep them).
func assertSameTree(t *testing.T, want, got string) {
	t.Helper()
	w, g := walkFiles(t, want), walkFiles(t, got)
	if len(w) != len(g) {
		t.Fatalf("file count: want %d %v, got %d %v", len(w), w, len(g), g)
	}
	for name, sum := range w {
		if g[name] != sum {
			t.Errorf("%s: content differs or missing", name)
		}
	}
	if st, err := os.Stat(filepath.Join(got, "empty folder")); err != nil || !st.IsDir() {
		t.Errorf("empty folder not kept: %v", err)
	}
}
