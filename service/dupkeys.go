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

// keyFrame is one open object (keys set) or array (keys nil) of the walk.
type keyFrame struct {
	keys    map[string]string // folded key → as written
	key     string            // objects: the key of the value being read
	index   int               // arrays: the index of the next value
	wantKey bool              // objects: the next token is a key or '}'
}

// checkDuplicateKeys walks data's JSON tokens and returns a *dupKeyError
// for the first object, at any depth, that names a key twice. Keys are
// compared case-insensitively, as encoding/json matches them to struct
// fields: "id" and "ID" would otherwise silently last-win. Syntax errors
// are not its business: it returns nil and leaves them to the decoder.
func checkDuplicateKeys(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var stack []keyFrame
	for {
		tok, err := dec.Token()
		if err != nil { // io.EOF at the end; syntax errors are the decoder's to report
			return nil
		}
		if n := len(stack); n > 0 {
			top := &stack[n-1]
			d, isDelim := tok.(json.Delim)
			switch {
			case top.keys != nil && top.wantKey:
				if isDelim { // '}': a key was expected, the object ends
					stack = stack[:n-1]
					continue
				}
				k, _ := tok.(string)
				f := strings.ToLower(k)
				if first, dup := top.keys[f]; dup {
					top.key = k
					return &dupKeyError{Path: keyPath(stack), Key: k, First: first, Offset: dec.InputOffset()}
				}
				top.keys[f], top.key, top.wantKey = k, k, false
				continue
			case top.keys != nil:
				top.wantKey = true // this token is the key's value
			case isDelim && d == ']':
				stack = stack[:n-1]
				continue
			default:
				top.index++ // this token is element index-1 of the array
			}
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, keyFrame{keys: map[string]string{}, wantKey: true})
		case json.Delim('['):
			stack = append(stack, keyFrame{})
		}
	}
}

// keyPath is the JSON path of the value the innermost frame is at, in
// Validate's form: "rules[0].path".
func keyPath(stack []keyFrame) string {
	var b strings.Builder
	for _, f := range stack {
		if f.keys != nil {
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(f.key)
		} else {
			b.WriteString("[" + strconv.Itoa(f.index-1) + "]")
		}
	}
	return b.String()
}
