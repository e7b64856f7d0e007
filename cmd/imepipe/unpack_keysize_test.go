package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestUnpackKeysFileSize: a raw .bin shorter than the keys file's
// encryptedSize (a cut-off download, cut on an AES block) is called
// truncated before any work, as a cut .intunewin is, not an HMAC
// mismatch after a full pass; a longer one is not these keys' content;
// nothing is written either way.
func TestUnpackKeysFileSize(t *testing.T) {
	dir := t.TempDir()
	src, outDir := filepath.Join(dir, "src"), filepath.Join(dir, "pkg")
	if err := writeSample(src, 64<<10); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCLI(t, "pack", "-q", "-c", src, "-s", "install.sh", "-o", outDir); code != 0 {
		t.Fatalf("pack: %d %s", code, stderr)
	}
	pkg := filepath.Join(outDir, "install.intunewin")
	bin := rawBin(t, pkg)
	code, keys, stderr := runCLI(t, "inspect", "--json", "--show-keys", pkg)
	if code != 0 {
		t.Fatalf("inspect: %d %s", code, stderr)
	}
	kf := writeFile(t, "keys.json", []byte(keys))
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	cut := writeFile(t, "cut.intunewin.bin", data[:48+16*1000]) // MAC, IV and whole blocks
	long := writeFile(t, "long.intunewin.bin", append(append([]byte(nil), data...), data[:16]...))
	for _, c := range []struct{ file, want string }{
		{cut, "imepipe unpack: " + cut + ": truncated or corrupt encrypted content (16048 bytes, the keys file's encryptedSize is "},
		{long, "imepipe unpack: " + long + ": "},
	} {
		out := filepath.Join(t.TempDir(), "out")
		code, stdout, stderr := runCLI(t, "unpack", "--keys-file", kf, "-o", out, c.file)
		if code != 1 || stdout != "" || !strings.HasPrefix(stderr, c.want) || !strings.HasSuffix(stderr, "; nothing extracted\n") ||
			strings.Count(stderr, "\n") != 1 || strings.Contains(stderr, "HMAC") {
			t.Errorf("%s: exit %d, stderr %q\nwant one line starting %q", filepath.Base(c.file), code, stderr, c.want)
		}
		if _, err := os.Lstat(out); err == nil {
			t.Errorf("%s: %s was created", filepath.Base(c.file), out)
		}
	}
	if code, _, stderr := runCLI(t, "unpack", "--keys-file", kf, "-o", filepath.Join(t.TempDir(), "out"), bin); code != 0 {
		t.Errorf("the whole .bin: exit %d, %s", code, stderr)
	}
}
