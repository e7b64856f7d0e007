package privdir

import (
	"fmt"
	"strings"

	"golang.org/x/sys/windows"
)

// SDDL returns a protected DACL in SDDL form that allows rights (an SDDL
// rights string: "FA" file all, "GA" generic all) to SYSTEM and
// Administrators, and to the process's own user when that is neither
// SYSTEM nor an elevated administrator (a developer's unelevated agent
// would otherwise lock itself out). inherit adds object and container
// inheritance, so what is created inside gets the same entries. The IME's
// service runs as SYSTEM: there the DACL is exactly SYSTEM and
// Administrators.
func SDDL(rights string, inherit bool) string {
	flags := ""
	if inherit {
		flags = "OICI"
	}
	var b strings.Builder
	b.WriteString("D:P")
	for _, sid := range principals() {
		fmt.Fprintf(&b, "(A;%s;%s;;;%s)", flags, rights, sid)
	}
	return b.String()
}

// principals are the SIDs SDDL allows, in SDDL form.
func principals() []string {
	sids := []string{"SY", "BA"}
	tok := windows.GetCurrentProcessToken()
	u, err := tok.GetTokenUser()
	if err != nil {
		return sids
	}
	if u.User.Sid.IsWellKnown(windows.WinLocalSystemSid) {
		return sids
	}
	if ba, err := windows.CreateWellKnownSid(windows.WinBuiltinAdministratorsSid); err == nil {
		// Token 0: the thread's effective token; membership counts only
		// when the group is enabled (an elevated token).
		if ok, err := windows.Token(0).IsMember(ba); err == nil && ok {
			return sids
		}
	}
	return append(sids, u.User.Sid.String())
}

// tighten sets dir's DACL to SDDL("FA", true), protected from the
// parent's inheritable entries.
func tighten(dir string) error {
	sd, err := windows.SecurityDescriptorFromString(SDDL("FA", true))
	if err != nil {
		return fmt.Errorf("privdir: %w", err)
	}
	dacl, _, err := sd.DACL()
	if err != nil {
		return fmt.Errorf("privdir: %w", err)
	}
	err = windows.SetNamedSecurityInfo(dir, windows.SE_FILE_OBJECT,
		windows.DACL_SECURITY_INFORMATION|windows.PROTECTED_DACL_SECURITY_INFORMATION, nil, nil, dacl, nil)
	if err != nil {
		return fmt.Errorf("privdir: ACL on %s: %w", dir, err)
	}
	return nil
}
