package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	binDir    string
)

// imepipeBinary builds cmd/imepipe once for the tests of this package, or
// takes $IMEPIPE_BIN when set: make test-windows sets it to an imepipe.exe it
// built, since no Go toolchain runs inside Wine.
func imepipeBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("IMEPIPE_BIN"); p != "" {
		return p
	}
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "imepipe-bench-bin-")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "imepipe")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/imepipe")
		cmd.Dir = ".."
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = errors.New(string(out))
		}
	})
	if buildErr != nil {
		t.Fatalf("build imepipe: %v", buildErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

func runCLI(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	cmd := exec.Command(imepipeBinary(t), args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

func TestBenchLocalJSON(t *testing.T) {
	if testing.Short() {
		t.Skip("builds imepipe and runs it: not in -short")
	}
	out := t.TempDir()
	stdout, stderr, err := runCLI(t, "bench", "local", "--size", "4MiB", "--runs", "1", "--json", "--out", out)
	if err != nil {
		t.Fatalf("%v: %s", err, stderr)
	}
	if stderr != "" {
		t.Errorf("stderr under --json: %q", stderr)
	}
	dec := json.NewDecoder(strings.NewReader(stdout))
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, stdout)
	}
	if dec.More() {
		t.Errorf("more than one JSON document on stdout")
	}
	if doc["size"] != float64(4<<20) || doc["profile"] != "installer" || doc["runs"] != float64(1) {
		t.Errorf("size, profile, runs = %v, %v, %v", doc["size"], doc["profile"], doc["runs"])
	}
	wantNames := []string{NameImepipe, NameStdlib}
	wantRatios := []string{"sequential-stdlib/imepipe"}
	if ToolsMissing() == "" {
		wantNames = append(wantNames, NameTools)
		wantRatios = append(wantRatios, "tools/imepipe")
	} else {
		t.Logf("tools baseline skipped: %s missing", ToolsMissing())
	}
	results, _ := doc["results"].([]any)
	if len(results) != len(wantNames) {
		t.Fatalf("%d results, want %d: %s", len(results), len(wantNames), stdout)
	}
	for i, r := range results {
		m := r.(map[string]any)
		if m["name"] != wantNames[i] {
			t.Errorf("result %d is %v, want %s", i, m["name"], wantNames[i])
		}
		for _, k := range []string{"wall_s", "user_s", "sys_s", "peak_rss_bytes"} {
			if v, ok := m[k].(float64); !ok || v < 0 {
				t.Errorf("%s: %s = %v", m["name"], k, m[k])
			}
		}
		if m["wall_s"].(float64) <= 0 {
			t.Errorf("%s: no wall time", m["name"])
		}
	}
	ratios, _ := doc["ratios"].(map[string]any)
	for _, k := range wantRatios {
		if v, ok := ratios[k].(float64); !ok || v <= 0 {
			t.Errorf("ratio %s = %v", k, ratios[k])
		}
	}
	if len(ratios) != len(wantRatios) {
		t.Errorf("ratios %v, want %v", ratios, wantRatios)
	}
	if _, err := os.Stat(filepath.Join(out, CacheKey(Installer, 4<<20, 1), cachePackage)); err != nil {
		t.Errorf("package not cached: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(out, "runs-*")); len(left) > 0 {
		t.Errorf("run folders left behind: %v", left)
	}

	// Text output, from the cache this time, with progress on stderr.
	stdout, stderr, err = runCLI(t, "bench", "local", "--size", "4MiB", "--runs", "1", "--out", out, "--no-tools")
	if err != nil {
		t.Fatalf("%v: %s", err, stderr)
	}
	if !strings.Contains(stderr, "using the cached package") || strings.Contains(stderr, "generating") {
		t.Errorf("second run did not use the cache:\n%s", stderr)
	}
	for _, want := range []string{"imepipe", "sequential-stdlib/imepipe:", "tools: skipped"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("text output lacks %q:\n%s", want, stdout)
		}
	}
}

func TestBenchUsage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds imepipe: not in -short")
	}
	out := filepath.Join(t.TempDir(), "out")
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"bench", "--help"}, 0, "local"},
		{[]string{"bench", "--bogus"}, 2, "bogus"},
		{[]string{"bench", "remote"}, 2, "unknown benchmark"},
		{[]string{"bench", "local", "--size", "lots"}, 2, "not a size"},
		{[]string{"bench", "local", "--size", "1KiB"}, 2, "at least 64 KiB"},
		{[]string{"bench", "local", "--profile", "huge"}, 2, "profile"},
		{[]string{"bench", "local", "--runs", "0"}, 2, "runs"},
		{[]string{"bench", StdlibCommand, "only-one"}, 2, "PKG DIR"},
		{[]string{"bench", StdlibCommand, "/nonexistent.intunewin", out}, 1, notFoundText(t)},
	}
	for _, tt := range tests {
		stdout, stderr, err := runCLI(t, tt.args...)
		var ee *exec.ExitError
		switch {
		case tt.code == 0 && err != nil:
			t.Errorf("%v: %v, want exit 0", tt.args, err)
		case tt.code != 0 && (!errors.As(err, &ee) || ee.ExitCode() != tt.code):
			t.Errorf("%v: %v, want exit %d", tt.args, err, tt.code)
		}
		got := stderr // errors on stderr; --help on stdout
		if tt.code == 0 {
			got = stdout
		}
		if !strings.Contains(got, tt.want) {
			t.Errorf("%v: output %q lacks %q", tt.args, got, tt.want)
		}
	}
}

func TestRunOnceRejectsWrongOutput(t *testing.T) {
	runs := t.TempDir()
	pk := Packed{Dataset: Dataset{Files: 3, Bytes: 100}, Package: "unused"}
	empty := Contender{Name: "empty", Command: func(ctx context.Context, _, dir, _ string) *exec.Cmd {
		if runtime.GOOS == "windows" {
			return exec.CommandContext(ctx, "cmd.exe", "/c", "mkdir", dir)
		}
		return exec.CommandContext(ctx, "mkdir", dir)
	}}
	if _, err := runOnce(context.Background(), empty, pk, runs, 1); !errors.Is(err, ErrOutput) {
		t.Errorf("a contender that extracts nothing: %v, want ErrOutput", err)
	}
	failing := Contender{Name: "failing", Command: func(ctx context.Context, _, _, _ string) *exec.Cmd {
		if runtime.GOOS == "windows" {
			return exec.CommandContext(ctx, "cmd.exe", "/c", "echo broken 1>&2 & exit 4")
		}
		return exec.CommandContext(ctx, "sh", "-c", "echo broken >&2; exit 4")
	}}
	_, err := runOnce(context.Background(), failing, pk, runs, 1)
	if !errors.Is(err, ErrRun) || !strings.Contains(err.Error(), "broken") {
		t.Errorf("a failing contender: %v, want ErrRun with its stderr", err)
	}
}

func TestDropRunsKeepsLastRound(t *testing.T) {
	runs := t.TempDir()
	for _, name := range []string{"imepipe-1", "imepipe-2", "imepipe-12", "tools-2", "sequential-stdlib-1"} {
		if err := os.Mkdir(filepath.Join(runs, name), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := dropRuns(runs, true, 2); err != nil {
		t.Fatal(err)
	}
	var left []string
	entries, _ := os.ReadDir(runs)
	for _, e := range entries {
		left = append(left, e.Name())
	}
	if want := []string{"imepipe-2", "tools-2"}; !slices.Equal(left, want) {
		t.Errorf("kept %v, want %v", left, want)
	}
	if err := dropRuns(runs, false, 2); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(runs); !os.IsNotExist(err) {
		t.Errorf("without keep the runs folder is still there: %v", err)
	}
}

func TestContendersOnPackage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds imepipe: not in -short")
	}
	_, pkg, ds := packSmall(t)
	cs := []Contender{Imepipe(imepipeBinary(t)), Stdlib(imepipeBinary(t))}
	if ToolsMissing() == "" {
		tc, err := Tools(pkg)
		if err != nil {
			t.Fatal(err)
		}
		cs = append(cs, tc)
	}
	pk := Packed{Dataset: ds, Package: pkg}
	for _, c := range cs {
		s, err := runOnce(context.Background(), c, pk, t.TempDir(), 1)
		if err != nil {
			t.Errorf("%s: %v", c.Name, err)
			continue
		}
		if s.Wall <= 0 {
			t.Errorf("%s: no wall time", c.Name)
		}
	}

	// A tampered package fails every contender.
	orig, err := os.ReadFile(pkg)
	if err != nil {
		t.Fatal(err)
	}
	bad := bytes.Clone(orig)
	bad[len(bad)/2] ^= 1
	badPath := filepath.Join(t.TempDir(), "bad.intunewin")
	if err := os.WriteFile(badPath, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		_, err := runOnce(context.Background(), c, Packed{Dataset: ds, Package: badPath}, t.TempDir(), 1)
		if !errors.Is(err, ErrRun) {
			t.Errorf("%s on a tampered package: %v, want ErrRun", c.Name, err)
		}
	}
}

// notFoundText is how this system words a missing file ("no such file or
// directory" on Linux, "The system cannot find the file specified." on
// Windows): the CLI passes the system's words through.
func notFoundText(t *testing.T) string {
	t.Helper()
	_, err := os.Open(filepath.Join(t.TempDir(), "absent"))
	var pe *os.PathError
	if !errors.As(err, &pe) {
		t.Fatalf("open of a missing file: %v", err)
	}
	return pe.Err.Error()
}
