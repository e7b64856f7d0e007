package decrypt

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestPackIntoSetupFolder: with the output folder the setup folder itself
// (-o the same as -c), the package holds the folder's files and not
// itself: not its temporary file, and with Replace (-q) not the earlier
// package it replaces. Another .intunewin the user put there is packed
// like any file. The same when -o names the folder through a symbolic
// link (the paths then differ in text).
func TestPackIntoSetupFolder(t *testing.T) {
	t.Run("same path", func(t *testing.T) { packIntoSetupFolder(t, false) })
	t.Run("through a link", func(t *testing.T) { packIntoSetupFolder(t, true) })
}

func packIntoSetupFolder(t *testing.T, viaLink bool) {
	di := filepath.Join(t.TempDir(), "di")
	if err := os.Mkdir(di, 0o755); err != nil {
		t.Fatal(err)
	}
	outDir := di
	if viaLink {
		outDir = filepath.Join(t.TempDir(), "link")
		if err := os.Symlink(di, outDir); err != nil {
			t.Skipf("no symbolic links here: %v", err)
		}
		if fi, err := os.Stat(filepath.Join(outDir, ".")); err != nil || !fi.IsDir() {
			t.Skip("a symbolic link to a folder does not resolve here (Wine)")
		}
	}
	for n, d := range map[string]string{"install.ps1": "Write-Host hi", "old.intunewin": "the user's"} {
		if err := os.WriteFile(filepath.Join(di, n), []byte(d), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(outDir, "install.intunewin")
	want := []string{"install.ps1", "old.intunewin"}
	for i, opt := range []PackOptions{{}, {Replace: true}} {
		res, err := Pack(context.Background(), di, "install.ps1", out, opt)
		if err != nil {
			t.Fatalf("pack %d: %v", i+1, err)
		}
		if res.Files != len(want) {
			t.Errorf("pack %d: %d files, want %d", i+1, res.Files, len(want))
		}
		dir := filepath.Join(t.TempDir(), "x")
		if _, err := Unpack(context.Background(), out, dir, UnpackOptions{}); err != nil {
			t.Fatalf("unpack %d: %v", i+1, err)
		}
		ents, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range ents {
			got = append(got, e.Name())
		}
		if !slices.Equal(got, want) {
			t.Errorf("pack %d holds %q, want %q", i+1, got, want)
		}
	}
}

// TestPackIntoSubfolderOfSetupFolder: an output folder inside the setup
// folder is left out of the package when it holds only the package.
func TestPackIntoSubfolderOfSetupFolder(t *testing.T) {
	src := packFolder(t)
	out := filepath.Join(src, "out", "setup.intunewin")
	if err := os.Mkdir(filepath.Dir(out), 0o755); err != nil {
		t.Fatal(err)
	}
	for i, opt := range []PackOptions{{}, {Replace: true}} {
		res, err := Pack(context.Background(), src, filepath.Join(src, "setup.exe"), out, opt)
		if err != nil {
			t.Fatalf("pack %d: %v", i+1, err)
		}
		if res.Files != 1 || res.Dirs != 0 {
			t.Errorf("pack %d: %d files, %d empty folders; want setup.exe alone", i+1, res.Files, res.Dirs)
		}
	}
}
