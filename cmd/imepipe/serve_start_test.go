package main

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/imepipe/imepipe/service"
)

// TestServePortInUse: a port in use (--addr or --metrics-listen) fails
// at once in one line, before the data folder is made.
func TestServePortInUse(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	addr := busy.Addr().String()
	apps := t.TempDir()
	for _, c := range []struct {
		flags []string
		want  string
	}{
		{[]string{"--addr", addr}, "imepipe serve: " + addr + " is in use (another serve?)\n"},
		{[]string{"--addr", "127.0.0.1:0", "--metrics-listen", addr}, "imepipe serve: --metrics-listen " + addr + " is in use (another serve?)\n"},
	} {
		data := filepath.Join(t.TempDir(), "data")
		code, _, stderr := runCLI(t, append([]string{"serve", "--apps", apps, "--data", data}, c.flags...)...)
		if code != 1 || stderr != c.want {
			t.Errorf("%v: exit %d, stderr %q; want 1, %q", c.flags, code, stderr, c.want)
		}
		if _, err := os.Stat(data); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%v: data folder made before the bind failed (%v)", c.flags, err)
		}
	}
}

// TestServeDataInUse: a second serve on a data folder is refused in one
// line naming the folder.
func TestServeDataInUse(t *testing.T) {
	apps, data := t.TempDir(), filepath.Join(t.TempDir(), "data")
	first, err := service.NewContext(context.Background(), service.Config{AppsDir: apps, DataDir: data})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	code, _, stderr := runCLI(t, "serve", "--apps", apps, "--data", data, "--addr", "127.0.0.1:0")
	if want := "imepipe serve: data folder " + data + " is in use by another imepipe serve\n"; code != 1 || stderr != want {
		t.Errorf("exit %d, stderr %q; want 1, %q", code, stderr, want)
	}
}

// TestServeNoAppsWarns: with every app refused serve keeps running, but
// says so, how to see why, and that it reads apps only at start; each
// refusal is one line without a layer's name, with -q too.
func TestServeNoAppsWarns(t *testing.T) {
	apps := t.TempDir()
	dir := filepath.Join(apps, "x")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, quiet := range []bool{false, true} {
		args := []string{"serve", "--apps", apps, "--addr", "127.0.0.1:0", "--data", filepath.Join(t.TempDir(), "data")}
		if quiet {
			args = append(args, "-q")
		}
		stderr := startServe(t, args)
		for _, want := range []string{
			"imepipe serve: app skipped: " + dir + ": app.json: missing; no .intunewin in " + dir + ": put exactly one package beside app.json\n",
			"imepipe serve: warning: serving no app: 1 app in " + apps + " refused (see why: imepipe apps check " + shellWord(apps) + "); apps are read only at start, so restart serve once they are fixed\n",
		} {
			if !strings.Contains(stderr, want) {
				t.Errorf("quiet %v: no line %q in\n%s", quiet, want, stderr)
			}
		}
		if strings.Contains(stderr, "service:") {
			t.Errorf("quiet %v: a layer's name in\n%s", quiet, stderr)
		}
	}
}

// startServe runs serve with args until it prints its console line, then
// stops it and returns what it wrote on stderr.
func startServe(t *testing.T, args []string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stderr := &lineWriter{wrote: make(chan struct{}, 1)}
	done := make(chan int, 1)
	go func() { done <- run(ctx, &env{stdout: &bytes.Buffer{}, stderr: stderr}, args) }()
	timeout := time.After(30 * time.Second)
	for !strings.Contains(stderr.String(), "console at ") {
		select {
		case <-stderr.wrote:
		case code := <-done:
			t.Fatalf("serve exited %d: %s", code, stderr.String())
		case <-timeout:
			t.Fatalf("serve did not start: %s", stderr.String())
		}
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d after cancel: %s", code, stderr.String())
	}
	return stderr.String()
}

// TestServeErrorLines: every way serve fails at start is one line,
// "imepipe serve: " then the file, folder or address and the reason in a
// few words: no layer's name after it ("service: ", "imeapi: tls: "), no
// word twice in a row, no Go operation ("stat", "mkdir", "open").
func TestServeErrorLines(t *testing.T) {
	root := t.TempDir()
	apps := filepath.Join(root, "apps")
	file := filepath.Join(root, "a-file")
	secret := filepath.Join(root, "short-secret")
	for _, p := range []string{apps, filepath.Join(root, "folder")} {
		if err := os.Mkdir(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	readOnly := filepath.Join(root, "read-only")
	if err := errors.Join(os.WriteFile(file, []byte("not a folder\n"), 0o644), os.WriteFile(secret, []byte("short\n"), 0o600),
		os.Mkdir(readOnly, 0o555)); err != nil {
		t.Fatal(err)
	}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	addr := busy.Addr().String()
	// Permissions do not stop root, and Windows keeps no mode bits.
	permsApply := runtime.GOOS != "windows" && os.Geteuid() != 0

	data := func() string { return filepath.Join(t.TempDir(), "data") }
	for _, c := range []struct {
		name  string
		flags []string
		code  int
		want  string // the line, less "imepipe serve: " and its newline
		skip  bool
	}{
		{"apps folder missing", []string{"--apps", filepath.Join(root, "missing"), "--data", data()}, 1,
			"apps folder " + filepath.Join(root, "missing") + ": no such folder", false},
		{"apps folder a file", []string{"--apps", file, "--data", data()}, 1,
			"apps folder " + file + ": a file, not a folder", false},
		{"apps folder under a file", []string{"--apps", filepath.Join(file, "apps"), "--data", data()}, 1,
			"apps folder " + filepath.Join(file, "apps") + ": " + file + " is a file, not a folder", false},
		{"data folder a file", []string{"--apps", apps, "--data", file}, 1,
			"data folder " + file + ": a file, not a folder", false},
		{"data folder under a file", []string{"--apps", apps, "--data", filepath.Join(file, "data")}, 1,
			"data folder " + filepath.Join(file, "data") + ": " + file + " is a file, not a folder", false},
		{"data folder not writable", []string{"--apps", apps, "--data", filepath.Join(readOnly, "data")}, 1,
			"data folder " + filepath.Join(readOnly, "data") + ": permission denied", !permsApply},
		{"data folder without room for blobs", []string{"--apps", apps, "--data", readOnly}, 1,
			"data folder " + readOnly + ": cannot create blobs: permission denied", !permsApply},
		{"store spec unknown", []string{"--apps", apps, "--data", data(), "--store", "mysql://u:hunter2@h/db"}, 2,
			"--store: want bbolt or a postgres:// URL", false},
		{"store spec invalid", []string{"--apps", apps, "--data", data(), "--store", "postgres://u:hunter2@%zz/db"}, 1,
			"store postgres://u:xxxxx@%zz/db: not a valid PostgreSQL URL", false},
		{"port in use", []string{"--apps", apps, "--data", data(), "--addr", addr}, 1,
			addr + " is in use (another serve?)", false},
		{"port invalid", []string{"--apps", apps, "--data", data(), "--addr", "127.0.0.1:99999"}, 1,
			"127.0.0.1:99999: invalid port", false},
		{"enrollment secret missing", []string{"--apps", apps, "--data", data(), "--enrollment-secret-file", filepath.Join(root, "missing")}, 1,
			"enrollment secret " + filepath.Join(root, "missing") + ": no such file", false},
		{"enrollment secret short", []string{"--apps", apps, "--data", data(), "--enrollment-secret-file", secret}, 1,
			"enrollment secret " + secret + ": 5 characters, want at least 16", false},
		{"admin token a folder", []string{"--apps", apps, "--data", data(), "--admin-token-file", filepath.Join(root, "folder")}, 1,
			"admin token " + filepath.Join(root, "folder") + ": a folder, not a file", false},
		{"TLS certificate missing", []string{"--apps", apps, "--data", data(), "--addr", "127.0.0.1:0", "--tls",
			"--tls-cert", filepath.Join(root, "missing.pem"), "--tls-key", secret}, 1,
			"TLS certificate " + filepath.Join(root, "missing.pem") + ": no such file", false},
		{"TLS certificate not PEM", []string{"--apps", apps, "--data", data(), "--addr", "127.0.0.1:0", "--tls", "--tls-cert", secret, "--tls-key", secret}, 1,
			"TLS certificate " + secret + " with key " + secret + ": failed to find any PEM data in certificate input", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.skip {
				t.Skip("permissions do not apply (root or Windows)")
			}
			code, _, stderr := runCLI(t, append([]string{"serve", "-q"}, c.flags...)...)
			if want := "imepipe serve: " + c.want + "\n"; code != c.code || stderr != want {
				t.Errorf("exit %d, stderr\n%q; want %d,\n%q", code, stderr, c.code, want)
			}
			checkCleanLine(t, stderr, c.flags)
		})
	}
}

// checkCleanLine fails t unless line is one line without a layer's name
// or a Go operation after "imepipe serve: " and, the paths and
// addresses of args aside, with no word twice in a row.
func checkCleanLine(t *testing.T, line string, args []string) {
	t.Helper()
	if strings.Count(line, "\n") != 1 {
		t.Errorf("not one line: %q", line)
	}
	rest := strings.TrimPrefix(line, "imepipe serve: ")
	byLength := slices.Clone(args)
	slices.SortFunc(byLength, func(a, b string) int { return len(b) - len(a) })
	for _, a := range byLength {
		if !strings.HasPrefix(a, "--") {
			rest = strings.ReplaceAll(rest, a, " ")
		}
	}
	for _, bad := range []string{"service:", "imeapi:", "tls: ", "stat ", "mkdir ", "open ", "lstat "} {
		if strings.Contains(rest, bad) {
			t.Errorf("%q in %q", bad, line)
		}
	}
	words := strings.FieldsFunc(rest, func(r rune) bool { return !unicode.IsLetter(r) })
	for i := 1; i < len(words); i++ {
		if strings.EqualFold(words[i], words[i-1]) {
			t.Errorf("%q twice in a row in %q", words[i], line)
		}
	}
}
