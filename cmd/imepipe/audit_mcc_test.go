package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAuditMCCArguments: an --addr that cannot be listened on for want
// of a valid port and an --origins entry that is a URL, not HOST[:PORT]
// (which no request would ever match), are usage errors naming the flag;
// neither creates the cache folder.
func TestAuditMCCArguments(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	for _, c := range []struct {
		args []string
		flag string
	}{
		{[]string{"--origins", "svc:8080", "--addr", "127.0.0.1:99999"}, "--addr"},
		{[]string{"--origins", "svc:8080", "--addr", "127.0.0.1"}, "--addr"},
		{[]string{"--origins", "http://svc:8080"}, "--origins"},
		{[]string{"--origins", "svc:8080,svc:8081/blobs"}, "--origins"},
	} {
		args := append([]string{"mcc", "--dir", dir}, c.args...)
		// Cancelled: a mcc that wrongly starts stops at once.
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		var out, errb bytes.Buffer
		code := run(ctx, &env{stdout: &out, stderr: &errb}, args)
		stdout, stderr := out.String(), errb.String()
		if code != 2 || stdout != "" || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "for "+c.flag+":") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want 2 and one line naming %s", args, code, stdout, stderr, c.flag)
		}
	}
	if _, err := os.Stat(dir); err == nil {
		t.Error("a refused mcc created its cache folder")
	}
}

// TestAuditMCCPortInUse: a port in use is one line naming the address
// once, without "mcc: mcc: listen tcp …: bind:", and leaves no cache
// folder behind; a --dir that cannot be made is one line too, without
// the peer package's prefixes.
func TestAuditMCCPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := ln.Addr().String()
	dir := filepath.Join(t.TempDir(), "cache")
	code, stdout, stderr := runCLI(t, "mcc", "--dir", dir, "--origins", "svc:8080", "--addr", addr)
	if code != 1 || stdout != "" || !strings.HasPrefix(stderr, "imepipe mcc: listen on "+addr+": ") || strings.Count(stderr, "\n") != 1 ||
		strings.Contains(stderr, "mcc: mcc") || strings.Contains(stderr, "bind:") || strings.Count(stderr, addr) != 1 {
		t.Errorf("port in use: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Error("mcc on a port in use created its cache folder")
	}

	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(file, "cache")
	code, _, stderr = runCLI(t, "mcc", "--dir", sub, "--origins", "svc:8080", "--addr", "127.0.0.1:0")
	if code != 1 || strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, "imepipe mcc: cache folder "+sub+": ") || strings.Contains(stderr, "peer:") {
		t.Errorf("--dir under a file: exit %d, stderr %q", code, stderr)
	}
}
