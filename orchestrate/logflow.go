package orchestrate

import (
	"encoding/json"
	"strings"

	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/orchestrate/imelog"
	"github.com/imepipe/imepipe/orchestrate/state"
)

// The IME's V3Processor and ReportingManager lines around one subgraph
// (an assigned app and the apps it depends on), written by the flow.

// subgraph logs the start of p's subgraph and its reporting state, and
// returns what logs its end.
func (t *tracer) subgraph(p imeapi.Policy) (end func()) {
	return t.openSubgraph(p, t.loadReporting(p))
}

// reporting is the ReportingManager's line of an app's reporting state as
// its subgraph begins: loaded from the store, or initialized.
type reporting struct {
	phrase imelog.Phrase // ReportingStateLoaded or ReportingStateNew
	state  string        // reportingState's JSON
}

// loadReporting starts t's reporting state for p's subgraph afresh and
// reads p's stored state, before the flow changes it.
func (t *tracer) loadReporting(p imeapi.Policy) reporting {
	t.detected, t.applicable, t.notApplicable = map[string]string{}, map[string]string{}, false
	if st, err := t.a.store.App(state.DeviceUser, appKey(p)); err == nil && st.Enforcement != nil {
		return reporting{imelog.ReportingStateLoaded, reportingState(p.AppID, st)}
	}
	return reporting{imelog.ReportingStateNew, reportingState(p.AppID, state.App{})}
}

// openSubgraph logs the start of p's subgraph (with the apps it depends
// on) and r, and returns what logs its end: done, or not applicable when
// the flow ended on failed requirements.
func (t *tracer) openSubgraph(p imeapi.Policy, r reporting) (end func()) {
	ids := []string{p.AppID}
	if app, err := p.Win32LobApp(); err == nil {
		for _, rel := range children(app, imeapi.TypeDependency) {
			ids = append(ids, rel.TargetID)
		}
	}
	t.log(imelog.SubgraphStart, strings.Join(ids, ", "))
	t.log(r.phrase, p.AppID, r.state)
	return func() {
		if t.notApplicable {
			t.log(imelog.SubgraphNotApplicable)
		} else {
			t.log(imelog.SubgraphDone)
		}
	}
}

// reportingState is the ReportingManager's JSON of an app's stored state.
func reportingState(appID string, st state.App) string {
	rs := struct {
		ApplicationId    string
		EnforcementState *imeapi.EnforcementState `json:",omitempty"`
		ComplianceState  *imeapi.ComplianceState  `json:",omitempty"`
		ErrorCode        *int64                   `json:",omitempty"`
	}{ApplicationId: appID}
	if st.Enforcement != nil {
		rs.EnforcementState, rs.ErrorCode = &st.Enforcement.EnforcementState, &st.Enforcement.ErrorCode
	}
	if st.Compliance != nil {
		rs.ComplianceState = &st.Compliance.ComplianceState
	}
	b, _ := json.Marshal(rs)
	return string(b)
}

// delta is a ReportingManager "Report delta": one field's old and new value.
func delta(field string, old, new any) string {
	b, _ := json.Marshal(map[string]any{field: map[string]any{"OldValue": old, "NewValue": new}})
	return string(b)
}

// detection logs the DetectionActionHandler's result and its delta.
func (t *tracer) detection(appID string, detected bool) {
	now := map[bool]string{true: "Detected", false: "NotDetected"}[detected]
	old := t.detected[appID]
	if old == "" {
		old = "Unknown"
	}
	if t.detected == nil {
		t.detected = map[string]string{}
	}
	t.detected[appID] = now
	t.log(imelog.DetectionResult, appID, "Success", now)
	t.log(imelog.DetectionReport, appID, delta("DetectionState", old, now))
}

// applicability logs the ApplicabilityActionHandler's result and its delta.
func (t *tracer) applicability(appID string, ok bool) {
	now := map[bool]string{true: "Applicable", false: "RequirementsNotMet"}[ok]
	old := t.applicable[appID]
	if old == "" {
		old = "Unknown"
	}
	if t.applicable == nil {
		t.applicable = map[string]string{}
	}
	t.applicable[appID] = now
	t.log(imelog.ApplicabilityResult, appID, "Success", now)
	t.log(imelog.ApplicabilityReport, appID, delta("ApplicabilityState", old, now))
}

// detectionManager names the IME's detection manager of a rule kind.
func detectionManager(kind string) string {
	switch kind {
	case "Registry":
		return "SideCarRegistryDetectionManager"
	case "ProductCode":
		return "SideCarProductCodeDetectionManager"
	case "Script":
		return "SideCarScriptDetectionManager"
	}
	return "SideCarFileDetectionManager"
}

func trueFalse(b bool) string {
	if b {
		return "True"
	}
	return "False"
}
