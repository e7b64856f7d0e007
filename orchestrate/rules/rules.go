package rules

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/orchestrate/state"
)

// ErrRule: a detection or requirement rule that cannot be evaluated
// (unknown type or operator, bad value, unmapped path).
var ErrRule = errors.New("invalid rule")

// Registry is the registry rules read (*state.Store, the emulated one).
type Registry interface {
	RegQuery(key string) (state.RegKey, []string, error)
	RegGet(key, name string) (state.RegValue, error)
}

// Env is what rules are evaluated against: the registry, the known
// folders (KnownFolders), and a place to run scripts; Products (optional)
// answers MSI product codes. UseSystem swaps in Windows' own.
type Env struct {
	Registry Registry
	Folders  map[string]string
	Scripts  Scripts
	Products Products
}

// Detection are an app's detection rules, v1.0 and legacy forms.
func Detection(app imeapi.Win32LobApp) []imeapi.Rule {
	var out []imeapi.Rule
	for _, r := range app.Rules {
		if strings.EqualFold(r.RuleType, "detection") {
			out = append(out, r)
		}
	}
	return append(out, app.DetectionRules...)
}

// Requirements are an app's additional requirement rules.
func Requirements(app imeapi.Win32LobApp) []imeapi.Rule {
	var out []imeapi.Rule
	for _, r := range app.Rules {
		if strings.EqualFold(r.RuleType, "requirement") {
			out = append(out, r)
		}
	}
	return append(out, app.RequirementRules...)
}

// Kind names a rule's family from its @odata.type: FileSystem,
// Registry, ProductCode, Script, or "" for a type it does not know.
func Kind(t string) string {
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

// Eval evaluates one rule; detection selects the script semantics
// (detected when exit 0 and stdout non-empty) over the requirement ones
// (stdout compared with the rule's value). detail says what was seen.
func (e *Env) Eval(ctx context.Context, r imeapi.Rule, detection bool) (bool, string, error) {
	switch Kind(r.ODataType) {
	case "FileSystem":
		return e.fileRule(r)
	case "Registry":
		return e.registryRule(r)
	case "ProductCode":
		return e.productCodeRule(r)
	case "Script":
		return e.scriptRule(ctx, r, detection)
	}
	return false, "", fmt.Errorf("rules: rule type %q: %w", r.ODataType, ErrRule)
}
