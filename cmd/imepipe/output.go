package main

import (
	"encoding/json"
	"fmt"
)

// writeJSON prints v as the one JSON document of a --json run.
func writeJSON(e *env, v any) error {
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	return nil
}
