package archtest

import (
	"slices"
	"strings"
	"testing"
)

// The agent side talks to the service over HTTP through imeapi, the wire
// contract; it must not link the server. peer shares pieces and never
// unpacks, so it must not link the package format or the extractor
// either; orchestrate unpacks (decrypt, stage) but still not the server.
func TestAgentSideDoesNotDependOnServer(t *testing.T) {
	forbidden := map[string][]string{
		module + "/peer":   {"service", "decrypt", "stage", "msi", "internal/inflate", "orchestrate"},
		module + "/imeapi": {""}, // nothing of imepipe at all
	}
	for _, p := range goList(t, "./peer", "./imeapi", "./orchestrate/...") {
		bad := forbidden[p.ImportPath]
		if strings.HasPrefix(p.ImportPath, module+"/orchestrate") {
			bad = []string{"service"}
		}
		var own []string
		for _, d := range p.Deps {
			if !strings.HasPrefix(d, module+"/") {
				continue
			}
			own = append(own, strings.TrimPrefix(d, module+"/"))
			for _, b := range bad {
				if d == module+"/"+b || strings.HasPrefix(d, module+"/"+b+"/") || b == "" {
					t.Errorf("%s depends on %s (through %s)", p.ImportPath, d, importers(p, d))
				}
			}
		}
		t.Logf("%s depends on %v", strings.TrimPrefix(p.ImportPath, module+"/"), own)
	}
}

// importers names which of p's direct imports lead to dep.
func importers(p listed, dep string) string {
	if slices.Contains(p.Imports, dep) {
		return "a direct import"
	}
	var via []string
	for _, i := range p.Imports {
		if strings.HasPrefix(i, module+"/") {
			via = append(via, i)
		}
	}
	return "one of " + strings.Join(via, ", ")
}
