package imeapi

import (
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// FieldError is a validation failure of one JSON field: Field is its JSON
// path ("rules[0].keyPath"), Err wraps ErrRequired or ErrInvalid.
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Err.Error() }
func (e *FieldError) Unwrap() error { return e.Err }

// Reasons of a FieldError. They carry no package prefix: a FieldError
// reads "<field>: required" or "<field>: invalid value: …".
var (
	ErrRequired = errors.New("required")
	ErrInvalid  = errors.New("invalid value")
)

// Delivery Optimization priorities of an assignment's settings.
const (
	PriorityNotConfigured = "notConfigured" // background
	PriorityForeground    = "foreground"
)

func bad(field string, format string, a ...any) error {
	return &FieldError{Field: field, Err: fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, a...)...)}
}

func required(field string) error { return &FieldError{Field: field, Err: ErrRequired} }

var (
	guidRE    = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	versionRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)
)

// UnknownFutureValue is the member Graph adds to every evolvable
// enumeration. It loads; Review lists it as unsupported.
const UnknownFutureValue = "unknownFutureValue"

// Enumerations from the Graph schema; each evolvable one also accepts
// UnknownFutureValue.
var (
	operators     = set("notConfigured", "equal", "notEqual", "greaterThan", "greaterThanOrEqual", "lessThan", "lessThanOrEqual", UnknownFutureValue)
	fileOps       = set("notConfigured", "exists", "modifiedDate", "createdDate", "version", "sizeInMB", "doesNotExist", "sizeInBytes", "appVersion", UnknownFutureValue)
	registryOps   = set("notConfigured", "exists", "doesNotExist", "string", "integer", "version", "appVersion", UnknownFutureValue)
	scriptOps     = set("notConfigured", "string", "dateTime", "integer", "float", "version", "boolean", UnknownFutureValue)
	runAs         = set("system", "user", UnknownFutureValue)
	restarts      = set("basedOnReturnCode", "allow", "suppress", "force", UnknownFutureValue)
	architectures = set("none", "x86", "x64", "arm", "arm64", "neutral")
	intents       = set("available", "required", "uninstall", "availableWithoutEnrollment")
	targetTypes   = set(TypeAllDevices, TypeAllUsers, TypeGroup, TypeExclusionGroup)
	doPriorities  = set(PriorityNotConfigured, PriorityForeground)
	notifications = set("showAll", "showReboot", "hideAll", UnknownFutureValue)
	filterTypes   = set("none", "include", "exclude")
	dependencies  = set(DependencyAutoInstall, DependencyDetect, UnknownFutureValue)
	supersedences = set(SupersedenceUpdate, SupersedenceReplace, UnknownFutureValue)
	targetKinds   = set(TargetChild, TargetParent, UnknownFutureValue)
	ruleKinds     = map[string]ruleKind{
		TypeFileSystemRule:        {list: "rules", ops: fileOps},
		TypeRegistryRule:          {list: "rules", ops: registryOps},
		TypeProductCodeRule:       {list: "rules"},
		TypeScriptRule:            {list: "rules", ops: scriptOps},
		TypeFileSystemDetection:   {list: "detectionRules", ops: fileOps},
		TypeRegistryDetection:     {list: "detectionRules", ops: registryOps},
		TypeProductCodeDetection:  {list: "detectionRules"},
		TypeScriptDetection:       {list: "detectionRules"},
		TypeFileSystemRequirement: {list: "requirementRules", ops: fileOps},
		TypeRegistryRequirement:   {list: "requirementRules", ops: registryOps},
		TypeScriptRequirement:     {list: "requirementRules", ops: scriptOps},
	}
)

type ruleKind struct {
	list string          // the list the type belongs in
	ops  map[string]bool // allowed operationType / detectionType; nil: none
}

func set(v ...string) map[string]bool {
	m := make(map[string]bool, len(v))
	for _, s := range v {
		m[s] = true
	}
	return m
}

// Validate checks an app against the Graph schema and what the service
// needs. The error names the first offending field, as a JSON path such as
// "rules[0].keyPath".
func (a *Win32LobApp) Validate() error {
	if a.ODataType != "" && a.ODataType != TypeWin32LobApp {
		return bad("@odata.type", "%q, want %q", a.ODataType, TypeWin32LobApp)
	}
	switch {
	case a.ID == "":
		return required("id")
	case !guidRE.MatchString(a.ID):
		return bad("id", "%q is not a GUID", a.ID)
	case a.Version == "":
		return &FieldError{Field: "version", Err: fmt.Errorf("%w (or committedContentVersion)", ErrRequired)}
	case CheckVersion(a.Version) != nil:
		f := "version"
		if a.Version == a.CommittedContentVersion {
			f = "committedContentVersion"
		}
		return bad(f, "%q: use 1-64 of A-Z a-z 0-9 . _ -, not only dots, no trailing dot", a.Version)
	case strings.TrimSpace(a.DisplayName) == "":
		return required("displayName")
	case strings.TrimSpace(a.InstallCommandLine) == "":
		return required("installCommandLine")
	case strings.TrimSpace(a.UninstallCommandLine) == "":
		return required("uninstallCommandLine")
	}
	if err := a.validateExperience(); err != nil {
		return err
	}
	seen := map[int]bool{}
	for i, rc := range a.ReturnCodes {
		f := fmt.Sprintf("returnCodes[%d]", i)
		if !rc.Type.Valid() {
			return bad(f+".type", "%q, want one of success, softReboot, hardReboot, retry, failed", rc.Type)
		}
		if seen[rc.ReturnCode] {
			return bad(f+".returnCode", "%d listed twice", rc.ReturnCode)
		}
		seen[rc.ReturnCode] = true
	}
	for _, l := range []struct {
		name  string
		rules []Rule
	}{{"rules", a.Rules}, {"detectionRules", a.DetectionRules}, {"requirementRules", a.RequirementRules}} {
		for i := range l.rules {
			if _, err := validateRule(fmt.Sprintf("%s[%d]", l.name, i), l.name, &l.rules[i]); err != nil {
				return err
			}
		}
	}
	if err := a.validateRequirements(); err != nil {
		return err
	}
	for i := range a.Assignments {
		if err := validateAssignment(fmt.Sprintf("assignments[%d]", i), &a.Assignments[i]); err != nil {
			return err
		}
	}
	for i := range a.Relationships {
		if err := validateRelationship(fmt.Sprintf("relationships[%d]", i), &a.Relationships[i]); err != nil {
			return err
		}
	}
	return nil
}

func validateRelationship(f string, r *Relationship) error {
	switch r.ODataType {
	case TypeDependency:
		if r.DependencyType == "" {
			return required(f + ".dependencyType")
		}
		if !dependencies[r.DependencyType] {
			return bad(f+".dependencyType", "%q, want autoInstall or detect", r.DependencyType)
		}
	case TypeSupersedence:
		if r.SupersedenceType == "" {
			return required(f + ".supersedenceType")
		}
		if !supersedences[r.SupersedenceType] {
			return bad(f+".supersedenceType", "%q, want update or replace", r.SupersedenceType)
		}
	case "":
		return required(f + ".@odata.type")
	default:
		return bad(f+".@odata.type", "%q, want %s or %s", r.ODataType, TypeDependency, TypeSupersedence)
	}
	if r.TargetID == "" {
		return required(f + ".targetId")
	}
	if !guidRE.MatchString(r.TargetID) {
		return bad(f+".targetId", "%q is not a GUID", r.TargetID)
	}
	if r.TargetType != "" && !targetKinds[r.TargetType] {
		return bad(f+".targetType", "%q, want child or parent", r.TargetType)
	}
	return nil
}

func (a *Win32LobApp) validateExperience() error {
	x := a.InstallExperience
	if x == nil {
		return nil
	}
	if x.RunAsAccount != "" && !runAs[x.RunAsAccount] {
		return bad("installExperience.runAsAccount", "%q, want system or user", x.RunAsAccount)
	}
	if x.DeviceRestartBehavior != "" && !restarts[x.DeviceRestartBehavior] {
		return bad("installExperience.deviceRestartBehavior", "%q, want basedOnReturnCode, allow, suppress or force", x.DeviceRestartBehavior)
	}
	if x.MaxRunTimeInMinutes < 0 || x.MaxRunTimeInMinutes > 1440 {
		return bad("installExperience.maxRunTimeInMinutes", "%d, want 1 to 1440", x.MaxRunTimeInMinutes)
	}
	return nil
}

func (a *Win32LobApp) validateRequirements() error {
	for _, m := range []struct {
		name string
		v    *int
	}{
		{"minimumFreeDiskSpaceInMB", a.MinimumFreeDiskSpaceInMB},
		{"minimumMemoryInMB", a.MinimumMemoryInMB},
		{"minimumNumberOfProcessors", a.MinimumNumberOfProcessors},
		{"minimumCpuSpeedInMHz", a.MinimumCpuSpeedInMHz},
	} {
		if m.v != nil && *m.v < 0 {
			return bad(m.name, "%d is negative", *m.v)
		}
	}
	for _, f := range []struct{ name, v string }{
		{"applicableArchitectures", a.ApplicableArchitectures},
		{"allowedArchitectures", a.AllowedArchitectures},
	} {
		if f.v == "" {
			continue
		}
		for _, arch := range strings.Split(f.v, ",") {
			if !architectures[strings.TrimSpace(arch)] {
				return bad(f.name, "%q: %q is not one of x86, x64, arm, arm64, neutral, none", f.v, arch)
			}
		}
	}
	return nil
}

// validateRule checks one rule found in list and says whether it is a detection rule.
func validateRule(f, list string, r *Rule) (bool, error) {
	kind, ok := ruleKinds[r.ODataType]
	if !ok {
		if r.ODataType == "" {
			return false, required(f + ".@odata.type")
		}
		return false, bad(f+".@odata.type", "%q is not a known win32LobApp rule type", r.ODataType)
	}
	if kind.list != list {
		return false, bad(f+".@odata.type", "%s belongs in %s, not %s", r.ODataType, kind.list, list)
	}
	detection := list == "detectionRules"
	if list == "rules" {
		switch r.RuleType {
		case "detection":
			detection = true
		case "requirement":
		case "":
			return false, required(f + ".ruleType")
		default:
			return false, bad(f+".ruleType", "%q, want detection or requirement", r.RuleType)
		}
		if r.ODataType == TypeProductCodeRule && !detection {
			return false, bad(f+".ruleType", "a product code rule can only be a detection rule")
		}
	}
	op, opField := r.OperationType, ".operationType"
	if list != "rules" {
		op, opField = r.DetectionType, ".detectionType"
	}
	if kind.ops != nil && op != "" && !kind.ops[op] {
		return false, bad(f+opField, "%q is not valid for %s", op, r.ODataType)
	}
	if r.Operator != "" && !operators[r.Operator] {
		return false, bad(f+".operator", "%q is not a rule operator", r.Operator)
	}
	switch r.ODataType {
	case TypeFileSystemRule, TypeFileSystemDetection, TypeFileSystemRequirement:
		if r.Path == "" {
			return false, required(f + ".path")
		}
		if r.FileOrFolderName == "" {
			return false, required(f + ".fileOrFolderName")
		}
	case TypeRegistryRule, TypeRegistryDetection, TypeRegistryRequirement:
		if r.KeyPath == "" {
			return false, required(f + ".keyPath")
		}
	case TypeProductCodeRule, TypeProductCodeDetection:
		if r.ProductCode == "" {
			return false, required(f + ".productCode")
		}
		if r.ProductVersionOperator != "" && !operators[r.ProductVersionOperator] {
			return false, bad(f+".productVersionOperator", "%q is not a rule operator", r.ProductVersionOperator)
		}
	case TypeScriptRule, TypeScriptDetection, TypeScriptRequirement:
		if r.ScriptContent == "" {
			return false, required(f + ".scriptContent")
		}
		if _, err := base64.StdEncoding.DecodeString(r.ScriptContent); err != nil {
			return false, bad(f+".scriptContent", "not base64: %v", err)
		}
		if r.RunAsAccount != "" && !runAs[r.RunAsAccount] {
			return false, bad(f+".runAsAccount", "%q, want system or user", r.RunAsAccount)
		}
	}
	return detection, nil
}

func validateAssignment(f string, a *Assignment) error {
	if a.ODataType != "" && a.ODataType != TypeAssignment {
		return bad(f+".@odata.type", "%q, want %q", a.ODataType, TypeAssignment)
	}
	if a.Intent == "" {
		return required(f + ".intent")
	}
	if !intents[a.Intent] {
		return bad(f+".intent", "%q, want available, required or uninstall", a.Intent)
	}
	t := a.Target
	if t.ODataType == "" {
		return required(f + ".target.@odata.type")
	}
	if !targetTypes[t.ODataType] {
		return bad(f+".target.@odata.type", "%q is not a supported assignment target", t.ODataType)
	}
	if (t.ODataType == TypeGroup || t.ODataType == TypeExclusionGroup) && t.GroupID == "" {
		return required(f + ".target.groupId")
	}
	if t.FilterType != "" && !filterTypes[t.FilterType] {
		return bad(f+".target.deviceAndAppManagementAssignmentFilterType", "%q, want none, include or exclude", t.FilterType)
	}
	if (t.FilterType == "include" || t.FilterType == "exclude") && t.FilterID == "" {
		return required(f + ".target.deviceAndAppManagementAssignmentFilterId")
	}
	if s := a.Settings; s != nil && s.DeliveryOptimizationPriority != "" && !doPriorities[s.DeliveryOptimizationPriority] {
		return bad(f+".settings.deliveryOptimizationPriority", "%q, want notConfigured or foreground", s.DeliveryOptimizationPriority)
	}
	if s := a.Settings; s != nil && s.Notifications != "" && !notifications[s.Notifications] {
		return bad(f+".settings.notifications", "%q, want showAll, showReboot or hideAll", s.Notifications)
	}
	if s := a.Settings; s != nil && s.RestartSettings != nil {
		r := s.RestartSettings
		for _, m := range []struct {
			name string
			v    int
		}{{"gracePeriodInMinutes", r.GracePeriodInMinutes}, {"countdownDisplayBeforeRestartInMinutes", r.CountdownDisplayBeforeRestartInMinutes}} {
			if m.v < 0 {
				return bad(f+".settings.restartSettings."+m.name, "%d is negative", m.v)
			}
		}
		if v := r.RestartNotificationSnoozeDurationInMinutes; v != nil && *v < 0 {
			return bad(f+".settings.restartSettings.restartNotificationSnoozeDurationInMinutes", "%d is negative", *v)
		}
	}
	if s := a.Settings; s != nil && s.InstallTimeSettings != nil {
		if _, err := s.InstallTimeSettings.Schedule(time.UTC); err != nil {
			var fe *FieldError
			if errors.As(err, &fe) {
				return &FieldError{Field: f + ".settings." + fe.Field, Err: fe.Err}
			}
			return err
		}
	}
	return nil
}
