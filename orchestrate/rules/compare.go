package rules

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// compare evaluates "actual OP want" for a rule's value kind: string,
// integer, float, version, boolean or dateTime. Operator notConfigured
// (or empty) is true.
func compare(kind, op, actual, want string) (bool, error) {
	if op == "" || strings.EqualFold(op, "notConfigured") {
		return true, nil
	}
	var c int
	switch strings.ToLower(kind) {
	case "string":
		c = strings.Compare(strings.ToLower(actual), strings.ToLower(want))
		if op != "equal" && op != "notEqual" {
			return false, fmt.Errorf("rules: operator %s on strings: %w", op, ErrRule)
		}
	case "integer":
		a, err1 := strconv.ParseInt(strings.TrimSpace(actual), 0, 64)
		w, err2 := strconv.ParseInt(strings.TrimSpace(want), 0, 64)
		if err2 != nil {
			return false, fmt.Errorf("rules: integer value %q: %w", want, ErrRule)
		}
		if err1 != nil {
			return false, nil
		}
		c = cmp3(a, w)
	case "float", "sizeinmb":
		a, err1 := strconv.ParseFloat(strings.TrimSpace(actual), 64)
		w, err2 := strconv.ParseFloat(strings.TrimSpace(want), 64)
		if err2 != nil {
			return false, fmt.Errorf("rules: number %q: %w", want, ErrRule)
		}
		if err1 != nil {
			return false, nil
		}
		c = cmp3(a, w)
	case "version":
		var ok bool
		if c, ok = compareVersions(actual, want); !ok {
			return false, nil
		}
	case "boolean":
		a, err1 := strconv.ParseBool(strings.TrimSpace(actual))
		w, err2 := strconv.ParseBool(strings.TrimSpace(want))
		if err2 != nil {
			return false, fmt.Errorf("rules: boolean %q: %w", want, ErrRule)
		}
		if err1 != nil {
			return false, nil
		}
		if a == w {
			c = 0
		} else {
			c = 1
		}
	case "datetime", "modifieddate", "createddate":
		a, err1 := parseTime(actual)
		w, err2 := parseTime(want)
		if err2 != nil {
			return false, fmt.Errorf("rules: date %q: %w", want, ErrRule)
		}
		if err1 != nil {
			return false, nil
		}
		c = a.Compare(w)
	default:
		return false, fmt.Errorf("rules: value kind %q: %w", kind, ErrRule)
	}
	switch op {
	case "equal":
		return c == 0, nil
	case "notEqual":
		return c != 0, nil
	case "greaterThan":
		return c > 0, nil
	case "greaterThanOrEqual":
		return c >= 0, nil
	case "lessThan":
		return c < 0, nil
	case "lessThanOrEqual":
		return c <= 0, nil
	}
	return false, fmt.Errorf("rules: operator %q: %w", op, ErrRule)
}

func cmp3[T int64 | float64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// compareVersions compares dotted versions numerically ("1.10" > "1.9");
// missing parts are 0. ok is false if either is not a version.
func compareVersions(a, b string) (int, bool) {
	pa, oka := versionParts(a)
	pb, okb := versionParts(b)
	if !oka || !okb {
		return 0, false
	}
	for i := 0; i < max(len(pa), len(pb)); i++ {
		var x, y int64
		if i < len(pa) {
			x = pa[i]
		}
		if i < len(pb) {
			y = pb[i]
		}
		if x != y {
			return cmp3(x, y), true
		}
	}
	return 0, true
}

func versionParts(s string) ([]int64, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, false
	}
	var out []int64
	for _, p := range strings.Split(s, ".") {
		n, err := strconv.ParseInt(p, 10, 64)
		if err != nil || n < 0 {
			return nil, false
		}
		out = append(out, n)
	}
	return out, true
}

func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02", "1/2/2006 15:04:05", "1/2/2006"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("rules: time %q: %w", s, ErrRule)
}
