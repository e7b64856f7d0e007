package privdir

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/windows"
)

// underWine reports whether the tests run under Wine (its ntdll exports
// wine_get_version; Windows' does not).
func underWine() bool {
	return windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version").Find() == nil
}

// TestMakeWritable: Make creates a new folder and re-protects an existing
// one without an error, and the agent can still write in both (its own
// user or an Administrators/SYSTEM token is in the DACL).
func TestMakeWritable(t *testing.T) {
	root := t.TempDir()
	existing := filepath.Join(root, "old")
	if err := os.Mkdir(existing, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{filepath.Join(root, "a", "b"), existing} {
		if err := Make(dir); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "installer.exe"), []byte("x"), 0o600); err != nil {
			t.Fatalf("the agent cannot write in its own folder: %v", err)
		}
	}
}

// TestMakeACL: Make gives a new and an existing folder a protected DACL
// that allows SYSTEM and Administrators (and, when the tests do not run
// as either, their own user) and nobody else; a file made inside inherits
// those entries.
func TestMakeACL(t *testing.T) {
	if underWine() {
		t.Skip("Wine 8 stores no DACL on files (SetNamedSecurityInfo succeeds and changes nothing); needs real Windows")
	}
	root := t.TempDir()
	existing := filepath.Join(root, "old")
	if err := os.Mkdir(existing, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{filepath.Join(root, "a", "b"), existing} {
		if err := Make(dir); err != nil {
			t.Fatal(err)
		}
		sd, err := windows.GetNamedSecurityInfo(dir, windows.SE_FILE_OBJECT, windows.DACL_SECURITY_INFORMATION)
		if err != nil {
			t.Fatal(err)
		}
		ctl, _, err := sd.Control()
		if err != nil {
			t.Fatal(err)
		}
		if ctl&windows.SE_DACL_PROTECTED == 0 {
			t.Errorf("%s: DACL not protected: %s", dir, sd)
		}
		checkAllowed(t, dir, sd.String())
		file := filepath.Join(dir, "installer.exe")
		if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		fsd, err := windows.GetNamedSecurityInfo(file, windows.SE_FILE_OBJECT, windows.DACL_SECURITY_INFORMATION)
		if err != nil {
			t.Fatal(err)
		}
		checkAllowed(t, file, fsd.String())
	}
}

// checkAllowed fails unless sddl's allow entries are exactly principals().
func checkAllowed(t *testing.T, name, sddl string) {
	t.Helper()
	want := principals()
	if n := strings.Count(sddl, "(A;"); n != len(want) {
		t.Errorf("%s: %d allow entries in %s, want %d (%v)", name, n, sddl, len(want), want)
	}
	for _, sid := range want {
		if !strings.Contains(sddl, ";;;"+sid+")") {
			t.Errorf("%s: %s does not allow %s", name, sddl, sid)
		}
	}
	for _, other := range []string{";;;WD)", ";;;BU)", ";;;AU)"} {
		if strings.Contains(sddl, other) {
			t.Errorf("%s: %s allows %s", name, sddl, other)
		}
	}
}

// TestSDDL: the descriptor Make and the control pipe apply parses into a
// protected DACL with SYSTEM and Administrators first and no one but
// principals() (read back from the parsed descriptor, which Wine does).
func TestSDDL(t *testing.T) {
	if got := SDDL("GA", false); !strings.HasPrefix(got, "D:P(A;;GA;;;SY)(A;;GA;;;BA)") {
		t.Errorf("SDDL(GA) = %s", got)
	}
	s := SDDL("FA", true)
	if !strings.HasPrefix(s, "D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)") {
		t.Errorf("SDDL(FA, inherit) = %s", s)
	}
	sd, err := windows.SecurityDescriptorFromString(s)
	if err != nil {
		t.Fatal(err)
	}
	ctl, _, err := sd.Control()
	if err != nil {
		t.Fatal(err)
	}
	if ctl&windows.SE_DACL_PROTECTED == 0 {
		t.Errorf("%s parses unprotected", s)
	}
	checkAllowed(t, "parsed", sd.String())
}
