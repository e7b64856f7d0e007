package imeapi

import "testing"

// The unset compliance state (no ComplianceStateMessage yet: an app whose
// flow was stopped) has a name of its own, not the IME's Unknown (5) and
// not the stringer's fallback.
func TestComplianceUnsetName(t *testing.T) {
	var c ComplianceState
	if c != ComplianceUnset || c.String() != "Unset" || !c.Valid() {
		t.Errorf("zero ComplianceState: %d %q valid %v", c, c.String(), c.Valid())
	}
	if ComplianceUnset.String() == ComplianceUnknown.String() {
		t.Errorf("0 and 5 are both %q", ComplianceUnknown)
	}
	if got := ComplianceState(3).String(); got != "ComplianceState(3)" {
		t.Errorf("3 is %q; the IME's name for it is not documented", got)
	}
}
