package main

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/internal/fixtures"
	"github.com/imepipe/imepipe/internal/linkfile"
	"github.com/imepipe/imepipe/internal/pgtest"
)

// TestServeTwoOnPostgres: two `imepipe serve --store postgres://…` on one
// database, their own --data folders, one enrollment secret and admin
// token file: a device enrolled through the first syncs through the
// second, and neither makes a bbolt file.
func TestServeTwoOnPostgres(t *testing.T) {
	pg := pgtest.Start(t)
	url := pg.NewDatabase(t)
	root := t.TempDir()
	apps := filepath.Join(root, "apps", "a")
	os.MkdirAll(apps, 0o755)
	example, err := os.ReadFile("../../service/testdata/app-example.json")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(apps, "app.json"), example, 0o644)
	if err := linkfile.Make(fixtures.Path(t, "desktopinfo.intunewin"), filepath.Join(apps, "desktopinfo.intunewin")); err != nil {
		t.Fatal(err)
	}
	secretFile, adminFile := filepath.Join(root, "secret"), filepath.Join(root, "admin")
	os.WriteFile(secretFile, []byte("a-shared-enrollment-secret\n"), 0o600)
	os.WriteFile(adminFile, []byte("a-shared-admin-token-0123\n"), 0o600)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	urlRE := regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+)`)
	var urls []string
	var dones []chan int
	for i := range 2 {
		stderr := &lineWriter{wrote: make(chan struct{}, 1)}
		done := make(chan int, 1)
		dones = append(dones, done)
		data := filepath.Join(root, []string{"data-a", "data-b"}[i])
		go func() {
			done <- run(ctx, &env{stdout: &bytes.Buffer{}, stderr: stderr}, []string{"serve", "--apps", filepath.Join(root, "apps"),
				"--addr", "127.0.0.1:0", "--data", data, "--store", url, "--enrollment-secret-file", secretFile, "--admin-token-file", adminFile})
		}()
		timeout := time.After(30 * time.Second)
		for len(urls) == i {
			select {
			case <-stderr.wrote:
				if m := urlRE.FindStringSubmatch(stderr.String()); m != nil {
					urls = append(urls, m[1])
				}
			case code := <-done:
				t.Fatalf("serve %d exited %d: %s", i, code, stderr.String())
			case <-timeout:
				t.Fatalf("serve %d did not start: %s", i, stderr.String())
			}
		}
		if strings.Contains(stderr.String(), url) {
			t.Fatalf("serve logged the store URL: %s", stderr.String())
		}
	}
	priv, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	a := imeapi.NewClient(urls[0], nil)
	if _, err := a.Enroll(ctx, "pc-1", "a-shared-enrollment-secret", priv.PublicKey()); err != nil {
		t.Fatal(err)
	}
	b := imeapi.NewClient(urls[1], nil)
	b.Token, b.DeviceID = a.Token, a.DeviceID
	if p, err := b.Policies(ctx); err != nil || p.DeviceID != a.DeviceID || len(p.Policies) != 1 {
		t.Fatalf("sync through the second serve: %+v, %v", p, err)
	}
	cancel()
	for i, done := range dones {
		select {
		case code := <-done:
			if code != 0 {
				t.Fatalf("serve %d exited %d", i, code)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("serve %d did not shut down", i)
		}
	}
	for _, d := range []string{"data-a", "data-b"} {
		if _, err := os.Stat(filepath.Join(root, d, "service.db")); !os.IsNotExist(err) {
			t.Fatalf("%s has a bbolt file (%v)", d, err)
		}
	}
}
