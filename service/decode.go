package service

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/imepipe/imepipe/imeapi"
)

// decodeError is a request body that cannot be used: Status is 400 or 413.
type decodeError struct {
	Status int
	Field  string
	Msg    string
}

func (e *decodeError) Error() string { return e.Msg }

// bodyDeadline gives a request that has a body timeout to send it: a
// body at 1 byte a second must not hold a connection (and a goroutine)
// for minutes. decodeBody lifts the deadline once the body is in, so a
// long answer is not cut; a handler that never reads its body leaves it,
// and the server's discard of that body ends at the deadline. Requests
// without a body get none: their connection's background read must not
// time out while a blob is being sent.
func bodyDeadline(w http.ResponseWriter, r *http.Request, d time.Duration) {
	if r.ContentLength == 0 || r.Body == nil || r.Body == http.NoBody {
		return
	}
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(d))
}

// decodeBody reads one JSON value from r's body (at most limit bytes) into v.
// Unknown fields are accepted; a wrong type names the field.
func decodeBody(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	body := http.MaxBytesReader(w, r.Body, limit)
	data, err := io.ReadAll(body)
	if err == nil {
		_ = http.NewResponseController(w).SetReadDeadline(time.Time{})
	}
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &decodeError{Status: http.StatusRequestEntityTooLarge, Msg: fmt.Sprintf("request body larger than %d bytes", limit)}
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			w.Header().Set("Connection", "close")
			return &decodeError{Status: http.StatusRequestTimeout, Msg: "request body not received in time"}
		}
		return &decodeError{Status: http.StatusBadRequest, Msg: "reading request body: " + err.Error()}
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return &decodeError{Status: http.StatusBadRequest, Msg: "empty request body, want a JSON object"}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		field, msg := describeJSONError(data, err)
		if field != "" {
			msg = field + ": " + msg
		}
		return &decodeError{Status: http.StatusBadRequest, Field: field, Msg: msg}
	}
	if dec.More() {
		return &decodeError{Status: http.StatusBadRequest, Msg: "malformed JSON: data after the object"}
	}
	return nil
}

// describeJSONError turns a decoding error into the field it concerns (if
// any) and a message that says what is wrong and where it is in data.
func describeJSONError(data []byte, err error) (field, msg string) {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &te):
		line, col := position(data, te.Offset)
		return te.Field, fmt.Sprintf("JSON %s where %s is expected (line %d, column %d)", te.Value, jsonKind(te.Type.Kind().String()), line, col)
	case errors.As(err, &se):
		line, col := position(data, se.Offset)
		return "", fmt.Sprintf("malformed JSON at line %d, column %d: %v", line, col, se)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "", "malformed JSON: unexpected end of input"
	}
	return "", "malformed JSON: " + err.Error()
}

// jsonKind names a Go kind the way a JSON author thinks of it.
func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice", "array":
		return "an array"
	case "struct", "map":
		return "an object"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "an integer"
	case "float32", "float64":
		return "a number"
	}
	return "a " + k
}

// position converts a byte offset into a 1-based line and column.
func position(data []byte, off int64) (line, col int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	line, col = 1, 1
	for _, c := range data[:off] {
		if c == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col
}

// writeJSON writes v with status code.
func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, `{"error":"internal error"}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	w.Write(b)
}

// writeError writes the error body every failure uses.
func writeError(w http.ResponseWriter, code int, field, format string, a ...any) {
	writeJSON(w, code, imeapi.ErrorBody{Error: fmt.Sprintf(format, a...), Field: field})
}
