package cmtrace

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// ErrFormat: text that is not a CMTrace record.
var ErrFormat = errors.New("not a CMTrace record")

// Type is a record's severity.
type Type int

// Severities, as CMTrace colours them.
const (
	Info    Type = 1
	Warning Type = 2
	Error   Type = 3
)

// DefaultComponent is the IME's component name.
const DefaultComponent = "IntuneManagementExtension"

// Entry is one record.
type Entry struct {
	Message   string
	Time      time.Time
	Component string
	Context   string
	Type      Type
	Thread    int
	File      string
}

const (
	openTag  = "<![LOG["
	closeTag = "]LOG]!>"
)

// Format renders e as one record, without the line ending. A message that
// contains the closing tag has it defused so the record still parses.
func Format(e Entry) string {
	msg := strings.ReplaceAll(e.Message, closeTag, "]LOG]!&gt;")
	t := e.Time
	return fmt.Sprintf(`%s%s%s<time="%02d:%02d:%02d.%07d" date="%d-%d-%04d" component="%s" context="%s" type="%d" thread="%d" file="%s">`,
		openTag, msg, closeTag,
		t.Hour(), t.Minute(), t.Second(), t.Nanosecond()/100,
		int(t.Month()), t.Day(), t.Year(),
		attr(e.Component), attr(e.Context), e.Type, e.Thread, attr(e.File))
}

func attr(s string) string { return strings.ReplaceAll(s, `"`, "'") }

// Parse reads every record of r. Records may span lines (multi-line
// messages); text outside records is an error.
func Parse(r io.Reader) ([]Entry, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var out []Entry
	var pending strings.Builder
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if pending.Len() > 0 {
			pending.WriteString("\n")
		} else if text == "" {
			continue
		}
		pending.WriteString(text)
		s := pending.String()
		if !strings.Contains(s, closeTag) || !strings.HasSuffix(strings.TrimRight(s, "\r"), ">") || !strings.Contains(s[strings.Index(s, closeTag):], `file="`) {
			continue
		}
		e, err := ParseRecord(strings.TrimRight(s, "\r"))
		if err != nil {
			return out, fmt.Errorf("cmtrace: line %d: %w", line, err)
		}
		out = append(out, e)
		pending.Reset()
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("cmtrace: %w", err)
	}
	if pending.Len() > 0 {
		return out, fmt.Errorf("cmtrace: line %d: unterminated record: %w", line, ErrFormat)
	}
	return out, nil
}

var (
	timeRE = regexp.MustCompile(`^[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{7}$`)
	dateRE = regexp.MustCompile(`^[0-9]{1,2}-[0-9]{1,2}-[0-9]{4}$`)
)

// ParseRecord parses one record (no trailing line ending).
func ParseRecord(s string) (Entry, error) {
	var e Entry
	if !strings.HasPrefix(s, openTag) {
		return e, fmt.Errorf("missing %s: %w", openTag, ErrFormat)
	}
	end := strings.LastIndex(s, closeTag)
	if end < 0 {
		return e, fmt.Errorf("missing %s: %w", closeTag, ErrFormat)
	}
	e.Message = s[len(openTag):end]
	rest := s[end+len(closeTag):]
	if !strings.HasPrefix(rest, "<") || !strings.HasSuffix(rest, ">") {
		return e, fmt.Errorf("bad attributes: %w", ErrFormat)
	}
	attrs, err := parseAttrs(rest[1 : len(rest)-1])
	if err != nil {
		return e, err
	}
	for _, k := range []string{"time", "date", "component", "context", "type", "thread", "file"} {
		if _, ok := attrs[k]; !ok {
			return e, fmt.Errorf("missing attribute %s: %w", k, ErrFormat)
		}
	}
	if !timeRE.MatchString(attrs["time"]) || !dateRE.MatchString(attrs["date"]) {
		return e, fmt.Errorf("bad date/time %q %q: %w", attrs["date"], attrs["time"], ErrFormat)
	}
	t, err := time.ParseInLocation("1-2-2006 15:04:05.0000000", attrs["date"]+" "+attrs["time"], time.Local)
	if err != nil || t.Year() < 1 {
		return e, fmt.Errorf("bad date/time %q %q: %w", attrs["date"], attrs["time"], ErrFormat)
	}
	e.Time = t
	typ, err := strconv.Atoi(attrs["type"])
	if err != nil || typ < 0 || typ > 3 {
		return e, fmt.Errorf("bad type %q: %w", attrs["type"], ErrFormat)
	}
	e.Type = Type(typ)
	if e.Thread, err = strconv.Atoi(attrs["thread"]); err != nil {
		return e, fmt.Errorf("bad thread %q: %w", attrs["thread"], ErrFormat)
	}
	e.Component, e.Context, e.File = attrs["component"], attrs["context"], attrs["file"]
	return e, nil
}

// parseAttrs reads name="value" pairs separated by spaces.
func parseAttrs(s string) (map[string]string, error) {
	m := map[string]string{}
	for {
		s = strings.TrimLeft(s, " ")
		if s == "" {
			return m, nil
		}
		eq := strings.Index(s, `="`)
		if eq <= 0 {
			return nil, fmt.Errorf("bad attribute near %q: %w", s, ErrFormat)
		}
		name := s[:eq]
		s = s[eq+2:]
		q := strings.IndexByte(s, '"')
		if q < 0 {
			return nil, fmt.Errorf("unterminated attribute %s: %w", name, ErrFormat)
		}
		m[name] = s[:q]
		s = s[q+1:]
	}
}
