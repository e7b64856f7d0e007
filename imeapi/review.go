package imeapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Review is what loading an app leaves out, so that nothing is silent.
// Ignored are fields that do not change what the agent does and that
// nothing uses (unknown Graph properties, Company Portal and notification
// settings nothing records); Unsupported are settings that would change what the agent
// does and that it does not implement yet: the service serves such an
// app only when told to (serve --allow-unsupported). Each entry is a JSON
// path, with "=value" where the value is what is unsupported; both lists
// are sorted. OData annotations (@odata.type, @odata.context) and null
// or empty-string fields are never listed. minimumSupportedOperatingSystem
// counts by its oldest release set true; it and
// minimumSupportedWindowsRelease are checked by the agent against the
// device's OS build (ReleaseBuild) and unsupported only for a release
// this package does not know. installTimeSettings, runAsAccount user and
// relationships (dependencies and supersedences an app names as child)
// are implemented by the agent; a relationship with targetType parent is
// ignored here (the app it names carries it as child). allowAvailableUninstall
// (the agent's on-demand uninstall), an assignment's notifications and
// restartSettings and installExperience.deviceRestartBehavior (recorded
// in the agent's state and logged) are used.
//
// Warnings are what loading decided that the body did not say, and what
// loads but cannot work: an id assigned to a create body without one
// (AssignID), a committedContentVersion mapped to a safe folder name
// (SafeVersion), an app without a detection rule (loaded, never
// installed). They do not refuse the app.
type Review struct {
	Ignored     []string `json:"ignored"`
	Unsupported []string `json:"unsupported"`
	Warnings    []string `json:"warnings"`
}

// Review lists a's ignored and unsupported fields and its warnings (see
// Review), not knowing its scripts: an activeInstallScript or
// activeUninstallScript is unsupported here; ReviewScripts, given the
// app's script objects, drops those it resolves.
func (a *Win32LobApp) Review() Review {
	var r Review
	ign := func(path string, extra map[string]json.RawMessage) {
		for k, v := range extra {
			if v = bytes.TrimSpace(v); isAnnotation(k) || bytes.Equal(v, []byte("null")) || bytes.Equal(v, []byte(`""`)) {
				continue
			}
			r.Ignored = append(r.Ignored, join(path, k))
		}
	}
	uns := func(path, value string) { r.Unsupported = append(r.Unsupported, path+"="+value) }
	future := func(path, value string) {
		if value == UnknownFutureValue {
			uns(path, value)
		}
	}

	ign("", a.Extra)
	if x := a.InstallExperience; x != nil {
		ign("installExperience", x.Extra)
		future("installExperience.runAsAccount", x.RunAsAccount)
		future("installExperience.deviceRestartBehavior", x.DeviceRestartBehavior)
	}
	for i, rc := range a.ReturnCodes {
		ign(fmt.Sprintf("returnCodes[%d]", i), rc.Extra)
	}
	if m := a.MsiInformation; m != nil {
		ign("msiInformation", m.Extra)
	}
	for _, l := range []struct {
		name  string
		rules []Rule
	}{{"rules", a.Rules}, {"detectionRules", a.DetectionRules}, {"requirementRules", a.RequirementRules}} {
		for i, rule := range l.rules {
			reviewRule(fmt.Sprintf("%s[%d]", l.name, i), rule, ign, uns)
		}
	}
	if _, _, unknown := a.MinimumBuild(); len(unknown) > 0 {
		r.Unsupported = append(r.Unsupported, unknown...) // a release the agent cannot compare
	}
	for _, s := range []struct {
		name string
		ref  *ScriptReference
	}{{"activeInstallScript", a.ActiveInstallScript}, {"activeUninstallScript", a.ActiveUninstallScript}} {
		if s.ref != nil {
			uns(s.name, s.ref.TargetID)
		}
	}
	for i, rel := range a.Relationships {
		f := fmt.Sprintf("relationships[%d]", i)
		ign(f, rel.Extra)
		if strings.EqualFold(rel.TargetType, TargetParent) {
			r.Ignored = append(r.Ignored, f) // processed from the app that names this one as child
		}
	}
	for i, as := range a.Assignments {
		f := fmt.Sprintf("assignments[%d]", i)
		ign(f, as.Extra)
		ign(f+".target", as.Target.Extra)
		if s := as.Settings; s != nil {
			ign(f+".settings", s.Extra)
			future(f+".settings.notifications", s.Notifications)
			if rs := s.RestartSettings; rs != nil {
				ign(f+".settings.restartSettings", rs.Extra)
			}
			if t := s.InstallTimeSettings; t != nil {
				ign(f+".settings.installTimeSettings", t.Extra)
			}
		}
	}
	r.Warnings = a.warnings()
	return r.sorted()
}

// sorted sorts and compacts r's lists, empty rather than nil.
func (r Review) sorted() Review {
	slices.Sort(r.Ignored)
	slices.Sort(r.Unsupported)
	r.Ignored = slices.Compact(r.Ignored)
	r.Unsupported = slices.Compact(r.Unsupported)
	if r.Ignored == nil {
		r.Ignored = []string{}
	}
	if r.Unsupported == nil {
		r.Unsupported = []string{}
	}
	if r.Warnings == nil {
		r.Warnings = []string{}
	}
	return r
}

// unimplementedOps are rule operations the agent cannot evaluate yet,
// by rule family.
var unimplementedOps = map[string]map[string]bool{
	"file":     set("version", "appVersion", "sizeInBytes", UnknownFutureValue),
	"registry": set("appVersion", UnknownFutureValue),
	"script":   set(UnknownFutureValue),
}

func reviewRule(f string, r Rule, ign func(string, map[string]json.RawMessage), uns func(string, string)) {
	ign(f, r.Extra)
	op, opField := r.OperationType, ".operationType"
	if r.DetectionType != "" {
		op, opField = r.DetectionType, ".detectionType"
	}
	family := ""
	switch r.ODataType {
	case TypeFileSystemRule, TypeFileSystemDetection, TypeFileSystemRequirement:
		family = "file"
	case TypeRegistryRule, TypeRegistryDetection, TypeRegistryRequirement:
		family = "registry"
	case TypeScriptRule, TypeScriptDetection, TypeScriptRequirement:
		family = "script"
		if strings.EqualFold(r.RunAsAccount, "user") {
			uns(f+".runAsAccount", r.RunAsAccount)
		}
		if r.EnforceSignatureCheck {
			uns(f+".enforceSignatureCheck", "true")
		}
	}
	if unimplementedOps[family][op] {
		uns(f+opField, op)
	}
	if r.Operator == UnknownFutureValue {
		uns(f+".operator", r.Operator)
	}
	if r.ProductVersionOperator == UnknownFutureValue {
		uns(f+".productVersionOperator", r.ProductVersionOperator)
	}
}

func join(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}
