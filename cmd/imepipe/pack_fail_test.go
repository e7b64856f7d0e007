package main

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPackFailureLeavesNoFolder: a pack that fails, before packing
// (a missing setup file, setup folder or catalog folder) or while packing
// (a symbolic link in the setup folder, Ctrl-C), exits 1 with one line
// that names the user's paths and no package, and leaves no output folder
// it made, however deep; folders that were there before stay.
func TestPackFailureLeavesNoFolder(t *testing.T) {
	root := t.TempDir()
	src := filepath.Join(root, "src")
	withLink := filepath.Join(root, "linked")
	for _, d := range []string{src, withLink} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "setup.exe"), []byte("MZ"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	link := filepath.Join(withLink, "link")
	haveLink := os.Symlink(filepath.Join(src, "setup.exe"), link) == nil
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		haveLink = false // Wine 8 reports a link made and makes none
	}
	kept := filepath.Join(root, "kept") // an empty output folder the user made
	if err := os.Mkdir(kept, 0o755); err != nil {
		t.Fatal(err)
	}
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, c := range []struct {
		name    string
		ctx     context.Context
		args    []string
		out     string // must not exist afterwards ("" when kept must stay)
		want    string
		needSym bool
	}{
		{"no setup file", context.Background(), []string{"-c", src, "-s", "nope.exe"}, "o8",
			"setup file nope.exe does not exist in " + src, false},
		{"no setup folder", context.Background(), []string{"-c", filepath.Join(root, "nosuch"), "-s", "x"}, "o9",
			"setup folder " + filepath.Join(root, "nosuch") + " does not exist", false},
		{"no catalog folder", context.Background(), []string{"-c", src, "-s", "setup.exe", "-a", filepath.Join(root, "nosuchcat")}, "o6",
			"catalog folder " + filepath.Join(root, "nosuchcat") + " does not exist", false},
		{"symlink", context.Background(), []string{"-c", withLink, "-s", "setup.exe"}, filepath.Join("o7", "a", "b"),
			filepath.Join(withLink, "link") + ": a symbolic link in the setup folder (not packed: unsafe path)", true},
		{"interrupted", canceled, []string{"-c", src, "-s", "setup.exe"}, filepath.Join("o5", "deep"),
			"interrupted; nothing written", false},
		{"existing folder", context.Background(), []string{"-c", withLink, "-s", "setup.exe"}, "",
			filepath.Join(withLink, "link") + ": a symbolic link in the setup folder (not packed: unsafe path)", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.needSym && !haveLink {
				t.Skip("no symbolic links here")
			}
			outDir := kept
			if c.out != "" {
				outDir = filepath.Join(root, c.out)
			}
			var stdout, stderr bytes.Buffer
			args := append(append([]string{"pack"}, c.args...), "-o", outDir)
			code := run(c.ctx, &env{stdout: &stdout, stderr: &stderr}, args)
			if want := "imepipe pack: " + c.want + "\n"; code != 1 || stderr.String() != want {
				t.Errorf("exit %d, stderr %q; want 1, %q", code, stderr.String(), want)
			}
			if c.out == "" {
				if _, err := os.Stat(kept); err != nil {
					t.Errorf("the user's output folder is gone: %v", err)
				}
				return
			}
			// The first folder of c.out, which this run made.
			top := filepath.Join(root, strings.Split(filepath.ToSlash(c.out), "/")[0])
			if _, err := os.Lstat(top); !os.IsNotExist(err) {
				t.Errorf("failed pack left %s behind (%v)", top, err)
			}
		})
	}
}

// TestPackExistsLine: packing again without -q names the package that
// is there, in one line, and keeps the output folder and the package.
func TestPackExistsLine(t *testing.T) {
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "AESetup.exe"), []byte("MZ"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out")
	if code, _, stderr := runCLI(t, "pack", "-c", src, "-s", "AESetup.exe", "-o", out); code != 0 {
		t.Fatalf("first pack: %s", stderr)
	}
	code, _, stderr := runCLI(t, "pack", "-c", src, "-s", "AESetup.exe", "-o", out)
	pkg := filepath.Join(out, "AESetup.intunewin")
	if want := "imepipe pack: " + pkg + " exists (use -q to replace it)\n"; code != 1 || stderr != want {
		t.Errorf("exit %d, stderr %q; want 1, %q", code, stderr, want)
	}
	if _, err := os.Stat(pkg); err != nil {
		t.Errorf("the existing package is gone: %v", err)
	}
}
