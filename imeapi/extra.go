package imeapi

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"sync"
)

// Graph objects in app.json may carry fields this package does not model.
// They are kept, not rejected: each modelled object has an Extra map that
// unmarshalKeeping fills and marshalKeeping writes back.

var knownKeys sync.Map // reflect.Type → map[string]bool

// jsonKeys returns the JSON names of t's fields.
func jsonKeys(t reflect.Type) map[string]bool {
	if v, ok := knownKeys.Load(t); ok {
		return v.(map[string]bool)
	}
	keys := map[string]bool{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		keys[name] = true
	}
	knownKeys.Store(t, keys)
	return keys
}

// unmarshalKeeping decodes b into v (a pointer to a struct type without
// custom methods) and stores the object's unknown fields in extra.
func unmarshalKeeping(b []byte, v any, extra *map[string]json.RawMessage) error {
	if err := json.Unmarshal(b, v); err != nil {
		return err
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return nil // null: nothing to keep
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return err
	}
	keys := jsonKeys(reflect.TypeOf(v).Elem())
	*extra = nil
	for k, raw := range all {
		if keys[k] {
			continue
		}
		// encoding/json matches keys case-insensitively; so do we.
		if matchFold(keys, k) {
			continue
		}
		if *extra == nil {
			*extra = map[string]json.RawMessage{}
		}
		(*extra)[k] = raw
	}
	return nil
}

func matchFold(keys map[string]bool, k string) bool {
	for known := range keys {
		if strings.EqualFold(known, k) {
			return true
		}
	}
	return false
}

// marshalKeeping encodes v (a struct type without custom methods) and adds
// the fields of extra that v does not already have.
func marshalKeeping(v any, extra map[string]json.RawMessage) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil || len(extra) == 0 {
		return b, err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return nil, err
	}
	for k, raw := range extra {
		if _, ok := all[k]; !ok {
			all[k] = raw
		}
	}
	return json.Marshal(all)
}
