package filter

import (
	"fmt"
	"strings"
	"unicode"
)

// maxRule bounds the length of a rule, and maxDepth its nesting of parentheses.
const (
	maxRule  = 16 << 10
	maxDepth = 64
)

// Parse parses a filter rule. The error wraps ErrSyntax and names the
// byte offset and what was found there.
func Parse(text string) (*Rule, error) {
	if len(text) > maxRule {
		return nil, fmt.Errorf("%w: rule longer than %d bytes", ErrSyntax, maxRule)
	}
	toks, err := lex(text)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	n, err := p.or(0)
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, p.errorf(t, "want and, or or the end of the rule")
	}
	return &Rule{root: n, text: text}, nil
}

type tokKind int

const (
	tEOF    tokKind = iota
	tWord           // device.x, and, or
	tOp             // -eq …
	tString         // "…" or '…'
	tLParen
	tRParen
	tLBracket
	tRBracket
	tComma
)

type token struct {
	kind tokKind
	text string
	pos  int
}

func lex(s string) ([]token, error) {
	var out []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(' || c == ')' || c == '[' || c == ']' || c == ',':
			k := map[byte]tokKind{'(': tLParen, ')': tRParen, '[': tLBracket, ']': tRBracket, ',': tComma}[c]
			out = append(out, token{k, string(c), i})
			i++
		case c == '"' || c == '\'':
			j := strings.IndexByte(s[i+1:], c)
			if j < 0 {
				return nil, fmt.Errorf("%w: at %d: unterminated string", ErrSyntax, i)
			}
			out = append(out, token{tString, s[i+1 : i+1+j], i})
			i += j + 2
		case c == '-' || isWord(rune(c)):
			j := i + 1
			for j < len(s) && isWord(rune(s[j])) {
				j++
			}
			k := tWord
			if c == '-' {
				k = tOp
			}
			out = append(out, token{k, s[i:j], i})
			i = j
		default:
			return nil, fmt.Errorf("%w: at %d: unexpected %q", ErrSyntax, i, rune(c))
		}
	}
	return append(out, token{tEOF, "", len(s)}), nil
}

func isWord(r rune) bool {
	return r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '.' || r == '_')
}

type parser struct {
	toks []token
	i    int
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) errorf(t token, format string, a ...any) error {
	found := fmt.Sprintf("%q", t.text)
	if t.kind == tEOF {
		found = "the end of the rule"
	}
	return fmt.Errorf("%w: at %d: %s, found %s", ErrSyntax, t.pos, fmt.Sprintf(format, a...), found)
}

func (p *parser) keyword(word string) bool {
	t := p.peek()
	if t.kind == tWord && strings.EqualFold(t.text, word) {
		p.i++
		return true
	}
	return false
}

func (p *parser) or(depth int) (node, error) {
	l, err := p.and(depth)
	if err != nil {
		return nil, err
	}
	for p.keyword("or") {
		r, err := p.and(depth)
		if err != nil {
			return nil, err
		}
		l = or{l, r}
	}
	return l, nil
}

func (p *parser) and(depth int) (node, error) {
	l, err := p.unary(depth)
	if err != nil {
		return nil, err
	}
	for p.keyword("and") {
		r, err := p.unary(depth)
		if err != nil {
			return nil, err
		}
		l = and{l, r}
	}
	return l, nil
}

func (p *parser) unary(depth int) (node, error) {
	t := p.peek()
	if t.kind == tLParen {
		if depth >= maxDepth {
			return nil, p.errorf(t, "parentheses nested deeper than %d", maxDepth)
		}
		p.next()
		n, err := p.or(depth + 1)
		if err != nil {
			return nil, err
		}
		if c := p.next(); c.kind != tRParen {
			return nil, p.errorf(c, "want )")
		}
		return n, nil
	}
	return p.cond()
}

func (p *parser) cond() (node, error) {
	t := p.next()
	name, ok := strings.CutPrefix(strings.ToLower(t.text), "device.")
	if t.kind != tWord || !ok {
		return nil, p.errorf(t, "want a device property (device.deviceName, device.model, …) or (")
	}
	prop, known := CanonicalProperty(name)
	if !known {
		return nil, p.errorf(t, "unknown property; want one of device.%s", strings.Join(Properties, ", device."))
	}
	o := p.next()
	op := Op(0)
	if o.kind == tOp {
		for k, v := range opNames {
			if strings.EqualFold(v, o.text) {
				op = k
			}
		}
	}
	if op == 0 {
		return nil, p.errorf(o, "want an operator (-eq, -ne, -startsWith, -contains, -in, …)")
	}
	c := cond{prop: prop, op: op}
	if op == OpIn || op == OpNotIn {
		if b := p.next(); b.kind != tLBracket {
			return nil, p.errorf(b, "%s wants a list [\"a\", \"b\"]", op)
		}
		for {
			v := p.next()
			if v.kind != tString {
				return nil, p.errorf(v, "want a quoted value")
			}
			c.values = append(c.values, v.text)
			sep := p.next()
			if sep.kind == tRBracket {
				break
			}
			if sep.kind != tComma {
				return nil, p.errorf(sep, "want , or ]")
			}
		}
		return c, nil
	}
	v := p.next()
	if v.kind != tString {
		return nil, p.errorf(v, "want a quoted value")
	}
	c.values = []string{v.text}
	return c, nil
}
