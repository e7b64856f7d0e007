package main

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/imepipe/imepipe/decrypt"
	"github.com/imepipe/imepipe/internal/fixtures"
)

// childEnv makes the test binary run the CLI (TestCLIChild) instead of
// the tests, so that tests can start real imepipe processes.
const childEnv = "IMEPIPE_TEST_CLI_CHILD"

// TestCLIChild is not a test: re-executed with childEnv set, it runs
// imepipe with the arguments after "--" and exits with its status.
func TestCLIChild(t *testing.T) {
	if os.Getenv(childEnv) != "1" {
		t.Skip("runs only as a re-executed child")
	}
	args := os.Args
	for i, a := range args {
		if a == "--" {
			args = args[i+1:]
			break
		}
	}
	os.Exit(run(context.Background(), &env{stdout: os.Stdout, stderr: os.Stderr}, args))
}

// TestUnpackKeepsUsersSiblings: a user's OUT.old and OUT.partial, each
// with a file, survive unpack --force and extract --force into OUT.
func TestUnpackKeepsUsersSiblings(t *testing.T) {
	for _, args := range [][]string{
		{"unpack", "--force", "7zip.intunewin"}, // a real fixture, found in the subtest
		{"extract", "--force", filepath.Join("..", "..", "stage", "testdata", "7zip.zip")},
	} {
		t.Run(args[0], func(t *testing.T) {
			if args[0] == "unpack" {
				args[2] = fixtures.Path(t, args[2])
			}
			parent := t.TempDir()
			out := filepath.Join(parent, "OUT")
			for _, d := range []string{out, out + ".old", out + ".partial"} {
				if err := os.MkdirAll(d, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(d, "mine.txt"), []byte(d), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			code, _, stderr := runCLI(t, append([]string{args[0], "-o", out}, args[1:]...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			for _, d := range []string{out + ".old", out + ".partial"} {
				if b, err := os.ReadFile(filepath.Join(d, "mine.txt")); err != nil || string(b) != d {
					t.Errorf("%s touched: %q, %v", d, b, err)
				}
			}
			if _, err := os.Stat(filepath.Join(out, "mine.txt")); !os.IsNotExist(err) {
				t.Errorf("OUT was not replaced: %v", err)
			}
			if ents, _ := os.ReadDir(parent); len(ents) != 3 {
				t.Errorf("beside OUT: %v, want OUT, OUT.old, OUT.partial", ents)
			}
		})
	}
}

// TestConcurrentUnpackSameOut (acceptance 3 of issue 11): ten imepipe
// unpack processes into one -o at once, of a 20,000-file package, with
// and without --force. Every exit 0 printed its summary, every other exit
// is one line on stderr; afterwards the folder is exactly the package's
// tree (every file, size and content) and nothing else (no temp folder,
// no lock file) is beside it. Without --force exactly one wins.
func TestConcurrentUnpackSameOut(t *testing.T) {
	if runtime.GOOS != "linux" || testing.Short() {
		t.Skip("Linux, not -short: starts ten processes on a 20,000-file package")
	}
	setup := fastTempDir(t)
	want := map[string]string{}
	for i := range 100 {
		if err := os.Mkdir(filepath.Join(setup, fmt.Sprintf("d%03d", i)), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 20000 {
		rel := filepath.Join(fmt.Sprintf("d%03d", i%100), fmt.Sprintf("f%05d.txt", i))
		want[rel] = fmt.Sprintf("file %d %s\n", i, strings.Repeat("x", i%37))
		if err := os.WriteFile(filepath.Join(setup, rel), []byte(want[rel]), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want["setup.cmd"] = "@echo off\r\n"
	if err := os.WriteFile(filepath.Join(setup, "setup.cmd"), []byte(want["setup.cmd"]), 0o644); err != nil {
		t.Fatal(err)
	}
	pkg := filepath.Join(fastTempDir(t), "many.intunewin")
	if _, err := decrypt.Pack(context.Background(), setup, "setup.cmd", pkg, decrypt.PackOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, force := range []bool{false, true} {
		t.Run(fmt.Sprintf("force=%v", force), func(t *testing.T) {
			parent := fastTempDir(t)
			out := filepath.Join(parent, "same")
			args := []string{"-test.run=^TestCLIChild$", "--", "unpack", "-o", out}
			if force {
				args = append(args, "--force")
			}
			args = append(args, pkg)
			type result struct {
				code           int
				stdout, stderr string
			}
			results := make([]result, 10)
			var wg sync.WaitGroup
			for i := range results {
				wg.Go(func() {
					cmd := exec.Command(os.Args[0], args...)
					cmd.Env = append(os.Environ(), childEnv+"=1")
					var so, se bytes.Buffer
					cmd.Stdout, cmd.Stderr = &so, &se
					err := cmd.Run()
					code := cmd.ProcessState.ExitCode()
					if err != nil && code < 0 {
						t.Errorf("process %d: %v", i, err)
					}
					results[i] = result{code, so.String(), se.String()}
				})
			}
			wg.Wait()
			wins := 0
			for i, r := range results {
				switch {
				case r.code == 0:
					wins++
					if !strings.HasPrefix(r.stdout, "unpacked ") || !strings.Contains(r.stdout, "20001 files") {
						t.Errorf("process %d: exit 0 with stdout %q", i, r.stdout)
					}
				case r.code == 1:
					if strings.Count(r.stderr, "\n") != 1 || r.stdout != "" {
						t.Errorf("process %d: exit 1 with stdout %q, stderr %q", i, r.stdout, r.stderr)
					}
					if !force && !strings.Contains(r.stderr, "not empty") {
						t.Errorf("process %d: %q, want the folder-exists line", i, r.stderr)
					}
				default:
					t.Errorf("process %d: exit %d, stderr %q", i, r.code, r.stderr)
				}
			}
			if force && wins != len(results) || !force && wins != 1 {
				t.Errorf("%d of %d exited 0", wins, len(results))
			}
			got := map[string]string{}
			err := filepath.WalkDir(out, func(p string, d os.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				b, err := os.ReadFile(p)
				rel, _ := filepath.Rel(out, p)
				got[rel] = string(b)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("folder holds %d files, want %d", len(got), len(want))
			}
			for rel, w := range want {
				if got[rel] != w {
					t.Fatalf("%s: %q, want %q", rel, got[rel], w)
				}
			}
			if ents, _ := os.ReadDir(parent); len(ents) != 1 {
				t.Errorf("beside the output: %v", ents)
			}
		})
	}
}

// fastTempDir is a temp folder in /dev/shm (a tmpfs) when there is one,
// else t.TempDir: the test's cost is creating and removing 200,000 small
// files, which on a disk mounted with discard takes minutes of kernel
// time. The locking and renaming under test are the same on either.
func fastTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("/dev/shm", "imepipe-test-")
	if err != nil {
		return t.TempDir()
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// TestExtractHostileNameOneLine: an entry name with terminal escapes and
// 8 KB of text gives one short line on stderr, escaped, and nothing else.
func TestExtractHostileNameOneLine(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("\x1b]0;owned\x07\x1b[2J" + strings.Repeat("A", 8<<10) + "\x1b[31m.txt")
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("x"))
	zw.Close()
	src := filepath.Join(t.TempDir(), "evil.zip")
	if err := os.WriteFile(src, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	parent := t.TempDir()
	code, stdout, stderr := runCLI(t, "extract", "-o", filepath.Join(parent, "out"), src)
	if code != 1 || stdout != "" || strings.Count(stderr, "\n") != 1 || len(stderr) > 300 || strings.ContainsAny(stderr, "\x1b\x07") {
		t.Fatalf("exit %d, stdout %q, stderr (%d bytes) %q", code, stdout, len(stderr), stderr)
	}
	if ents, _ := os.ReadDir(parent); len(ents) != 0 {
		t.Errorf("left behind: %v", ents)
	}
}
