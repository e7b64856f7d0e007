package imelog

import (
	"os"
	"strings"
	"testing"
)

// sample formats p with placeholder values of each verb's kind.
func sample(p Phrase) string {
	var args []any
	for _, v := range verbRE.FindAllString(p.Format, -1) {
		if strings.HasSuffix(v, "d") {
			args = append(args, 42)
		} else {
			args = append(args, "X-value")
		}
	}
	return p.Text(args...)
}

// TestEveryPhraseMatchesItself: each phrase's own text maps back to it
// (no other phrase is more specific), IDs and formats are unique, and the
// IME's own phrases are there word for word.
func TestEveryPhraseMatchesItself(t *testing.T) {
	all := All()
	if len(all) < 100 {
		t.Fatalf("%d phrases", len(all))
	}
	patterns := map[string]string{}
	for _, p := range all {
		re, _ := pattern(p.Format)
		if other, dup := patterns[re.String()]; dup {
			t.Errorf("%s and %s read the same (%q)", p.ID, other, p.Format)
		}
		patterns[re.String()] = p.ID
		if p.Type < 1 || p.Type > 3 {
			t.Errorf("%s: type %d", p.ID, p.Type)
		}
		got, ok := Match(sample(p))
		if !ok || got.ID != p.ID {
			t.Errorf("%s: its text %q matches %q (%v)", p.ID, sample(p), got.ID, ok)
		}
		if q, ok := ByID(p.ID); !ok || q != p {
			t.Errorf("ByID(%s) = %+v %v", p.ID, q, ok)
		}
	}
	// The prefixes the community's analyzers key on (as formats).
	for _, want := range []string{
		"[Win32App] ----------------------------------------------------- application poller starts.",
		"[Win32App] ----------------------------------------------------- application poller stopped.",
		"[Win32App] ..................... Processing user session ",
		"[Win32App] Got %d active user sessions",
		"Get policies = ",
		"Response from Intune = {",
		"[Win32App][V3Processor] Processing subgraph with app ids: ",
		"[Win32App][V3Processor] Done processing subgraph.",
		"[Win32App][V3Processor] All apps in the subgraph are not applicable due",
		"[Win32App][GRSManager] Found GRS value: ",
		"[Win32App][ReportingManager] Detection state for app with id: ",
		"[Win32App] Downloading app on session",
		"[Win32App] DownloadType = %d, DownloadUrl = ",
		"[StatusService] Downloading app (id = ",
		"Notified DO Service the job is complete.",
		"[Win32App] file hash validation pass",
		"[Win32App] Decryption is done successfully.",
		"Cleaning up staging content",
		"[Win32App] ===Step=== Execute retry ",
		"[Win32App] Create installer process successfully.",
		"[Win32App] process id = ",
		"[Win32App] Installation is done, collecting result",
		"[Win32App] lpExitCode ",
		"[Win32App] lpExitCode is defined as ",
		"[Win32App] Admin did NOT set mapping for lpExitCode: ",
		"EMS Agent Started",
		"EMS Agent Stopped",
		"ExecutorLog AgentExecutor gets invoked",
		"Powershell exit code is ",
	} {
		found := false
		for _, p := range all {
			found = found || strings.HasPrefix(p.Format, want)
		}
		if !found {
			t.Errorf("no phrase starts with %q", want)
		}
	}
	if p, ok := Match("[Win32App] Got 1 active user sessions"); !ok || p != ActiveUserSessions {
		t.Errorf("active sessions line matches %+v %v", p, ok)
	}
	if _, ok := Match("something imepipe never says"); ok {
		t.Error("an unknown line matched a phrase")
	}
}

// FuzzMatch: Match never panics, and what it matches is the phrase's
// own pattern.
func FuzzMatch(f *testing.F) {
	seed, err := os.ReadFile("testdata/seed.txt")
	if err != nil {
		f.Fatal(err)
	}
	for _, line := range strings.Split(string(seed), "\n") {
		f.Add(line)
	}
	f.Add(string(seed))
	f.Fuzz(func(t *testing.T, msg string) {
		p, ok := Match(msg)
		if !ok {
			return
		}
		re, _ := pattern(p.Format)
		if !re.MatchString(msg) {
			t.Fatalf("%q matched %s but not its pattern", msg, p.ID)
		}
	})
}
