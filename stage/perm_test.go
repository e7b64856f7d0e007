package stage

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// needPermissions skips tests of refused writes where they cannot be set up.
func needPermissions(t *testing.T) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("Windows: access is an ACL, not the mode bits this test sets")
	}
	if os.Geteuid() == 0 {
		t.Skip("root writes wherever the mode bits say no: run the test as another user")
	}
}

// readOnly makes p read-only until the test ends.
func readOnly(t *testing.T, p string) {
	t.Helper()
	if err := os.Chmod(p, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(p, 0o755) })
}

// checkOneLine checks that err is a permission error told in one line
// that names the user's folder (and want) and none of ours.
func checkOneLine(t *testing.T, err error, folder string, want ...string) {
	t.Helper()
	if !errors.Is(err, fs.ErrPermission) {
		t.Fatalf("err = %v, want a permission error", err)
	}
	msg := err.Error()
	t.Log(msg)
	for _, w := range append(want, "output folder "+folder) {
		if !strings.Contains(msg, w) {
			t.Errorf("%q does not say %q", msg, w)
		}
	}
	for _, ours := range []string{".lock", ".partial", "\n"} {
		if strings.Contains(msg, ours) {
			t.Errorf("%q names %q", msg, ours)
		}
	}
}

// TestUnwritableParent: an empty folder of the user's own under a parent
// they cannot write to is filled in place, without writing beside it
// (where the lock and temp folder once had to go). A new folder there, or
// a full one to replace, needs the parent: one line says so.
func TestUnwritableParent(t *testing.T) {
	needPermissions(t)
	z, want := smallZip(t)
	base := t.TempDir()
	for _, d := range []string{"mine", "mine2", "full"} {
		if err := os.MkdirAll(filepath.Join(base, "rootowned", d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	old := filepath.Join(base, "rootowned", "full", "old.txt")
	if err := os.WriteFile(old, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	readOnly(t, filepath.Join(base, "rootowned"))
	t.Chdir(base)
	if err := extractors["Extract"](z, filepath.Join("rootowned", "mine"), Options{}); err != nil {
		t.Fatalf("Extract into an empty folder: %v", err)
	}
	if err := extractors["ExtractStream"](z, filepath.Join("rootowned", "mine2"), Options{Replace: true}); err != nil {
		t.Fatalf("ExtractStream into an empty folder: %v", err)
	}
	for _, d := range []string{"mine", "mine2"} {
		sameTree(t, want, treeSums(t, filepath.Join(base, "rootowned", d)))
	}
	for name, extract := range extractors {
		for _, c := range []struct {
			dir string
			opt Options
		}{
			{filepath.Join("rootowned", "new"), Options{}},
			{filepath.Join("rootowned", "full"), Options{Replace: true}},
		} {
			t.Logf("%s into %s:", name, c.dir)
			checkOneLine(t, extract(z, c.dir, c.opt), c.dir, "in rootowned")
		}
	}
	if b, err := os.ReadFile(old); err != nil || string(b) != "old" {
		t.Errorf("a refused replace touched the folder: %q, %v", b, err)
	}
	if ents, _ := os.ReadDir(filepath.Join(base, "rootowned")); len(ents) != 3 {
		t.Errorf("in rootowned: %v, want mine, mine2 and full", ents)
	}
}

// TestUnwritableFolder: an empty folder the user cannot write in cannot be
// filled; one line says so.
func TestUnwritableFolder(t *testing.T) {
	needPermissions(t)
	z := smallZipBytes(t)
	base := t.TempDir()
	dir := filepath.Join(base, "locked")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	readOnly(t, dir)
	t.Chdir(base)
	for _, extract := range extractors {
		checkOneLine(t, extract(z, "locked", Options{Replace: true}), "locked", "cannot write in")
	}
	assertNothingLeft(t, dir)
}

// TestReplaceUnwritableFolder: a full folder the user cannot write in
// cannot be swapped out (Linux moves a folder into another only with write
// permission on it); one line says so, and nothing is left beside it.
func TestReplaceUnwritableFolder(t *testing.T) {
	needPermissions(t)
	z := smallZipBytes(t)
	base := t.TempDir()
	dir := filepath.Join(base, "locked")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "old.txt"), []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	readOnly(t, dir)
	before := treeSums(t, dir)
	t.Chdir(base)
	for _, extract := range extractors {
		checkOneLine(t, extract(z, "locked", Options{Replace: true}), "locked", "cannot replace")
	}
	sameTree(t, before, treeSums(t, dir))
	if ents, _ := os.ReadDir(base); len(ents) != 1 {
		t.Errorf("beside the folder: %v, want nothing", ents)
	}
}

// TestInPlaceReplaceUndo: replacing the current folder in place fails on
// an entry that cannot be moved aside (a read-only folder: Linux moves a
// folder into another only with write permission on it); the moves done
// are undone, leaving the folder as it was.
func TestInPlaceReplaceUndo(t *testing.T) {
	needPermissions(t)
	z := smallZipBytes(t)
	cwd := filepath.Join(t.TempDir(), "here")
	for _, p := range []string{"a.txt", "b.txt", "ro/x.txt", "z.txt"} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(cwd, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(cwd, p), []byte(p), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	readOnly(t, filepath.Join(cwd, "ro"))
	before := treeSums(t, cwd)
	t.Chdir(cwd)
	steps := 0
	afterStep = func() { steps++ }
	t.Cleanup(func() { afterStep = nil })
	err := extractors["Extract"](z, ".", Options{Replace: true})
	checkOneLine(t, err, ".", `moving "ro" aside`)
	if steps != 3 {
		t.Errorf("%d steps before the error, want 3: the commit point, a.txt and b.txt (in name order)", steps)
	}
	sameTree(t, before, treeSums(t, cwd))
}
