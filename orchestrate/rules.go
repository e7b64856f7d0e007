package orchestrate

import (
	"context"
	"fmt"
	"strings"

	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/orchestrate/state"
)

// ruleEnv is what rules are evaluated against: the emulated registry, the
// known folders, and a place to run scripts.
type ruleEnv struct {
	store   *state.Store
	folders map[string]string
	scripts scriptRunner
}

// detectionRules are an app's detection rules, v1.0 and legacy forms.
func detectionRules(app imeapi.Win32LobApp) []imeapi.Rule {
	var out []imeapi.Rule
	for _, r := range app.Rules {
		if strings.EqualFold(r.RuleType, "detection") {
			out = append(out, r)
		}
	}
	return append(out, app.DetectionRules...)
}

// requirementRules are an app's additional requirement rules.
func requirementRules(app imeapi.Win32LobApp) []imeapi.Rule {
	var out []imeapi.Rule
	for _, r := range app.Rules {
		if strings.EqualFold(r.RuleType, "requirement") {
			out = append(out, r)
		}
	}
	return append(out, app.RequirementRules...)
}

// ruleKind names a rule's family from its @odata.type.
func ruleKind(t string) string {
	switch t {
	case imeapi.TypeFileSystemRule, imeapi.TypeFileSystemDetection, imeapi.TypeFileSystemRequirement:
		return "FileSystem"
	case imeapi.TypeRegistryRule, imeapi.TypeRegistryDetection, imeapi.TypeRegistryRequirement:
		return "Registry"
	case imeapi.TypeProductCodeRule, imeapi.TypeProductCodeDetection:
		return "ProductCode"
	case imeapi.TypeScriptRule, imeapi.TypeScriptDetection, imeapi.TypeScriptRequirement:
		return "Script"
	}
	return ""
}

// opOf is the rule's operation (v1.0 operationType or legacy detectionType)
// and value (comparisonValue or detectionValue).
func opOf(r imeapi.Rule) (op, value string) {
	op, value = r.OperationType, r.ComparisonValue
	if op == "" {
		op = r.DetectionType
	}
	if value == "" {
		value = r.DetectionValue
	}
	if op == "" {
		op = "notConfigured"
	}
	return op, value
}

// eval evaluates one rule; detection selects the script semantics
// (detected when exit 0 and stdout non-empty) over the requirement ones
// (stdout compared with the rule's value). detail says what was seen.
func (e *ruleEnv) eval(ctx context.Context, r imeapi.Rule, detection bool) (bool, string, error) {
	switch ruleKind(r.ODataType) {
	case "FileSystem":
		return e.fileRule(r)
	case "Registry":
		return e.registryRule(r)
	case "ProductCode":
		return e.productCodeRule(r)
	case "Script":
		return e.scriptRule(ctx, r, detection)
	}
	return false, "", fmt.Errorf("orchestrate: rule type %q: %w", r.ODataType, ErrRule)
}
