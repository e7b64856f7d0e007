package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/imepipe/imepipe/internal/fixtures"
)

// TestInspectTextHasEveryMsiField: the text view of an MSI package lists
// every MsiInfo element --json has, with the same value.
func TestInspectTextHasEveryMsiField(t *testing.T) {
	pkg := fixtures.Path(t, "aesetup-msi.intunewin")
	code, out, stderr := runCLI(t, "inspect", "--json", pkg)
	if code != 0 {
		t.Fatalf("inspect --json: exit %d, %s", code, stderr)
	}
	var doc struct {
		MsiInfo map[string]any `json:"msiInfo"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || len(doc.MsiInfo) < 14 {
		t.Fatalf("inspect --json: %v, msiInfo %v", err, doc.MsiInfo)
	}
	code, text, stderr := runCLI(t, "inspect", pkg)
	if code != 0 {
		t.Fatalf("inspect: exit %d, %s", code, stderr)
	}
	rows := map[string]string{}
	for _, l := range strings.Split(text, "\n") {
		if k, v, ok := strings.Cut(l, " : "); ok {
			rows[strings.TrimSpace(k)] = v
		}
	}
	for k, v := range doc.MsiInfo {
		if got, ok := rows[k]; !ok || got != strings.Trim(string(must(json.Marshal(v))), `"`) {
			t.Errorf("text row %s = %q (present %v), want %v", k, got, ok, v)
		}
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}
