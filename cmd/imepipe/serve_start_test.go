package main

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
