package orchestrate

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestDefaultRoot: one root per OS, $IMEPIPE_ROOT first.
func TestDefaultRoot(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	cases := []struct {
		goos   string
		getenv func(string) string
		euid   int
		want   string
	}{
		{"linux", env("IMEPIPE_ROOT", "/srv/agent"), 1000, "/srv/agent"},
		{"windows", env("ProgramData", `D:\PD`), 0, `D:\PD\imepipe`},
		{"windows", env(), 0, `C:\ProgramData\imepipe`},
		{"linux", env("XDG_STATE_HOME", "/x"), 0, "/var/lib/imepipe"},
		{"linux", env("XDG_STATE_HOME", "/x"), 1000, "/x/imepipe"},
		{"linux", env("XDG_STATE_HOME", "relative"), 1000, "/home/u/.local/state/imepipe"},
		{"darwin", env(), 501, "/home/u/.local/state/imepipe"},
	}
	for _, c := range cases {
		if got := defaultRoot(c.goos, c.getenv, c.euid, "/home/u"); got != c.want {
			t.Errorf("%s euid %d: %q, want %q", c.goos, c.euid, got, c.want)
		}
	}
}

// TestCheckRoot: a folder without state.db is not an agent root, and
// checking creates nothing.
func TestCheckRoot(t *testing.T) {
	dir := t.TempDir()
	if err := CheckRoot(dir); !errors.Is(err, ErrNotRoot) {
		t.Fatalf("empty folder: %v, want ErrNotRoot", err)
	}
	if err := CheckRoot(filepath.Join(dir, "nope")); err == nil || errors.Is(err, ErrNotRoot) {
		t.Fatalf("missing folder: %v", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("CheckRoot created %v", ents)
	}
	must(t, os.WriteFile(filepath.Join(dir, "state.db"), nil, 0o600))
	if err := CheckRoot(dir); err != nil {
		t.Fatal(err)
	}
}
