package filter

import (
	"errors"
	"fmt"
	"strings"
)

// ErrSyntax is a rule that does not parse; the error says where.
var ErrSyntax = errors.New("filter: syntax error")

// Properties are the device.* names a rule may use, canonical spelling.
var Properties = []string{
	"deviceName", "manufacturer", "model", "osVersion", "operatingSystemSKU",
	"deviceOwnership", "enrollmentProfileName", "deviceCategory",
}

// Op is a comparison operator.
type Op int

// Operators, in the rule language's spelling (Op.String).
const (
	OpEq Op = iota + 1
	OpNe
	OpStartsWith
	OpNotStartsWith
	OpEndsWith
	OpNotEndsWith
	OpContains
	OpNotContains
	OpIn
	OpNotIn
)

var opNames = map[Op]string{
	OpEq: "-eq", OpNe: "-ne", OpStartsWith: "-startsWith", OpNotStartsWith: "-notStartsWith",
	OpEndsWith: "-endsWith", OpNotEndsWith: "-notEndsWith", OpContains: "-contains",
	OpNotContains: "-notContains", OpIn: "-in", OpNotIn: "-notIn",
}

func (o Op) String() string {
	if s, ok := opNames[o]; ok {
		return s
	}
	return fmt.Sprintf("Op(%d)", int(o))
}

// Rule is a parsed filter rule.
type Rule struct {
	root node
	text string
}

// String is the rule as written.
func (r *Rule) String() string { return r.text }

// node is a condition or a boolean combination of nodes.
type node interface {
	eval(props map[string]string) bool
}

type and struct{ l, r node }
type or struct{ l, r node }

func (n and) eval(p map[string]string) bool { return n.l.eval(p) && n.r.eval(p) }
func (n or) eval(p map[string]string) bool  { return n.l.eval(p) || n.r.eval(p) }

// cond is device.<prop> <op> <value or values>.
type cond struct {
	prop   string // canonical property name
	op     Op
	values []string // one, except for -in and -notIn
}

func (c cond) eval(p map[string]string) bool {
	have := strings.ToLower(lookup(p, c.prop))
	want := strings.ToLower(c.values[0])
	switch c.op {
	case OpEq:
		return have == want
	case OpNe:
		return have != want
	case OpStartsWith:
		return strings.HasPrefix(have, want)
	case OpNotStartsWith:
		return !strings.HasPrefix(have, want)
	case OpEndsWith:
		return strings.HasSuffix(have, want)
	case OpNotEndsWith:
		return !strings.HasSuffix(have, want)
	case OpContains:
		return strings.Contains(have, want)
	case OpNotContains:
		return !strings.Contains(have, want)
	case OpIn, OpNotIn:
		in := false
		for _, v := range c.values {
			if strings.EqualFold(have, v) {
				in = true
				break
			}
		}
		return in == (c.op == OpIn)
	}
	return false
}

// lookup finds a property by name in any case; absent is "".
func lookup(p map[string]string, name string) string {
	if v, ok := p[name]; ok {
		return v
	}
	for k, v := range p {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// Eval reports whether a device with properties props (keys are the
// property names without "device.", in any case; a missing one is the
// empty string) matches the rule.
func (r *Rule) Eval(props map[string]string) bool { return r.root.eval(props) }

// CanonicalProperty returns a property name in its canonical spelling,
// and whether it is one of Properties.
func CanonicalProperty(name string) (string, bool) {
	for _, p := range Properties {
		if strings.EqualFold(p, name) {
			return p, true
		}
	}
	return name, false
}
