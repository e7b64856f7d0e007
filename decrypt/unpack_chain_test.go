package decrypt

import (
	"archive/zip"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imepipe/imepipe/stage"
)

// TestUnpackErrorChains: Unpack's errors add each layer once: an
// extraction failure is stage's own error (not "decrypt: extract:
// stage: …"), streamed or staged, and so is an interrupted run; a
// verification failure is decrypt's. errors.Is still finds the sentinels.
func TestUnpackErrorChains(t *testing.T) {
	dotdot := sealInner(t, zipOf(t, func(zw *zip.Writer) { entry(zw, "../evil.txt", "x") }))
	staged := sealInner(t, zipOf(t, func(zw *zip.Writer) {
		h := &zip.FileHeader{Name: "link", Method: zip.Store} // a data descriptor: not streamable
		h.SetMode(fs.ModeSymlink | 0o777)
		w, _ := zw.CreateHeader(h)
		w.Write([]byte("/etc/passwd"))
	}))
	good := sealInner(t, zipOf(t, func(zw *zip.Writer) { entry(zw, "setup.cmd", "echo hi") }))
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	pkg, f, err := OpenFile(good)
	if err != nil {
		t.Fatal(err)
	}
	_, off, _ := pkg.Content.Outer()
	f.Close()
	data[off+MacSize+IVSize+3] ^= 1 // a ciphertext bit
	tampered := filepath.Join(t.TempDir(), "tampered.intunewin")
	if err := os.WriteFile(tampered, data, 0o644); err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()

	for _, c := range []struct {
		name   string
		ctx    context.Context
		path   string
		want   error
		prefix string // the error's text starts so, and names no other layer
	}{
		{"unsafe name", context.Background(), dotdot, stage.ErrUnsafePath, "stage: entry "},
		{"unsafe name, staged", context.Background(), staged, stage.ErrUnsafePath, "stage: entry "},
		{"interrupted", cancelled, good, context.Canceled, "stage: "},
		{"tampered", context.Background(), tampered, ErrMAC, "decrypt: HMAC mismatch"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Unpack(c.ctx, c.path, filepath.Join(t.TempDir(), "out"), UnpackOptions{})
			if !errors.Is(err, c.want) {
				t.Fatalf("want %v, got %v", c.want, err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, c.prefix) || strings.Count(msg, "stage:")+strings.Count(msg, "decrypt:") != 1 {
				t.Errorf("error %q: want it to start %q and name one layer once", msg, c.prefix)
			}
		})
	}
}
