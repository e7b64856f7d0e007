package decrypt

import (
	"context"
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/imepipe/imepipe/internal/fulldisk"
	"github.com/imepipe/imepipe/stage"
)

// TestPackErrorLines: each way a pack fails is one line for the person
// packing, naming their paths (the output, never its temporary file) and
// no package, and errors.Is still finds what lies beneath.
func TestPackErrorLines(t *testing.T) {
	ctx := context.Background()
	src := packFolder(t)
	out := filepath.Join(t.TempDir(), "setup.intunewin")
	if _, err := Pack(ctx, src, "setup.exe", out, PackOptions{}); err != nil {
		t.Fatal(err)
	}
	withLink := packFolder(t)
	if err := os.Symlink("/etc/passwd", filepath.Join(withLink, "link")); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
	if fi, err := os.Lstat(filepath.Join(withLink, "link")); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Skipf("symlink reported made but absent (%v): Wine 8 makes none", err)
	}
	alias := filepath.Join(t.TempDir(), "alias") // a setup folder given as a symbolic link
	if err := os.Symlink(withLink, alias); err != nil {
		t.Fatal(err)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	noDir := filepath.Join(t.TempDir(), "missing", "setup.intunewin")
	for _, c := range []struct {
		name     string
		ctx      context.Context
		src, out string
		setup    string
		want     string
		is       error
	}{
		{"exists", ctx, src, out, "setup.exe", out + " exists (use -q to replace it)", ErrExists},
		{"symlink", ctx, withLink, filepath.Join(t.TempDir(), "x.intunewin"), "setup.exe",
			filepath.Join(withLink, "link") + ": a symbolic link in the setup folder (not packed: unsafe path)", stage.ErrUnsafePath},
		{"symlink in a linked folder", ctx, alias, filepath.Join(t.TempDir(), "x.intunewin"), "setup.exe",
			filepath.Join(alias, "link") + ": a symbolic link in the setup folder (not packed: unsafe path)", stage.ErrUnsafePath},
		{"interrupted", canceled, src, filepath.Join(t.TempDir(), "x.intunewin"), "setup.exe", "interrupted; nothing written", context.Canceled},
		{"cannot create", ctx, src, noDir, "setup.exe", "cannot write " + noDir + ": no such file or directory", fs.ErrNotExist},
		{"no setup folder", ctx, filepath.Join(src, "nosuch"), filepath.Join(t.TempDir(), "x.intunewin"), "setup.exe",
			"setup folder " + filepath.Join(src, "nosuch") + " does not exist", fs.ErrNotExist},
		{"no setup file", ctx, src, filepath.Join(t.TempDir(), "x.intunewin"), "nope.exe",
			"setup file nope.exe does not exist in " + src, fs.ErrNotExist},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Pack(c.ctx, c.src, c.setup, c.out, PackOptions{})
			if err == nil || err.Error() != c.want {
				t.Errorf("error %q, want %q", err, c.want)
			}
			if !errors.Is(err, c.is) {
				t.Errorf("error %q does not wrap %v", err, c.is)
			}
		})
	}
}

// TestPackInterruptedMidway: a pack cancelled while it reads the setup
// folder says it was interrupted, not which layer saw the context end,
// and leaves nothing in the output folder.
func TestPackInterruptedMidway(t *testing.T) {
	src := packFolder(t)
	if err := os.WriteFile(filepath.Join(src, "big.bin"), make([]byte, 8<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	outDir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := Pack(ctx, src, "setup.exe", filepath.Join(outDir, "setup.intunewin"), PackOptions{
		Progress: func(int64) { cancel() },
	})
	if err == nil || err.Error() != "interrupted; nothing written" || !errors.Is(err, context.Canceled) {
		t.Fatalf("error %q, want \"interrupted; nothing written\" wrapping context.Canceled", err)
	}
	if ents, _ := os.ReadDir(outDir); len(ents) != 0 {
		t.Errorf("interrupted pack left %d files", len(ents))
	}
}

// TestPackWriteErrorNamesOutput: running out of space while writing
// names the output file and the reason, not the temporary file.
func TestPackWriteErrorNamesOutput(t *testing.T) {
	src := packFolder(t)
	r := rand.New(rand.NewPCG(3, 4))
	big := make([]byte, 4<<20) // incompressible: the package outgrows the disk
	for i := range big {
		big[i] = byte(r.Uint32())
	}
	if err := os.WriteFile(filepath.Join(src, "data.bin"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(fulldisk.Dir(t, 1<<20), "setup.intunewin")
	_, err := Pack(context.Background(), src, "setup.exe", out, PackOptions{})
	want := "cannot write " + out + ": no space left on device"
	if err == nil || err.Error() != want {
		t.Fatalf("error %q, want %q", err, want)
	}
	var pe *fs.PathError
	if !errors.As(err, &pe) || !strings.Contains(pe.Path, ".partial-") {
		t.Errorf("error %q: the *fs.PathError beneath is gone", err)
	}
}

// TestPackPermissionNamesOutput: an output folder the packer may not
// write to names the output file, not the temporary one.
func TestPackPermissionNamesOutput(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root writes to read-only folders")
	}
	if runtime.GOOS == "windows" {
		t.Skip("a folder's mode bits do not stop creating files in it on Windows")
	}
	src := packFolder(t)
	locked := t.TempDir()
	if err := os.Chmod(locked, 0o555); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(locked, 0o755)
	out := filepath.Join(locked, "setup.intunewin")
	_, err := Pack(context.Background(), src, "setup.exe", out, PackOptions{})
	if want := "cannot write " + out + ": permission denied"; err == nil || err.Error() != want || !errors.Is(err, fs.ErrPermission) {
		t.Fatalf("error %q, want %q wrapping fs.ErrPermission", err, want)
	}
}
