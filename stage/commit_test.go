package stage

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

func fixture(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "irfanview-backslash.zip"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestExtractVerifyFails(t *testing.T) {
	z := fixture(t)
	parent := t.TempDir()
	errBadMac := errors.New("bad HMAC")
	called := false
	_, err := Extract(context.Background(), bytes.NewReader(z), int64(len(z)), filepath.Join(parent, "out"), Options{
		Verify: func() error {
			called = true
			// Everything is written, in our temp folder, and not yet committed.
			got, _ := filepath.Glob(filepath.Join(parent, ".out.partial-*", "new", "Expand", "IntunePackage.intunewin"))
			if len(got) != 1 {
				t.Errorf("verify ran before the entries were written: %v", got)
			}
			if _, err := os.Stat(filepath.Join(parent, "out")); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("destination visible before verify: %v", err)
			}
			return errBadMac
		},
	})
	if !called || !errors.Is(err, errBadMac) {
		t.Fatalf("called %v, err = %v", called, err)
	}
	assertNothingLeft(t, parent)
}

func TestExtractExistsAndReplace(t *testing.T) {
	z := fixture(t)
	parent := t.TempDir()
	dir := filepath.Join(parent, "out")
	if err := os.MkdirAll(filepath.Join(dir, "stale"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := Extract(context.Background(), bytes.NewReader(z), int64(len(z)), dir, Options{}); !errors.Is(err, ErrExists) {
		t.Fatalf("err = %v, want ErrExists", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "stale")); err != nil {
		t.Fatalf("existing dir touched: %v", err)
	}
	// A failed replace keeps the old tree.
	_, err := Extract(context.Background(), bytes.NewReader(z), int64(len(z)), dir, Options{Replace: true, Verify: func() error { return errors.New("no") }})
	if err == nil {
		t.Fatal("verify error ignored")
	}
	if _, err := os.Stat(filepath.Join(dir, "stale")); err != nil {
		t.Fatalf("failed replace lost the old tree: %v", err)
	}
	// A good replace swaps it; the user's own out.partial and out.old
	// (names the commit used to take) are left alone.
	for _, p := range []string{dir + ".partial", dir + ".old"} {
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(p, "mine.txt"), []byte("keep"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Extract(context.Background(), bytes.NewReader(z), int64(len(z)), dir, Options{Replace: true, Sync: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "stale")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("old tree still there: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "install.ps1")); err != nil {
		t.Error(err)
	}
	for _, p := range []string{dir + ".partial", dir + ".old"} {
		if b, err := os.ReadFile(filepath.Join(p, "mine.txt")); err != nil || string(b) != "keep" {
			t.Errorf("user's %s touched: %q, %v", p, b, err)
		}
	}
	ents, _ := os.ReadDir(parent)
	if len(ents) != 3 {
		t.Errorf("parent holds %d entries, want out, out.partial and out.old", len(ents))
	}
}

func TestExtractCanceled(t *testing.T) {
	root, _ := makeTree(t)
	z, _ := writeZip(t, root, WriteOptions{})
	parent := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	var n atomic.Int64
	_, err := Extract(ctx, bytes.NewReader(z), int64(len(z)), filepath.Join(parent, "out"), Options{
		Workers:  1,
		Progress: func(m int64) { n.Add(m); cancel() },
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	assertNothingLeft(t, parent)
}

func TestExtractModesTimesProgress(t *testing.T) {
	mtime := time.Date(2020, 1, 1, 12, 0, 0, 0, time.UTC) // what rawZip writes
	z := rawZip(t, []rawEntry{
		{name: "bin/", creator: unix, attrs: 0o040750 << 16},
		{name: "bin/run.sh", data: []byte("#!/bin/sh\n"), method: 8, creator: unix, attrs: 0o100755 << 16},
		{name: "bin/setuid", data: []byte("x"), creator: unix, attrs: 0o104755 << 16},
		{name: "ro.txt", data: []byte("ro"), creator: unix, attrs: 0o100444 << 16},
		{name: `win\file.txt`, data: []byte("dos"), attrs: 0x20},
		{name: `win\readonly.txt`, data: []byte("dos"), attrs: 0x01},
	})
	dir := filepath.Join(t.TempDir(), "out")
	var progress atomic.Int64
	res, err := Extract(context.Background(), bytes.NewReader(z), int64(len(z)), dir, Options{Progress: func(n int64) { progress.Add(n) }})
	if err != nil {
		t.Fatal(err)
	}
	if res.Files != 5 || res.Dirs != 2 || progress.Load() != res.Bytes || res.Bytes != 10+1+2+3+3 {
		t.Errorf("result %+v, progress %d", res, progress.Load())
	}
	umask := umaskOf(t)
	for name, want := range map[string]fs.FileMode{
		"bin":              fs.ModeDir | 0o750,
		"bin/run.sh":       0o755,
		"bin/setuid":       0o755,
		"ro.txt":           0o644, // owner keeps read-write
		"win":              fs.ModeDir | 0o755,
		"win/file.txt":     0o644,
		"win/readonly.txt": 0o644,
	} {
		fi, err := os.Stat(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil {
			t.Error(err)
			continue
		}
		want &^= umask
		if runtime.GOOS == "windows" {
			// Windows keeps one mode bit, read-only: no entry may come out
			// read-only (the owner keeps read-write), whatever its Unix mode.
			want = want&fs.ModeDir | 0o666
			if want.IsDir() {
				want |= 0o111
			}
		}
		if fi.Mode() != want {
			t.Errorf("%s: mode %v, want %v", name, fi.Mode(), want)
		}
		if name != "win" && !fi.ModTime().Equal(mtime) {
			t.Errorf("%s: mtime %v, want %v", name, fi.ModTime(), mtime)
		}
	}
}

// umaskOf finds the process umask without changing it.
func umaskOf(t *testing.T) fs.FileMode {
	p := filepath.Join(t.TempDir(), "probe")
	if err := os.Mkdir(p, 0o777); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return 0o777 &^ fi.Mode().Perm()
}
