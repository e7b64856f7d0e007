package filter

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// ErrFile is a filters.json that cannot be used at all.
var ErrFile = errors.New("filter: filters file")

// Filter is a Graph deviceAndAppManagementAssignmentFilter. Rule is the
// parsed rule; Err, when not nil, says why it is unusable (a rule that
// does not parse, another platform): apps assigned through it are refused.
type Filter struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	Platform    string `json:"platform"`
	RuleText    string `json:"rule"`

	Rule *Rule `json:"-"`
	Err  error `json:"-"`
}

// Platform is the only filter platform a Win32 app can be assigned with.
const Platform = "windows10AndLater"

// maxFile bounds what ReadFile reads.
const maxFile = 4 << 20

// ReadFile reads filters from path: a JSON array of filters, or Graph's
// list form {"value": [...]}. A missing file is no filters. It returns
// the filters by id (folded to lower case); a filter whose rule does not
// parse is returned with Err set, not as an error. The error is for a
// file that cannot be read or decoded, a filter without id, and an id
// used twice.
func ReadFile(path string) (map[string]*Filter, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]*Filter{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFile, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFile+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFile, err)
	}
	if len(data) > maxFile {
		return nil, fmt.Errorf("%w: %s: larger than %d bytes", ErrFile, path, maxFile)
	}
	return Decode(path, data)
}

// Decode is ReadFile on data already read; name is used in errors.
func Decode(name string, data []byte) (map[string]*Filter, error) {
	var list []*Filter
	t := bytes.TrimSpace(data)
	if len(t) > 0 && t[0] == '{' {
		var wrapped struct {
			Value *[]*Filter `json:"value"`
		}
		if err := json.Unmarshal(t, &wrapped); err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrFile, name, err)
		}
		if wrapped.Value == nil {
			return nil, fmt.Errorf("%w: %s: an object without \"value\"; want an array of filters or {\"value\": [...]}", ErrFile, name)
		}
		list = *wrapped.Value
	} else if err := json.Unmarshal(t, &list); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrFile, name, err)
	}
	out := map[string]*Filter{}
	for i, f := range list {
		if f == nil || strings.TrimSpace(f.ID) == "" {
			return nil, fmt.Errorf("%w: %s: filter %d has no id", ErrFile, name, i)
		}
		k := strings.ToLower(f.ID)
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("%w: %s: filter id %s listed twice", ErrFile, name, f.ID)
		}
		out[k] = f
		switch {
		case f.Platform != "" && !strings.EqualFold(f.Platform, Platform):
			f.Err = fmt.Errorf("filter %s (%q): platform %q, want %s", f.ID, f.DisplayName, f.Platform, Platform)
		default:
			r, err := Parse(f.RuleText)
			if err != nil {
				f.Err = fmt.Errorf("filter %s (%q): %w", f.ID, f.DisplayName, err)
			}
			f.Rule = r
		}
	}
	return out, nil
}
