package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imepipe/imepipe/decrypt"
	"github.com/imepipe/imepipe/internal/fixtures"
)

// rawBin writes the encrypted inner file of a fixture to a .bin and
// returns its path.
func rawBin(t *testing.T, fixture string) string {
	t.Helper()
	data, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	pkg, f, err := decrypt.OpenFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	_, off, _ := pkg.Content.Outer()
	n := pkg.ContentSize
	f.Close()
	p := filepath.Join(t.TempDir(), "IntunePackage.intunewin.bin")
	if err := os.WriteFile(p, data[off:off+n], 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// runCLIStdin is runCLI with standard input.
func runCLIStdin(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), &env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb}, args)
	return code, out.String(), errb.String()
}

// TestUnpackKeysFile: the JSON inspect --json --show-keys prints unpacks
// the raw .bin with the HMAC and FileDigest verified, from a file and
// from standard input.
func TestUnpackKeysFile(t *testing.T) {
	fixture := fixtures.Path(t, "7zip.intunewin")
	bin := rawBin(t, fixture)
	code, keys, stderr := runCLI(t, "inspect", "--json", "--show-keys", fixture)
	if code != 0 {
		t.Fatalf("inspect: %d %s", code, stderr)
	}
	kf := filepath.Join(t.TempDir(), "keys.json")
	os.WriteFile(kf, []byte(keys), 0o600)
	for _, c := range []struct {
		name, stdin, file string
	}{{"file", "", kf}, {"stdin", keys, "-"}} {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			code, stdout, stderr := runCLIStdin(t, c.stdin, "unpack", "--keys-file", c.file, "-o", out, bin)
			if code != 0 || stderr != "" {
				t.Fatalf("exit %d, stderr %q", code, stderr)
			}
			if !strings.Contains(stdout, "HMAC and FileDigest verified") {
				t.Fatalf("not verified: %s", stdout)
			}
			if _, err := os.Stat(filepath.Join(out, "install.ps1")); err != nil {
				t.Fatal(err)
			}
		})
	}
	// --json names the package as inspect did beside the keys (it left
	// name, setupFile and toolVersion empty for a raw .bin).
	var want, got map[string]any
	code, stdout, stderr := runCLI(t, "unpack", "--json", "--keys-file", kf, "-o", filepath.Join(t.TempDir(), "j"), bin)
	if err := json.Unmarshal([]byte(keys), &want); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(stdout), &got); code != 0 || err != nil {
		t.Fatalf("--json: exit %d, %v, stderr %q", code, err, stderr)
	}
	for _, f := range []string{"name", "setupFile", "toolVersion"} {
		if got[f] != want[f] || got[f] == "" {
			t.Errorf("%s = %q, want inspect's %q", f, got[f], want[f])
		}
	}
}

// TestUnpackKeysFileBad: a malformed file, a file with some keys only, a
// file without keys and a flag mix are each one clear line, and nothing
// is written.
func TestUnpackKeysFileBad(t *testing.T) {
	fixture := fixtures.Path(t, "7zip.intunewin")
	bin := rawBin(t, fixture)
	_, keys, _ := runCLI(t, "inspect", "--json", "--show-keys", fixture)
	_, noKeys, _ := runCLI(t, "inspect", "--json", fixture)
	without := func(field string) string {
		var m map[string]any
		if err := json.Unmarshal([]byte(keys), &m); err != nil {
			t.Fatal(err)
		}
		delete(m, field)
		b, _ := json.Marshal(m)
		return string(b)
	}
	dir := t.TempDir()
	cases := []struct {
		name, content string
		args          []string
		code          int
		want          string
	}{
		{"malformed", `{"encryptionKey": "AAAA"`, nil, 1, "not the JSON of inspect --json --show-keys"},
		{"two documents", keys + keys, nil, 1, "more than one document"},
		{"no IV", without("initializationVector"), nil, 1, "no initializationVector"},
		{"no mac key", without("macKey"), nil, 1, "no macKey"},
		{"no encryption key", without("encryptionKey"), nil, 1, "no encryptionKey"},
		{"keys hidden", noKeys, nil, 1, "no keys in it (write it with inspect --json --show-keys)"},
		{"short key", strings.Replace(keys, `"initializationVector": "`, `"initializationVector": "AAAA`, 1), nil, 1, "initializationVector is 19 bytes"},
		{"with --key", keys, []string{"--key", "AAAA"}, 2, "--keys-file replaces --key"},
		{"missing file", "", nil, 1, ": no such file\n"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			kf := filepath.Join(dir, c.name+".json")
			if c.name != "missing file" {
				os.WriteFile(kf, []byte(c.content), 0o600)
			}
			out := filepath.Join(dir, "out", c.name)
			args := append([]string{"unpack", "--keys-file", kf, "-o", out, bin}, c.args...)
			code, stdout, stderr := runCLI(t, args...)
			if code != c.code || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, c.want) || stdout != "" {
				t.Fatalf("case %d: exit %d, stdout %q, stderr %q; want exit %d and one line with %q", i, code, stdout, stderr, c.code, c.want)
			}
			if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("output %s written: %v", out, err)
			}
		})
	}
}

// FuzzParseKeys: any input is keys or an error, never a panic; keys
// parsed have the sizes decrypt needs.
func FuzzParseKeys(f *testing.F) {
	seed, err := os.ReadFile("testdata/keys-7zip.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte(`{"keysShown": false}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := parseKeys(data)
		if err != nil {
			return
		}
		if len(k.EncryptionKey) != decrypt.KeySize || len(k.IV) != decrypt.IVSize || len(k.MacKey) != decrypt.KeySize || len(k.Mac) != decrypt.MacSize {
			t.Fatalf("keys of wrong sizes: %d %d %d %d", len(k.EncryptionKey), len(k.IV), len(k.MacKey), len(k.Mac))
		}
	})
}
