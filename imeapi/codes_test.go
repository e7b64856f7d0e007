package imeapi

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// The codes marshal as the IME's numbers and strings; names are String's.
func TestCodesMarshalAsNumbers(t *testing.T) {
	r := Report{AppID: "a", EnforcementState: EnforcementSuccess, ComplianceState: ComplianceInstalled}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"appId":"a","version":"","enforcementState":1000,"complianceState":1,"errorCode":0}`; string(b) != want {
		t.Fatalf("report JSON %s, want %s", b, want)
	}
	var back Report
	if err := json.Unmarshal([]byte(`{"enforcementState":5000,"complianceState":4}`), &back); err != nil || back.EnforcementState != EnforcementError || back.ComplianceState != ComplianceError {
		t.Fatalf("decode: %+v, %v", back, err)
	}
	b, _ = json.Marshal(ArrayRequest{DownloadMode: ModeBypass})
	if want := `{"doFileId":"","peerId":"","downloadMode":100}`; string(b) != want {
		t.Fatalf("array request JSON %s, want %s", b, want)
	}
	b, _ = json.Marshal(Policy{Intent: IntentRequired})
	if want := `"intent":3`; !strings.Contains(string(b), want) {
		t.Fatalf("policy JSON %s lacks %s", b, want)
	}
}

func TestCodeNames(t *testing.T) {
	cases := []struct {
		code  interface{ String() string }
		valid bool
		name  string
	}{
		{EnforcementSuccess, EnforcementSuccess.Valid(), "Success"},
		{EnforcementRequirementsNotMet, true, "RequirementsNotMet"},
		{EnforcementState(1234), EnforcementState(1234).Valid(), "EnforcementState(1234)"},
		{ComplianceNotInstalled, ComplianceNotInstalled.Valid(), "NotInstalled"},
		{ComplianceState(3), ComplianceState(3).Valid(), "ComplianceState(3)"},
		{IntentUninstall, IntentUninstall.Valid(), "uninstall"},
		{Intent(2), Intent(2).Valid(), "notTargeted"},
		{ModeHTTPOnly, ModeHTTPOnly.Valid(), "HttpOnly"},
		{ModeSimple, ModeSimple.Valid(), "Simple"},
		{DownloadMode(4), DownloadMode(4).Valid(), "DownloadMode(4)"},
		{DOComplete, DOComplete.Valid(), "Complete"},
		{ReturnSoftReboot, ReturnSoftReboot.Valid(), "softReboot"},
	}
	wantValid := []bool{true, true, false, true, true, true, false, true, true, false, true, true}
	for i, c := range cases {
		if c.code.String() != c.name || c.valid != wantValid[i] {
			t.Errorf("case %d: %q valid %v, want %q valid %v", i, c.code.String(), c.valid, c.name, wantValid[i])
		}
	}
	if DOStatus("Downloading").Valid() || ReturnCodeType("bogus").Valid() || ComplianceState(-1).Valid() || ComplianceState(6).Valid() {
		t.Error("an unknown DO status, return type or compliance state is valid")
	}
}

func TestParseDownloadMode(t *testing.T) {
	for s, want := range map[string]DownloadMode{"0": ModeHTTPOnly, "1": ModeLAN, "2": ModeGroup, "3": ModeInternet, "99": ModeSimple, "100": ModeBypass} {
		if m, err := ParseDownloadMode(s); err != nil || m != want {
			t.Errorf("%q: %v, %v; want %v", s, m, err, want)
		}
	}
	for _, s := range []string{"", "4", "-1", "lan", "1.0", "101"} {
		if _, err := ParseDownloadMode(s); !errors.Is(err, ErrCode) {
			t.Errorf("%q: %v, want ErrCode", s, err)
		}
	}
}
