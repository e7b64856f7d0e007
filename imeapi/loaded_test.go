package imeapi

import (
	"strings"
	"testing"
)

// TestSafeVersion: every label maps to a version CheckVersion accepts,
// the same at every call, and labels differing only in unsafe characters
// stay apart.
func TestSafeVersion(t *testing.T) {
	labels := []string{"Committed Content Version value", "..", "../../etc/passwd", "a/b", "a b", "a-b", "", "1.", "C:\\x", strings.Repeat("é", 100), strings.Repeat("x", 200), "\x00"}
	seen := map[string]string{}
	for _, l := range labels {
		v := SafeVersion(l)
		if err := CheckVersion(v); err != nil {
			t.Errorf("SafeVersion(%q) = %q: %v", l, v, err)
		}
		if v != SafeVersion(l) {
			t.Errorf("SafeVersion(%q) not deterministic", l)
		}
		if prev, dup := seen[v]; dup {
			t.Errorf("SafeVersion(%q) = SafeVersion(%q) = %q", l, prev, v)
		}
		seen[v] = l
	}
	if got := SafeVersion("Committed Content Version value"); got != "Committed-Content-Version-value-c7d50bf9" {
		t.Errorf("SafeVersion of the Graph docs' placeholder = %q", got)
	}
	// A safe committedContentVersion is used as it is.
	if v := contentVersion("3"); v != "3" {
		t.Errorf("contentVersion(3) = %q", v)
	}
}

// TestFolderID: a GUID CheckAppID accepts, stable, one per folder name.
func TestFolderID(t *testing.T) {
	a, b := FolderID("contoso-7zip"), FolderID("contoso-7zip2")
	if CheckAppID(a) != nil || CheckAppID(b) != nil || a == b || a != FolderID("contoso-7zip") {
		t.Errorf("FolderID: %q %q", a, b)
	}
	if a[14] != '8' || !strings.ContainsRune("89ab", rune(a[19])) {
		t.Errorf("FolderID %q: not an RFC 9562 version 8 GUID", a)
	}
	var g Win32LobApp
	g.AssignID("contoso-7zip")
	if g.ID != a || len(g.warnings()) == 0 || !strings.HasPrefix(g.warnings()[0], "id: not in body; assigned "+a) {
		t.Errorf("AssignID: %q %q", g.ID, g.warnings())
	}
	g2 := Win32LobApp{ID: "0f9e8d7c-6b5a-4c3d-8e2f-1a0b9c8d7e6f"}
	g2.AssignID("contoso-7zip")
	if g2.ID != "0f9e8d7c-6b5a-4c3d-8e2f-1a0b9c8d7e6f" {
		t.Errorf("AssignID replaced the body's id: %q", g2.ID)
	}
}

// FuzzSafeVersion: whatever the label, the version is safe in a path.
func FuzzSafeVersion(f *testing.F) {
	for _, s := range []string{"Committed Content Version value", "1", "..", "a/b\\c", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, label string) {
		if v := SafeVersion(label); CheckVersion(v) != nil || strings.ContainsAny(v, "/\\:") {
			t.Fatalf("SafeVersion(%q) = %q", label, v)
		}
	})
}
