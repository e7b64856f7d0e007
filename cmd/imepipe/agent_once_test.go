package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/orchestrate"
)

// TestOnceResultSkipsRevisionsNotInPolicies: agent --once judges the
// revisions the last policies named; the failed record of one they no
// longer name (here version 1 of an app now served as version 2) neither
// fails the run nor counts. Before, it failed --once for good.
func TestOnceResultSkipsRevisionsNotInPolicies(t *testing.T) {
	const id = "22222222-2222-4333-8444-555555555555"
	failed := orchestrate.AppStatus{AppID: id, Version: "1", DisplayName: "Old", EnforcementState: imeapi.EnforcementError,
		ComplianceState: imeapi.ComplianceError, ErrorCode: 127, ErrorCodeHex: "0x8007007F", NotInPolicies: true}
	ok := orchestrate.AppStatus{AppID: id, Version: "2", DisplayName: "New", EnforcementState: imeapi.EnforcementSuccess,
		ComplianceState: imeapi.ComplianceInstalled}
	var errb bytes.Buffer
	if err := onceResult(&env{stdout: &errb, stderr: &errb}, orchestrate.Status{Apps: []orchestrate.AppStatus{failed, ok}}); err != nil || errb.Len() != 0 {
		t.Errorf("a superseded revision's failure: %v, stderr %q; want success and nothing said", err, errb.String())
	}
	failed.NotInPolicies = false
	errb.Reset()
	err := onceResult(&env{stdout: &errb, stderr: &errb}, orchestrate.Status{Apps: []orchestrate.AppStatus{failed, ok}})
	if err == nil || err.Error() != "1 of 2 apps failed" || !strings.Contains(errb.String(), "failed "+id+"_1 (Old)") {
		t.Errorf("a failure in the policies: %v, stderr %q", err, errb.String())
	}
}
