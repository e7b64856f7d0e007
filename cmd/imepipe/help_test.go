package main

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/imepipe/imepipe/decrypt"
)

// cliTable is every command and subcommand of main's dispatch: the words
// that name it, what its help must name (its arguments), and three usage
// errors with the flag each one's line must name.
var cliTable = []struct {
	cmd    []string
	names  []string // in the help's usage line
	errors []usageCase
}{
	{[]string{"agent"}, []string{"--service URL", "--root DIR"}, []usageCase{
		{[]string{"--bogus"}, "-bogus"}, {[]string{"--download-mode", "7"}, "--download-mode"}, {[]string{"--sync-interval", "soon"}, "--sync-interval"}}},
	{[]string{"apps"}, []string{"apps check DIR"}, []usageCase{
		{[]string{"check"}, "DIR"}, {[]string{"check", "d", "--json=maybe"}, "--json"}, {[]string{"check", "d", "--bogus"}, "-bogus"}}},
	{[]string{"apps", "check"}, []string{"DIR", "--json"}, nil},
	{[]string{"bench"}, []string{"local|fleet|service"}, []usageCase{
		{[]string{"--size", "banana"}, "--size"}, {[]string{"--runs", "0"}, "--runs"}, {[]string{"--origin-rate", "fast"}, "--origin-rate"}}},
	{[]string{"bench", "local"}, []string{"bench local"}, []usageCase{
		{[]string{"--size", "banana"}, "--size"}, {[]string{"--runs", "x"}, "--runs"}, {[]string{"--profile", "odd"}, "--profile"}}},
	{[]string{"bench", "fleet"}, []string{"bench fleet"}, []usageCase{
		{[]string{"--agents", "0"}, "--agents"}, {[]string{"--size", "banana"}, "--size"}, {[]string{"--mode", "7"}, "--mode"}}},
	{[]string{"bench", "service"}, []string{"--agents", "--store both|bbolt|postgres"}, []usageCase{
		{[]string{"--agents", "0"}, "--agents"}, {[]string{"--store", "mysql"}, "--store"}, {[]string{"--concurrency", "x"}, "--concurrency"}}},
	{[]string{"demo"}, []string{"--size SIZE"}, []usageCase{
		{[]string{"--size", "banana"}, "--size"}, {[]string{"--keep=maybe"}, "--keep"}, {[]string{"--bogus"}, "-bogus"}}},
	{[]string{"do"}, []string{"do status"}, []usageCase{
		{[]string{"status", "--bogus"}, "-bogus"}, {[]string{"status", "--json=maybe"}, "--json"}, {[]string{"status", "--root"}, "-root"}}},
	{[]string{"do", "status"}, []string{"--root DIR", "--table"}, nil},
	{[]string{"do", "pin"}, []string{"FILEID"}, []usageCase{
		{[]string{"--bogus", "x"}, "-bogus"}, {[]string{"--root"}, "-root"}, {[]string{"-x", "x"}, "-x"}}},
	{[]string{"do", "unpin"}, []string{"FILEID"}, nil},
	{[]string{"extract"}, []string{"FILE.zip", "-o DIR"}, []usageCase{
		{[]string{"-j", "-1", "x.zip"}, "-j"}, {[]string{"-j", "x", "x.zip"}, "-j"}, {[]string{"--force=2", "x.zip"}, "--force"}}},
	{[]string{"fetch"}, []string{"URL", "-o FILE"}, []usageCase{
		{[]string{"--connections", "0", "http://127.0.0.1/x"}, "--connections"}, {[]string{"--chunk-size", "huge", "http://127.0.0.1/x"}, "--chunk-size"},
		{[]string{"--sha256", "xyz", "http://127.0.0.1/x"}, "--sha256"}}},
	{[]string{"grs"}, []string{"reset APPID[_REV]"}, []usageCase{
		{[]string{"reset", "A", "--bogus"}, "-bogus"}, {[]string{"reset", "A", "--root"}, "-root"}, {[]string{"reset", "A", "-x"}, "-x"}}},
	{[]string{"health"}, []string{"--root DIR"}, []usageCase{
		{[]string{"--bogus"}, "-bogus"}, {[]string{"--json=maybe"}, "--json"}, {[]string{"--root"}, "-root"}}},
	{[]string{"inspect"}, []string{"FILE.intunewin"}, []usageCase{
		{[]string{"--bogus", "x"}, "-bogus"}, {[]string{"--json=maybe", "x"}, "--json"}, {[]string{"--show-keys=2", "x"}, "--show-keys"}}},
	{[]string{"install"}, []string{"APPID"}, []usageCase{
		{[]string{"A", "--bogus"}, "-bogus"}, {[]string{"A", "--json=maybe"}, "--json"}, {[]string{"A", "--root"}, "-root"}}},
	{[]string{"uninstall"}, []string{"APPID"}, []usageCase{
		{[]string{"A", "--bogus"}, "-bogus"}, {[]string{"A", "--json=maybe"}, "--json"}, {[]string{"A", "--root"}, "-root"}}},
	{[]string{"mcc"}, []string{"--dir DIR", "--origins HOST"}, []usageCase{
		{[]string{"--dir", "d", "--origins", "h", "--scheme", "ftp"}, "--scheme"}, {[]string{"--origins", "h"}, "--dir"},
		{[]string{"--dir", "d", "--origins", "h", "--any-origin"}, "--any-origin"}}},
	{[]string{"pack"}, []string{"-c SETUP_FOLDER", "-s SETUP_FILE", "-o OUTPUT_FOLDER", "-a CATALOG_FOLDER"}, []usageCase{
		{[]string{"-j", "x"}, "-j"}, {[]string{"-c", "x"}, "-s"}, {[]string{"-q=maybe"}, "-q"}}},
	{[]string{"reg"}, []string{"add|query|delete KEY"}, []usageCase{
		{[]string{"query", `HKLM\X`, "/t"}, "/t"}, {[]string{"query", `HKLM\X`, "/x"}, "/x"}, {[]string{"query", `HKLM\X`, "--root"}, "--root"}}},
	{[]string{"serve"}, []string{"--apps DIR"}, []usageCase{
		{[]string{"--apps", "a", "--blob-ttl", "0s"}, "--blob-ttl"}, {[]string{"--apps", "a", "--peer-ttl", "x"}, "--peer-ttl"},
		{[]string{"--apps", "a", "--tls-cert", "c"}, "--tls-key"}}},
	{[]string{"status"}, []string{"--root DIR"}, []usageCase{
		{[]string{"--bogus"}, "-bogus"}, {[]string{"--json=maybe"}, "--json"}, {[]string{"--root"}, "-root"}}},
	{[]string{"version"}, []string{"version"}, []usageCase{
		{[]string{"--bogus"}, "--bogus"}, {[]string{"extra"}, "no arguments"}, {[]string{"-x"}, "-x"}}},
	{[]string{"sync"}, []string{"app|compliance"}, []usageCase{
		{[]string{"--bogus"}, "-bogus"}, {[]string{"--root"}, "-root"}, {[]string{"bogus"}, `"bogus"`}}},
	{[]string{"unpack"}, []string{"FILE.intunewin", "--keys-file"}, []usageCase{
		{[]string{"--key", "AAAA", "x.bin"}, "--iv"}, {[]string{"-j", "x", "x.intunewin"}, "-j"}, {[]string{"--mac-key", "k", "x.intunewin"}, "--mac-key"}}},
}

// usageCase is a bad invocation and the flag its one error line names.
type usageCase struct {
	args []string
	flag string
}

// TestHelpTable (acceptance 1): every command's --help and -h print its
// help on stdout (nothing on stderr), exit 0, name its arguments and
// show an example; three usage errors per command exit 2 with one line
// on stderr that names the flag, and nothing on stdout.
func TestHelpTable(t *testing.T) {
	covered := map[string]bool{}
	for _, c := range cliTable {
		covered[c.cmd[0]] = true
		name := strings.Join(c.cmd, " ")
		for _, h := range []string{"--help", "-h"} {
			code, stdout, stderr := runCLI(t, append(append([]string{}, c.cmd...), h)...)
			if code != 0 || stderr != "" {
				t.Errorf("%s %s: exit %d, stderr %q", name, h, code, stderr)
			}
			first, _, _ := strings.Cut(stdout, "\n")
			if !strings.HasPrefix(first, "usage: imepipe "+c.cmd[0]) {
				t.Errorf("%s %s: first line %q", name, h, first)
			}
			usage, _, _ := strings.Cut(stdout, "\n\n")
			for _, n := range c.names {
				if !strings.Contains(usage, n) {
					t.Errorf("%s %s: usage %q does not name %q", name, h, usage, n)
				}
			}
			if !strings.Contains(stdout, "\nexamples:\n  imepipe "+c.cmd[0]) {
				t.Errorf("%s %s: no example in %q", name, h, stdout)
			}
		}
		if len(c.cmd) == 1 && c.cmd[0] != "do" && c.cmd[0] != "bench" && len(c.errors) != 3 {
			t.Errorf("%s: want three usage errors in the table, got %d", name, len(c.errors))
		}
		for _, u := range c.errors {
			args := append(append([]string{}, c.cmd...), u.args...)
			code, stdout, stderr := runCLI(t, args...)
			if code != 2 || stdout != "" || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, u.flag) {
				t.Errorf("%q: exit %d, stdout %q, stderr %q (want exit 2 and one line naming %s)", args, code, stdout, stderr, u.flag)
			}
		}
	}
	for n := range commands {
		if !covered[n] {
			t.Errorf("command %s is not in cliTable", n)
		}
		if _, ok := helps[n]; !ok {
			t.Errorf("command %s has no help text", n)
		}
	}
}

// TestTopLevelHelp: imepipe --help and imepipe help go to stdout with
// exit 0; imepipe alone is a usage error on stderr; help COMMAND is the
// command's --help.
func TestTopLevelHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		code, stdout, stderr := runCLI(t, args...)
		if code != 0 || stderr != "" || !strings.HasPrefix(stdout, "usage: imepipe COMMAND") || !strings.Contains(stdout, "  fetch ") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
		}
	}
	if code, stdout, stderr := runCLI(t); code != 2 || stdout != "" || !strings.HasPrefix(stderr, "usage: imepipe") {
		t.Errorf("no args: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	code, stdout, _ := runCLI(t, "help", "grs")
	if code != 0 || !strings.HasPrefix(stdout, "usage: imepipe grs reset APPID[_REV]") {
		t.Errorf("help grs: exit %d, stdout %q", code, stdout)
	}
	if code, _, stderr := runCLI(t, "help", "nosuch"); code != 2 || !strings.Contains(stderr, "nosuch") {
		t.Errorf("help nosuch: exit %d, stderr %q", code, stderr)
	}
}

// TestBenchHelpListsFlags: bench --help lists the end-to-end benchmark's
// flags and names the other benchmarks.
func TestBenchHelpListsFlags(t *testing.T) {
	_, stdout, _ := runCLI(t, "bench", "--help")
	for _, want := range []string{"-size", "-runs", "-origin-rate", "local", "fleet"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("bench --help lacks %q:\n%s", want, stdout)
		}
	}
}

// TestBadSizeLine: the example, word for word.
func TestBadSizeLine(t *testing.T) {
	code, _, stderr := runCLI(t, "demo", "--size", "banana")
	if want := "imepipe demo: invalid value \"banana\" for --size: not a size (e.g. 64MiB)\n"; code != 2 || stderr != want {
		t.Fatalf("exit %d, stderr %q, want %q", code, stderr, want)
	}
}

// TestHelpSpellsFlags: a command's help names its flags as our error
// lines do (-o, --keys-file), not with the flag package's one dash, and
// ends with the exit statuses; an unknown flag is reported the same way.
func TestHelpSpellsFlags(t *testing.T) {
	_, stdout, _ := runCLI(t, "unpack", "--help")
	for _, want := range []string{"\n  --keys-file FILE\n", "\n  -o DIR\n", "\n  -j N\n", "\n  --force\n", exitStatusLine + "\n"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("unpack --help lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, "\n  -keys-file") {
		t.Errorf("unpack --help spells --keys-file with one dash:\n%s", stdout)
	}
	_, stdout, _ = runCLI(t, "fetch", "--help")
	if !strings.Contains(stdout, "\n  --connections N (default 8)\n") {
		t.Errorf("fetch --help does not show --connections' default:\n%s", stdout)
	}
	if _, stdout, _ = runCLI(t, "--help"); !strings.Contains(stdout, exitStatusLine) {
		t.Errorf("imepipe --help does not say the exit statuses:\n%s", stdout)
	}
	for args, want := range map[string]string{
		"unpack --bogus x.intunewin": "imepipe unpack: unknown flag --bogus (see imepipe unpack --help)\n",
		"unpack x.intunewin -o":      "imepipe unpack: -o needs a value (see imepipe unpack --help)\n",
	} {
		if code, _, stderr := runCLI(t, strings.Fields(args)...); code != 2 || stderr != want {
			t.Errorf("%s: exit %d, stderr %q, want %q", args, code, stderr, want)
		}
	}
}

// TestVersion: imepipe --version and imepipe version print the same one
// line: imepipe, the Go toolchain and platform, and pack's ToolVersion.
func TestVersion(t *testing.T) {
	_, a, _ := runCLI(t, "--version")
	code, b, stderr := runCLI(t, "version")
	want := fmt.Sprintf("(%s %s/%s; packs as IntuneWinAppUtil %s)\n", runtime.Version(), runtime.GOOS, runtime.GOARCH, decrypt.ToolVersion)
	if code != 0 || stderr != "" || a != b || !strings.HasPrefix(b, "imepipe ") || !strings.HasSuffix(b, want) || strings.Count(b, "\n") != 1 {
		t.Errorf("--version %q, version: exit %d %q (stderr %q); want one line ending %q", a, code, b, stderr, want)
	}
	if code, _, _ := runCLI(t, "version", "extra"); code != 2 {
		t.Errorf("version extra: exit %d, want 2", code)
	}
}

// TestHelpSubcommand: "imepipe help bench fleet" is "imepipe bench fleet
// --help", not the help of bench alone.
func TestHelpSubcommand(t *testing.T) {
	code, got, _ := runCLI(t, "help", "bench", "fleet")
	_, want, _ := runCLI(t, "bench", "fleet", "--help")
	_, bench, _ := runCLI(t, "bench", "--help")
	if code != 0 || got != want || got == bench {
		t.Errorf("help bench fleet: exit %d, printed %q; want bench fleet --help's %q", code, got, want)
	}
}
