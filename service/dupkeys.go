package service

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// dupKeyError is an object that names one key twice.
type dupKeyError struct {
	Path   string // JSON path of the second occurrence, e.g. "rules[0].path"
	Key    string // the key as written the second time
	First  string // the key as written the first time (differs in case only, or equal)
	Offset int64  // byte offset just past the second occurrence
}

func (e *dupKeyError) Error() string {
	if e.First != e.Key {
		return fmt.Sprintf("key %q repeats %q (keys match case-insensitively)", e.Key, e.First)
	}
	return fmt.Sprintf("key %q appears twice", e.Key)
}

// checkDuplicateKeys walks data's JSON tokens and returns a *dupKeyError
// for the first object, at any depth, that names a key twice. Keys are
// compared case-insensitively, as encoding/json matches them to struct
// fields: "id" and "ID" would otherwise silently last-win. Syntax errors
// are not its business: it returns nil and leaves them to the decoder.
func checkDuplicateKeys(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	// One frame per open object or array: the keys seen (objects) or the
	// next index (arrays), and the path of the container.
	type frame struct {
		keys    map[string]string // folded → as written; nil for arrays
		index   int
		path    string
		wantKey bool // objects: the next string token is a key
	}
	var stack []*frame
	var pending string // path of the value following the last key
	for {
		tok, err := dec.Token()
		if err != nil { // io.EOF at the end; syntax errors are the decoder's to report
			return nil
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.keys != nil && top.wantKey {
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:len(stack)-1]
				continue
			}
			k, _ := tok.(string)
			f := strings.ToLower(k)
			pending = joinKey(top.path, k)
			if first, dup := top.keys[f]; dup {
				return &dupKeyError{Path: pending, Key: k, First: first, Offset: dec.InputOffset()}
			}
			top.keys[f] = k
			top.wantKey = false
			continue
		}
		// A value: its path comes from the key before it or the array index.
		path := ""
		if top != nil {
			if top.keys != nil {
				path, top.wantKey = pending, true
			} else {
				if d, ok := tok.(json.Delim); ok && d == ']' {
					stack = stack[:len(stack)-1]
					continue
				}
				path = top.path + "[" + strconv.Itoa(top.index) + "]"
				top.index++
			}
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{keys: map[string]string{}, path: path, wantKey: true})
		case json.Delim('['):
			stack = append(stack, &frame{path: path})
		}
	}
}

// joinKey is the JSON path of key k in an object at path.
func joinKey(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}
