package orchestrate

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/imepipe/imepipe/imeapi"
)

// TestKeptContentVerifiedBeforeReuse is issue #11 (5): kept (persisted)
// content is checked against its manifest before every reuse. Unchanged,
// it is reused without a byte from the origin; with install.sh edited, a
// file added or a symlink planted, it is discarded, downloaded again and
// the original installer runs.
func TestKeptContentVerifiedBeforeReuse(t *testing.T) {
	app := fileApp("Kept", "required").with("persistContent", true).
		installs(`mkdir -p "$ProgramData"; echo original >> "$ProgramData/runs.txt"; mkdir -p "$ProgramFiles/Kept" && echo installed > "$ProgramFiles/Kept/app.txt"`,
			keptCmd("original"))
	h := newHarness(t, []testApp{app}, nil)
	lp := lie(t, h)
	runs := filepath.Join(h.cfg.Root, "Drive", "C", "ProgramData", "runs.txt")
	kept := filepath.Join(h.agent.layout.IMECache, app.id()+"_1")
	h.sync()
	h.wantState(app.id(), imeapi.EnforcementSuccess, imeapi.ComplianceInstalled, 0)
	if lp.blobBytes.Load() == 0 {
		t.Fatal("first install downloaded nothing")
	}
	if _, err := os.Stat(filepath.Join(kept, installerName())); err != nil {
		t.Fatalf("content not kept: %v", err)
	}
	steps := []struct {
		name     string
		tamper   func()
		download bool
	}{
		{"unchanged", func() {}, false},
		{"installer edited", func() {
			edited := `mkdir -p "$ProgramData"; echo edited >> "$ProgramData/runs.txt"; mkdir -p "$ProgramFiles/Kept" && echo installed > "$ProgramFiles/Kept/app.txt"`
			if runtime.GOOS == "windows" {
				edited = keptCmd("edited")
			}
			must(t, os.WriteFile(filepath.Join(kept, installerName()), []byte(edited+"\n"), 0o755))
		}, true},
		{"extra file", func() {
			must(t, os.WriteFile(filepath.Join(kept, "extra.dll"), []byte("planted"), 0o644))
		}, true},
		{"symlink planted", func() {
			must(t, os.Remove(filepath.Join(kept, uninstallerName())))
			must(t, os.Symlink(os.Args[0], filepath.Join(kept, uninstallerName())))
		}, true},
		{"file removed", func() { must(t, os.Remove(filepath.Join(kept, uninstallerName()))) }, true},
		{"unchanged again", func() {}, false},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			must(t, os.Remove(h.programFiles("Kept", "app.txt"))) // the app is gone: repair
			s.tamper()
			before, logBefore := lp.blobBytes.Load(), len(h.log())
			h.sync()
			h.wantState(app.id(), imeapi.EnforcementSuccess, imeapi.ComplianceInstalled, 0)
			log := h.log()[logBefore:]
			got := lp.blobBytes.Load() - before
			switch {
			case s.download && (got == 0 || !strings.Contains(log, "does not verify")):
				t.Fatalf("tampered kept content reused (origin bytes %d):\n%s", got, log)
			case !s.download && (got != 0 || !strings.Contains(log, "Using persisted content")):
				t.Fatalf("verified kept content not reused (origin bytes %d):\n%s", got, log)
			}
			b, err := os.ReadFile(runs)
			must(t, err)
			lines := strings.Fields(string(b)) // one word a line, LF or CRLF
			if last := lines[len(lines)-1]; last != "original" {
				t.Fatalf("the installer that ran wrote %q", last)
			}
			if _, err := os.Lstat(filepath.Join(kept, "extra.dll")); err == nil {
				t.Fatal("the planted file survived")
			}
			if fi, err := os.Lstat(filepath.Join(kept, uninstallerName())); err != nil || !fi.Mode().IsRegular() {
				t.Fatalf("kept %s: %v %v", uninstallerName(), fi, err)
			}
		})
	}
}

// keptCmd is the Windows installer of TestKeptContentVerifiedBeforeReuse:
// it appends word to ProgramData\runs.txt and installs the app.
func keptCmd(word string) string {
	return "@echo off\r\nif not exist \"%ProgramData%\" mkdir \"%ProgramData%\"\r\necho " + word + ">>\"%ProgramData%\\runs.txt\"\r\n" +
		"if not exist \"%ProgramFiles%\\Kept\" mkdir \"%ProgramFiles%\\Kept\"\r\necho installed>\"%ProgramFiles%\\Kept\\app.txt\""
}
