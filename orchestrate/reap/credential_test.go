package reap

import (
	"errors"
	"testing"
)

// winSID is a user SID as Windows spells one.
const winSID = "S-1-5-21-1004336348-1177238915-682003330-1001"

// TestCredentialRoundTrip: both forms survive EnvCredential (String, then
// parseCredential) with every field the reaper uses, and a Windows form
// is never read as uid 0.
func TestCredentialRoundTrip(t *testing.T) {
	for _, c := range []Credential{
		{UID: 1000, GID: 1000, Groups: []uint32{4, 27}},
		{UID: 1001, GID: 100},
		{Session: 1, SID: winSID},
		{Session: 0, SID: "S-1-5-21-1-2-3-500"},
	} {
		s := c.String()
		got, err := parseCredential(s)
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		if got.UID != c.UID || got.GID != c.GID || len(got.Groups) != len(c.Groups) || got.Session != c.Session || got.SID != c.SID {
			t.Fatalf("%q read back as %+v, want %+v", s, *got, c)
		}
		if got.windows() != (c.SID != "") {
			t.Fatalf("%q: windows() = %v", s, got.windows())
		}
	}
	if s := (Credential{Session: 3, SID: winSID}).String(); s != "session:3:"+winSID {
		t.Fatalf("Windows form %q", s)
	}
}

// TestParseCredentialRefuses: a malformed credential is an ErrBadSpec,
// including a session form whose SID is no SID.
func TestParseCredentialRefuses(t *testing.T) {
	for _, s := range []string{
		"", "1000", "1000:1000", "x:1:", "1:x:", "1:1:a", "session:x:" + winSID,
		"session:1:", "session:1:root", "session:-1:" + winSID, "1:2:3:4",
	} {
		if c, err := parseCredential(s); !errors.Is(err, ErrBadSpec) {
			t.Errorf("parseCredential(%q) = %+v, %v; want ErrBadSpec", s, c, err)
		}
	}
}
