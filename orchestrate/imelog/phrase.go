package imelog

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/imepipe/imepipe/orchestrate/cmtrace"
)

// Components, as the IME names them in each record's component attribute.
const (
	ComponentIME           = cmtrace.DefaultComponent // IntuneManagementExtension.log
	ComponentAgentExecutor = "AgentExecutor"          // AgentExecutor.log
)

// Log file names in the Logs folder.
const (
	FileIME           = "IntuneManagementExtension.log"
	FileAgentExecutor = "AgentExecutor.log"
)

// Phrase is one line of the vocabulary.
type Phrase struct {
	// ID names the phrase in tests and golden files; it never changes
	// when the wording is corrected.
	ID string
	// Type is the record's severity (the IME's own where it is known: it
	// logs the poller's banner lines as type 2).
	Type cmtrace.Type
	// Format is the message, a fmt format (%s %d %v %q only).
	Format string
}

// Text formats the phrase with args.
func (p Phrase) Text(args ...any) string { return fmt.Sprintf(p.Format, args...) }

var (
	registry   []Phrase
	byID       = map[string]Phrase{}
	compileMu  sync.Once
	compiled   []matcher
	verbRE     = regexp.MustCompile(`%[-+# 0-9.]*[sdvqx]`)
	registerMu sync.Mutex
)

type matcher struct {
	p       Phrase
	re      *regexp.Regexp
	literal int
}

// def registers a phrase of the table; IDs and formats are unique.
func def(id string, typ cmtrace.Type, format string) Phrase {
	registerMu.Lock()
	defer registerMu.Unlock()
	p := Phrase{ID: id, Type: typ, Format: format}
	if _, dup := byID[id]; dup {
		panic("imelog: duplicate phrase id " + id)
	}
	byID[id] = p
	registry = append(registry, p)
	return p
}

// All returns every phrase, sorted by ID.
func All() []Phrase {
	out := append([]Phrase(nil), registry...)
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// ByID finds a phrase by its ID.
func ByID(id string) (Phrase, bool) {
	p, ok := byID[id]
	return p, ok
}

// pattern is the anchored regular expression a phrase's messages match,
// and the number of literal characters in it (the more, the more specific).
func pattern(format string) (*regexp.Regexp, int) {
	var b strings.Builder
	b.WriteString(`(?s)^`)
	literal := 0
	rest := format
	for {
		loc := verbRE.FindStringIndex(rest)
		if loc == nil {
			break
		}
		lit := strings.ReplaceAll(rest[:loc[0]], "%%", "%")
		literal += len(lit)
		b.WriteString(regexp.QuoteMeta(lit))
		switch rest[loc[1]-1] {
		case 'd':
			b.WriteString(`-?[0-9]+`)
		default:
			b.WriteString(`.*?`)
		}
		rest = rest[loc[1]:]
	}
	lit := strings.ReplaceAll(rest, "%%", "%")
	literal += len(lit)
	b.WriteString(regexp.QuoteMeta(lit))
	b.WriteString(`$`)
	return regexp.MustCompile(b.String()), literal
}

// Match finds the phrase a logged message was formatted from: of the
// phrases whose pattern matches, the one with the most literal text.
func Match(msg string) (Phrase, bool) {
	compileMu.Do(func() {
		for _, p := range registry {
			re, n := pattern(p.Format)
			compiled = append(compiled, matcher{p: p, re: re, literal: n})
		}
	})
	best, found := matcher{literal: -1}, false
	for _, m := range compiled {
		if m.literal > best.literal && m.re.MatchString(msg) {
			best, found = m, true
		}
	}
	return best.p, found
}
