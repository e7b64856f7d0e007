package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/imepipe/imepipe/internal/fixtures"
)

// The keys of the 7zip fixture, as inspect --json --show-keys prints them
// (testdata/keys-7zip.json).
const (
	key7zip    = "/MmE0ito56q2/+EId2ihAC+0UoyIQY1kp1yy+drieb0="
	iv7zip     = "sZr1VmwzfAxcHK9mmryQyA=="
	macKey7zip = "RgXUNQlqCiEUYxKaEhUHJpzsPe/2ffAapZu5dXTiIfA="
	mac7zip    = "1/sqd5u/4fTbQ4DkcxRD8INQQaNJcCSqR+F2+p9XaHI="
	digest7zip = "S0uLp94syya7c/37/gZFv8AcCwz5klADUuBFd7vTemM="
)

// b64 is n bytes of zeros in base64.
func b64(n int) string { return base64.StdEncoding.EncodeToString(make([]byte, n)) }

// nonEmptyDir is a folder holding one file, in a fresh temp folder.
func nonEmptyDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "taken")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "keep.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// writeFile writes data to name in a fresh temp folder and returns its path.
func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// runCLIContext is runCLI under ctx.
func runCLIContext(ctx context.Context, args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(ctx, &env{stdout: &out, stderr: &errb}, args)
	return code, out.String(), errb.String()
}

// TestHintsPointTheRightWay: inspect of an encrypted .bin names the
// unpack command that takes it (inspect has no --keys-file), and that
// command works; a whole package given with keys is named as one, not
// reported as an IV mismatch; and what is wrong with the file comes
// before a non-empty output folder.
func TestHintsPointTheRightWay(t *testing.T) {
	pkg := fixtures.Path(t, "7zip.intunewin")
	bin := rawBin(t, pkg)
	keys := filepath.Join("testdata", "keys-7zip.json")

	code, stdout, stderr := runCLI(t, "inspect", bin)
	want := "imepipe inspect: " + bin + ": not an .intunewin (no ZIP inside); if it is the encrypted content (a .bin), unpack it with imepipe unpack --keys-file KEYS.json " + bin + " (KEYS.json from imepipe inspect --json --show-keys of its .intunewin)\n"
	if code != 1 || stdout != "" || stderr != want {
		t.Errorf("inspect of a .bin: exit %d, stderr %q\nwant %q", code, stderr, want)
	}
	out := filepath.Join(t.TempDir(), "out")
	if code, stdout, stderr := runCLI(t, "unpack", "--keys-file", keys, "-o", out, bin); code != 0 || !strings.Contains(stdout, "(HMAC and FileDigest verified)") {
		t.Fatalf("the command inspect suggests: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	data, _ := os.ReadFile(bin)
	spaced := writeFile(t, "my app's.intunewin.bin", data)
	if _, _, stderr := runCLI(t, "inspect", spaced); !strings.Contains(stderr, " --keys-file KEYS.json '"+strings.ReplaceAll(spaced, "'", `'\''`)+"' (") {
		t.Errorf("inspect of %q does not quote it for the shell: %q", spaced, stderr)
	}

	for _, c := range []struct {
		name  string
		args  []string
		input string
		want  string // the line after "imepipe unpack: INPUT: "
	}{
		{"package with --keys-file", []string{"--keys-file", keys}, pkg,
			"an .intunewin package (a ZIP), not its encrypted content: unpack it without --keys-file"},
		{"package with --key", []string{"--key", key7zip, "--iv", iv7zip}, pkg,
			"an .intunewin package (a ZIP), not its encrypted content: unpack it without --key and --iv"},
		{".bin without keys", nil, bin,
			"not an .intunewin (no ZIP inside); if it is the encrypted content (a .bin), give its keys with --keys-file KEYS.json (from inspect --json --show-keys of the .intunewin) or --key and --iv"},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, out := range []string{filepath.Join(t.TempDir(), "out"), nonEmptyDir(t)} {
				args := append(append([]string{"unpack", "-o", out}, c.args...), c.input)
				code, stdout, stderr := runCLI(t, args...)
				if want := "imepipe unpack: " + c.input + ": " + c.want + "\n"; code != 1 || stdout != "" || stderr != want {
					t.Errorf("-o %s: exit %d, stderr %q\nwant %q", out, code, stderr, want)
				}
			}
		})
	}
}

// TestDamagedPackageSays: a package cut short, and an empty file, say so
// in unpack, inspect and extract, instead of "not a valid zip file".
func TestDamagedPackageSays(t *testing.T) {
	full, err := os.ReadFile(fixtures.Path(t, "desktopinfo.intunewin"))
	if err != nil {
		t.Fatal(err)
	}
	cut := writeFile(t, "bad.intunewin", full[:100000])
	empty := writeFile(t, "empty.intunewin", nil)
	cutZip := writeFile(t, "bad.zip", full[:100000])
	emptyZip := writeFile(t, "empty.zip", nil)
	junkZip := writeFile(t, "junk.zip", []byte("garbage"))
	trunc := "truncated or corrupt .intunewin (it starts like a ZIP but has no end record; 100000 bytes)"
	for _, c := range []struct {
		cmd, file, want string
	}{
		{"unpack", cut, trunc},
		{"inspect", cut, trunc},
		{"unpack", empty, "empty file"},
		{"inspect", empty, "empty file"},
		{"extract", cutZip, "truncated or corrupt ZIP (it has no end record; 100000 bytes)"},
		{"extract", emptyZip, "empty file"},
		{"extract", junkZip, "not a ZIP"},
	} {
		args := []string{c.cmd, c.file}
		if c.cmd != "inspect" {
			args = []string{c.cmd, "-o", nonEmptyDir(t), c.file} // the file's fault comes first
		}
		code, stdout, stderr := runCLI(t, args...)
		if want := "imepipe " + c.cmd + ": " + c.file + ": " + c.want + "\n"; code != 1 || stdout != "" || stderr != want {
			t.Errorf("%s %s: exit %d, stderr %q\nwant %q", c.cmd, filepath.Base(c.file), code, stderr, want)
		}
	}
}

// TestErrorLineShape: every failure of unpack, inspect and extract is
// "imepipe CMD: FILE: reason", naming FILE once and no package (decrypt:,
// stage:); a keys file that is not there is "keys file NAME: no such
// file"; an interrupted run says so. Nothing is extracted.
func TestErrorLineShape(t *testing.T) {
	pkg := fixtures.Path(t, "7zip.intunewin")
	good, err := os.ReadFile(pkg)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(good), int64(len(good)))
	if err != nil {
		t.Fatal(err)
	}
	var off int64
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, "IntunePackage.intunewin") {
			if off, err = f.DataOffset(); err != nil {
				t.Fatal(err)
			}
		}
	}
	tampered := bytes.Clone(good)
	tampered[off+60] ^= 4 // a ciphertext bit
	bin := rawBin(t, pkg)
	raw, _ := os.ReadFile(bin)
	short := writeFile(t, "short.bin", raw[:len(raw)-7])
	zipData, err := os.ReadFile(filepath.Join("..", "..", "stage", "testdata", "7zip.zip"))
	if err != nil {
		t.Fatal(err)
	}
	dirAt := bytes.Index(zipData, []byte("PK\x01\x02")) // its central directory, whose end record stays
	badZip := writeFile(t, "bad.zip", append(append(bytes.Clone(zipData[:dirAt]), "XX"...), zipData[dirAt+2:]...))
	missing := filepath.Join(t.TempDir(), "missing.intunewin")
	noKeys := filepath.Join(t.TempDir(), "nonexist.json")
	x := writeFile(t, "x.intunewin", tampered)

	cases := []struct {
		args []string
		file string // named once in the line, "" for none
		line string
	}{
		{[]string{"unpack", x}, x, "imepipe unpack: " + x + ": HMAC mismatch: package altered or wrong MAC key; nothing extracted"},
		{[]string{"unpack", "--key", b64(32), "--iv", iv7zip, bin}, bin, "imepipe unpack: " + bin + ": bad PKCS#7 padding: wrong key or IV, or corrupt content; nothing extracted"},
		{[]string{"unpack", "--key", key7zip, "--iv", iv7zip, "--mac-key", macKey7zip, "--mac", mac7zip, "--digest", b64(32), bin}, bin,
			"imepipe unpack: " + bin + ": FileDigest mismatch: decrypted content differs from what was packed; nothing extracted"},
		{[]string{"unpack", "--key", key7zip, "--iv", iv7zip, short}, short,
			"imepipe unpack: " + short + ": encrypted content truncated: ciphertext of 905 bytes is not whole AES blocks; nothing extracted"},
		{[]string{"unpack", missing}, missing, "imepipe unpack: " + missing + ": no such file"},
		{[]string{"unpack", "--key", key7zip, "--iv", iv7zip, missing}, missing, "imepipe unpack: " + missing + ": no such file"},
		{[]string{"inspect", missing}, missing, "imepipe inspect: " + missing + ": no such file"},
		{[]string{"extract", missing}, missing, "imepipe extract: " + missing + ": no such file"},
		{[]string{"unpack", "--keys-file", noKeys, bin}, noKeys, "imepipe unpack: keys file " + noKeys + ": no such file"},
		{[]string{"extract", badZip}, badZip, "imepipe extract: " + badZip + ": truncated or corrupt ZIP (its ZIP directory is unreadable; " + strconv.Itoa(len(zipData)) + " bytes)"},
	}
	for _, c := range cases {
		parent := t.TempDir()
		args := append([]string{c.args[0], "-o", filepath.Join(parent, "out")}, c.args[1:]...)
		if c.args[0] == "inspect" {
			args = c.args
		}
		code, stdout, stderr := runCLI(t, args...)
		if code != 1 || stdout != "" || stderr != c.line+"\n" {
			t.Errorf("%s: exit %d, stderr %q\nwant %q", strings.Join(c.args, " "), code, stderr, c.line)
		}
		if strings.Count(stderr, c.file) != 1 || strings.Contains(stderr, "decrypt:") || strings.Contains(stderr, "stage:") {
			t.Errorf("%s: %q names the file more than once, or a package", strings.Join(c.args, " "), stderr)
		}
		if ents, _ := os.ReadDir(parent); len(ents) != 0 {
			t.Errorf("%s: left %v in the output's parent", strings.Join(c.args, " "), ents)
		}
	}

	// Ctrl-C: main cancels the context.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, args := range [][]string{
		{"unpack", pkg},
		{"unpack", "--keys-file", filepath.Join("testdata", "keys-7zip.json"), bin},
		{"extract", filepath.Join("..", "..", "stage", "testdata", "7zip.zip")},
	} {
		parent := t.TempDir()
		args = append([]string{args[0], "-o", filepath.Join(parent, "out")}, args[1:]...)
		code, stdout, stderr := runCLIContext(ctx, args...)
		if want := "imepipe " + args[0] + ": interrupted; nothing extracted\n"; code != 1 || stdout != "" || stderr != want {
			t.Errorf("%s, interrupted: exit %d, stderr %q, want %q", strings.Join(args, " "), code, stderr, want)
		}
		if ents, _ := os.ReadDir(parent); len(ents) != 0 {
			t.Errorf("%s, interrupted: left %v", strings.Join(args, " "), ents)
		}
	}
}

// TestUnpackWorkersChecked: unpack's -j refuses a negative count as
// extract's and pack's do, and a huge one is capped, not a goroutine per
// unit asked for (-j 100000 on a 2 KiB package made 400,000 allocations
// and took 278 MiB); the help says what 0 means.
func TestUnpackWorkersChecked(t *testing.T) {
	pkg := fixtures.Path(t, "7zip.intunewin")
	for _, cmd := range []string{"unpack", "extract"} {
		code, stdout, stderr := runCLI(t, cmd, "-j", "-5", "-o", filepath.Join(t.TempDir(), "out"), pkg)
		if want := "imepipe " + cmd + ": invalid value \"-5\" for -j: want 0 or more\n"; code != 2 || stdout != "" || stderr != want {
			t.Errorf("%s -j -5: exit %d, stderr %q, want %q", cmd, code, stderr, want)
		}
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	code, _, stderr := runCLI(t, "unpack", "-j", "100000", "-o", filepath.Join(t.TempDir(), "out"), pkg)
	runtime.ReadMemStats(&after)
	if code != 0 {
		t.Fatalf("-j 100000: exit %d, %s", code, stderr)
	}
	// Measured: 1,300 with the cap (256 workers: 1,750), 400,000 without.
	if n := after.Mallocs - before.Mallocs; n > 20000 {
		t.Errorf("-j 100000 made %d allocations: the workers are not capped", n)
	}
	for _, cmd := range []string{"unpack", "extract"} {
		_, stdout, _ := runCLI(t, cmd, "--help")
		if !strings.Contains(stdout, "0: two per CPU; at most 256") || strings.Contains(stdout, "one per CPU") {
			t.Errorf("%s --help does not say -j 0 is two per CPU, at most 256:\n%s", cmd, stdout)
		}
	}
}

// TestUnpackKeyFlagsAreUsage: a raw-mode key that is not base64, or not
// of its size, is a usage error (exit 2) in the README's form.
func TestUnpackKeyFlagsAreUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--key", "abc", "--iv", iv7zip}, `invalid value for --key (not shown: key material): not base64`},
		{[]string{"--key", b64(16), "--iv", iv7zip}, `invalid value for --key (not shown: key material): 16 bytes, want 32`},
		{[]string{"--key", key7zip, "--iv", b64(32)}, `invalid value "` + b64(32) + `" for --iv: 32 bytes, want 16`},
		{[]string{"--key", key7zip, "--iv", iv7zip, "--mac-key", "!!", "--mac", mac7zip}, `invalid value for --mac-key (not shown: key material): not base64`},
		{[]string{"--key", key7zip, "--iv", iv7zip, "--mac-key", macKey7zip, "--mac", b64(8)}, `invalid value "` + b64(8) + `" for --mac: 8 bytes, want 32`},
		{[]string{"--key", key7zip, "--iv", iv7zip, "--digest", "x"}, `invalid value "x" for --digest: not base64`},
	} {
		parent := t.TempDir()
		args := append(append([]string{"unpack", "-o", filepath.Join(parent, "out")}, c.args...), "app.intunewin.bin")
		code, stdout, stderr := runCLI(t, args...)
		if want := "imepipe unpack: " + c.want + "\n"; code != 2 || stdout != "" || stderr != want {
			t.Errorf("%v: exit %d, stderr %q, want exit 2 and %q", c.args, code, stderr, want)
		}
	}
}

// TestUnpackSaysUnverified: a raw unpack that checked neither the HMAC
// nor the FileDigest says NOT verified, naming both, in its summary and
// in one warning; one that checked one names the other; a verified one
// keeps the short wording and warns of nothing.
func TestUnpackSaysUnverified(t *testing.T) {
	bin := rawBin(t, fixtures.Path(t, "7zip.intunewin"))
	for _, c := range []struct {
		name      string
		args      []string
		summary   string
		warnWords []string // in the one warning line; none: no warning
	}{
		{"key and IV only", []string{"--key", key7zip, "--iv", iv7zip}, ", NOT verified (no MAC key, no FileDigest)\n", []string{"NOT verified", "HMAC", "FileDigest"}},
		{"no digest", []string{"--key", key7zip, "--iv", iv7zip, "--mac-key", macKey7zip, "--mac", mac7zip}, ", HMAC verified, FileDigest NOT (no FileDigest)\n", []string{"FileDigest not checked", "--digest"}},
		{"no MAC key", []string{"--key", key7zip, "--iv", iv7zip, "--digest", digest7zip}, ", FileDigest verified, HMAC NOT (no MAC key)\n", []string{"HMAC not checked", "--mac-key"}},
		{"all", []string{"--key", key7zip, "--iv", iv7zip, "--mac-key", macKey7zip, "--mac", mac7zip, "--digest", digest7zip}, "", nil},
		{"keys file", []string{"--keys-file", filepath.Join("testdata", "keys-7zip.json")}, "", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			code, stdout, stderr := runCLI(t, append(append([]string{"unpack", "-o", out}, c.args...), bin)...)
			if code != 0 || !strings.HasPrefix(stdout, "unpacked ") || strings.Count(stdout, "\n") != 1 {
				t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
			}
			if c.warnWords == nil {
				if !strings.Contains(stdout, " (HMAC and FileDigest verified) in ") || stderr != "" {
					t.Errorf("verified: stdout %q, stderr %q", stdout, stderr)
				}
				return
			}
			if !strings.HasSuffix(stdout, c.summary) || strings.Contains(stdout, "checked: false") {
				t.Errorf("summary %q, want it to end %q", stdout, c.summary)
			}
			if !strings.HasPrefix(stderr, "imepipe unpack: warning: ") || strings.Count(stderr, "\n") != 1 {
				t.Fatalf("want one warning line, got %q", stderr)
			}
			for _, w := range c.warnWords {
				if !strings.Contains(stderr, w) {
					t.Errorf("warning %q lacks %q", stderr, w)
				}
			}
		})
	}
}
