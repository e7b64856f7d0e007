package stage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// smallZip is a ZIP of three top-level entries (a folder and two files)
// and the tree it extracts to.
func smallZip(t *testing.T) ([]byte, map[string]string) {
	t.Helper()
	z := smallZipBytes(t)
	want := filepath.Join(t.TempDir(), "want")
	if _, err := Extract(context.Background(), bytes.NewReader(z), int64(len(z)), want, Options{}); err != nil {
		t.Fatal(err)
	}
	return z, treeSums(t, want)
}

// smallZipBytes is smallZip's ZIP alone.
func smallZipBytes(t *testing.T) []byte {
	return rawZip(t, []rawEntry{
		{name: `app\setup.exe`, data: []byte("MZ setup"), method: 8},
		{name: `app\lib\a.dll`, data: []byte("MZ dll")},
		{name: "install.ps1", data: []byte("Start-Process setup.exe\r\n"), method: 8},
		{name: "readme.txt", data: []byte("read me")},
	})
}

func mkdirMode(t *testing.T, p string, mode fs.FileMode) {
	t.Helper()
	if err := os.Mkdir(p, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil { // not subject to the umask
		t.Fatal(err)
	}
}

func lstat(t *testing.T, p string) fs.FileInfo {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi
}

// TestExtractIntoCurrentFolder: "." (imepipe unpack -o .) in an empty
// current folder is filled in place: the temp folder and lock once landed
// inside "." itself, so the commit found it not empty, and with Replace
// tried to rename "." away. A non-empty current folder is refused without
// Replace and, with it, emptied and filled in place, never renamed.
func TestExtractIntoCurrentFolder(t *testing.T) {
	z, want := smallZip(t)
	for name, extract := range extractors {
		t.Run(name, func(t *testing.T) {
			parent := t.TempDir()
			cwd := filepath.Join(parent, "here")
			if err := os.Mkdir(cwd, 0o755); err != nil {
				t.Fatal(err)
			}
			t.Chdir(cwd)
			before := lstat(t, cwd)
			if err := extract(z, ".", Options{}); err != nil {
				t.Fatalf("into an empty current folder: %v", err)
			}
			sameTree(t, want, treeSums(t, cwd))
			if err := extract(z, ".", Options{}); !errors.Is(err, ErrExists) {
				t.Fatalf("into a full current folder without Replace: %v, want ErrExists", err)
			}
			if err := os.WriteFile("mine.txt", []byte("old"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := extract(z, ".", Options{Replace: true, Sync: true}); err != nil {
				t.Fatalf("replacing the current folder: %v", err)
			}
			sameTree(t, want, treeSums(t, cwd)) // mine.txt went with the old tree
			if !os.SameFile(before, lstat(t, cwd)) {
				t.Error("the current folder was replaced, not filled in place")
			}
			if ents, _ := os.ReadDir(parent); len(ents) != 1 {
				t.Errorf("beside the current folder: %v, want nothing", ents)
			}
		})
	}
}

// TestExtractRelativeTarget: a relative or unclean name commits beside the
// folder it names, and nothing is left anywhere else.
func TestExtractRelativeTarget(t *testing.T) {
	z, want := smallZip(t)
	parent := t.TempDir()
	if err := os.Mkdir(filepath.Join(parent, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(filepath.Join(parent, "sub"))
	if err := extractors["Extract"](z, filepath.Join("..", "sub", "..", "out"), Options{}); err != nil {
		t.Fatal(err)
	}
	sameTree(t, want, treeSums(t, filepath.Join(parent, "out")))
	if ents, _ := os.ReadDir(parent); len(ents) != 2 {
		t.Errorf("in the parent: %v, want out and sub", ents)
	}
	if ents, _ := os.ReadDir("."); len(ents) != 0 {
		t.Errorf("in the current folder: %v, want nothing", ents)
	}
}

// TestExtractKeepsEmptyFolder: an existing empty folder is filled in place,
// so it keeps its inode and with it its mode (setgid included) and, when
// the test runs as root, the owner and group it was given.
func TestExtractKeepsEmptyFolder(t *testing.T) {
	if !dirLocks {
		t.Skip("Windows cannot lock a folder: an existing empty folder is swapped there, as a missing one is (commit.go)")
	}
	z, want := smallZip(t)
	for name, extract := range extractors {
		for _, replace := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/replace=%v", name, replace), func(t *testing.T) {
				parent := t.TempDir()
				dir := filepath.Join(parent, "share")
				mode := fs.ModeDir | fs.ModeSetgid | 0o770
				if runtime.GOOS == "windows" {
					mode = fs.ModeDir | 0o777
				}
				mkdirMode(t, dir, mode)
				chownNobody(t, dir)
				before := lstat(t, dir)
				if err := extract(z, dir, Options{Replace: replace}); err != nil {
					t.Fatal(err)
				}
				sameTree(t, want, treeSums(t, dir))
				after := lstat(t, dir)
				if !os.SameFile(before, after) {
					t.Error("the folder was replaced, not filled in place")
				}
				if after.Mode() != before.Mode() {
					t.Errorf("mode %v, want %v", after.Mode(), before.Mode())
				}
				sameOwner(t, before, after)
				if ents, _ := os.ReadDir(parent); len(ents) != 1 {
					t.Errorf("beside the folder: %v, want nothing", ents)
				}
			})
		}
	}
}

// TestReplaceKeepsFolderAttrs: a non-empty folder replaced (Replace) is
// swapped out, and the new one gets its mode bits, setgid included, and,
// when the test runs as root, its owner and group.
func TestReplaceKeepsFolderAttrs(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows: a replaced folder's ACL is not copied (keepDirAttrs), and it has no mode bits to copy")
	}
	z, want := smallZip(t)
	for name, extract := range extractors {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "share")
			mkdirMode(t, dir, fs.ModeDir|fs.ModeSetgid|fs.ModeSticky|0o750)
			if err := os.WriteFile(filepath.Join(dir, "old.txt"), []byte("old"), 0o644); err != nil {
				t.Fatal(err)
			}
			chownNobody(t, dir)
			before := lstat(t, dir)
			if err := extract(z, dir, Options{Replace: true}); err != nil {
				t.Fatal(err)
			}
			sameTree(t, want, treeSums(t, dir))
			after := lstat(t, dir)
			if after.Mode() != before.Mode() {
				t.Errorf("mode %v, want the replaced folder's %v", after.Mode(), before.Mode())
			}
			sameOwner(t, before, after)
		})
	}
}

// TestInPlaceTempFolders: inside a folder filled in place, a crashed
// extraction's temp folder (not held) is removed and leaves the folder
// free; a live one (held) counts as free too and is left alone, also by a
// Replace of the filled folder: that fills it in place too instead of
// swapping it out, so the live run's folder never leaves its path (a
// swap once took it away, and a file the run made in that moment failed).
func TestInPlaceTempFolders(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows cannot lock a folder: temp folders are left in place there by design (stage/inplace.go)")
	}
	z, want := smallZip(t)
	dir := filepath.Join(t.TempDir(), "out")
	for _, p := range []string{".out.partial-1/new/app", ".out.partial-2/new"} {
		if err := os.MkdirAll(filepath.Join(dir, p), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	live := filepath.Join(dir, ".out.partial-2")
	hold, err := holdDir(live)
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Close()
	if busy, err := Occupied(dir); busy || err != nil {
		t.Fatalf("Occupied = %v, %v; want free", busy, err)
	}
	if err := extractors["Extract"](z, dir, Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(dir, ".out.partial-1")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("stale temp folder not removed: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "old.txt"), []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	before := lstat(t, dir)
	if err := extractors["ExtractStream"](z, dir, Options{Replace: true}); err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(before, lstat(t, dir)) {
		t.Error("the Replace swapped the folder out while a live run was filling it")
	}
	fi, err := os.Lstat(live)
	if held, _ := hold.Stat(); err != nil || !os.SameFile(held, fi) {
		t.Fatalf("a live run's temp folder is not where it was: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "old.txt")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the replaced entry is still there: %v", err)
	}
	if err := os.RemoveAll(live); err != nil {
		t.Fatal(err)
	}
	sameTree(t, want, treeSums(t, dir))
}

// TestInPlaceRefusesTempName: a top-level entry named like a temp folder
// of the destination cannot be moved into it (it would pass for one).
func TestInPlaceRefusesTempName(t *testing.T) {
	z := rawZip(t, []rawEntry{{name: ".out.partial-7/new/x", data: []byte("x")}})
	dir := filepath.Join(t.TempDir(), "out")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	target := dir
	if !dirLocks { // Windows fills only the current folder in place
		t.Chdir(dir)
		target = "."
	}
	err := extractors["Extract"](z, target, Options{})
	if !errors.Is(err, ErrUnsafePath) || !strings.Contains(err.Error(), ".out.partial-7") {
		t.Fatalf("err = %v, want ErrUnsafePath naming the entry", err)
	}
	assertNothingLeft(t, dir)
}
