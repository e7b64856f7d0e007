package imeapi

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// What loading makes of a body that Graph would complete itself: a create
// body has no id (Graph assigns one on create), a content version may be
// a label no folder can carry. Both are decided here, deterministically,
// and listed as warnings by Review, so an admin sees them.

// FolderID is the id assigned to an app whose body has none: a GUID
// (RFC 9562 version 8, from SHA-256) derived from the name of its folder,
// so it is the same at every load and differs between folders. It is not
// the id Graph would assign; it only has to be stable here.
func FolderID(folder string) string {
	sum := sha256.Sum256([]byte("imepipe app folder\x00" + folder))
	b := sum[:16]
	b[6] = b[6]&0x0f | 0x80 // version 8
	b[8] = b[8]&0x3f | 0x80 // RFC 9562 variant
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// AssignID gives an app without an id its FolderID, and remembers it for
// Review's warning. An app that has an id keeps it.
func (a *Win32LobApp) AssignID(folder string) {
	if a.ID != "" {
		return
	}
	a.ID = FolderID(folder)
	a.assignedFrom = folder
}

// SafeVersion maps a content version label that CheckVersion refuses
// ("Committed Content Version value") to one it accepts: the label's
// safe characters (others become "-", at most 40 of them) and 8 hex
// digits of its SHA-256, so two labels that differ only in unsafe
// characters stay apart. The result is never a path by itself: it is a
// file name component, like every version.
func SafeVersion(label string) string {
	var b strings.Builder
	dash := false
	for _, r := range label {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-'
		switch {
		case ok:
			b.WriteRune(r)
			dash = false
		case !dash:
			b.WriteByte('-')
			dash = true
		}
	}
	prefix := strings.Trim(b.String(), "-.")
	if len(prefix) > 40 {
		prefix = strings.TrimRight(prefix[:40], "-.")
	}
	if prefix == "" {
		prefix = "cv"
	}
	sum := sha256.Sum256([]byte(label))
	return prefix + "-" + hex.EncodeToString(sum[:4])
}

// contentVersion is the version of an app whose body has none:
// committedContentVersion as it is when it is safe in a file name, else
// its SafeVersion.
func contentVersion(committed string) string {
	if committed == "" || CheckVersion(committed) == nil {
		return committed
	}
	return SafeVersion(committed)
}

// warnings are what loading decided for the admin (see Review).
func (a *Win32LobApp) warnings() []string {
	var w []string
	if a.assignedFrom != "" {
		w = append(w, fmt.Sprintf("id: not in body; assigned %s (derived from the folder name %q, the same at every load)", a.ID, a.assignedFrom))
	}
	if c := a.CommittedContentVersion; c != "" && CheckVersion(c) != nil && a.Version == SafeVersion(c) {
		w = append(w, fmt.Sprintf("committedContentVersion: %q is not a safe folder name; content version %s (the label is kept)", c, a.Version))
	}
	if a.detectionRules() == 0 {
		w = append(w, "rules: no detection rule; loaded but not installable: the agent cannot detect the app and reports 0x87D1041C (not detected) without running its installer")
	}
	return w
}

// detectionRules counts the app's detection rules: rules with ruleType
// detection, and detectionRules.
func (a *Win32LobApp) detectionRules() int {
	n := len(a.DetectionRules)
	for _, r := range a.Rules {
		if r.RuleType == "detection" {
			n++
		}
	}
	return n
}
