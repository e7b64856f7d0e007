package archtest

import (
	"strings"
	"testing"
)

// The agent side talks to the service over HTTP through imeapi, the wire
// contract; it must not link the server. peer shares pieces and never
// unpacks, so it must not link the package format or the extractor
// either; orchestrate unpacks (decrypt, stage) but still not the server.
// imeapi itself imports nothing of imepipe. delivery, shared by the agent
// and bench fleet, does not import orchestrate (nor its Agent); neither do
// the rules.
func TestAgentSideDoesNotDependOnServer(t *testing.T) {
	forbidden := func(pkg string) []string {
		switch {
		case pkg == module+"/peer":
			return []string{"service", "decrypt", "stage", "msi", "internal/inflate", "orchestrate"}
		case pkg == module+"/imeapi":
			return []string{""} // anything of imepipe
		case pkg == module+"/delivery":
			return []string{"service", "orchestrate"}
		case pkg == module+"/orchestrate/rules":
			// The rules need no Agent and download nothing ("=" is the package alone).
			return []string{"service", "=orchestrate", "delivery", "fetch", "peer"}
		case pkg == module+"/orchestrate" || strings.HasPrefix(pkg, module+"/orchestrate/"):
			return []string{"service"}
		}
		return nil
	}
	all := goList(t, "-deps", "./peer", "./imeapi", "./delivery", "./orchestrate/...")
	imports := map[string][]string{}
	for _, p := range all {
		imports[p.ImportPath] = p.Imports
	}
	checked := 0
	for _, p := range all {
		bad := forbidden(p.ImportPath)
		if p.DepOnly || bad == nil {
			continue
		}
		checked++
		var own []string
		for _, d := range p.Deps {
			if !strings.HasPrefix(d, module+"/") {
				continue
			}
			rel := strings.TrimPrefix(d, module+"/")
			own = append(own, rel)
			for _, b := range bad {
				exact, only := strings.CutPrefix(b, "=")
				if b == "" || rel == exact || !only && strings.HasPrefix(rel, b+"/") {
					t.Errorf("%s depends on %s: %s", p.ImportPath, d, strings.Join(path(imports, p.ImportPath, d), " → "))
				}
			}
		}
		t.Logf("%s depends on %v", strings.TrimPrefix(p.ImportPath, module+"/"), own)
	}
	if checked < 3 {
		t.Fatalf("checked %d packages; go list gave %d", checked, len(all))
	}
}

// path is the shortest import chain from one package to another.
func path(imports map[string][]string, from, to string) []string {
	prev := map[string]string{from: ""}
	queue := []string{from}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if p == to {
			var chain []string
			for ; p != ""; p = prev[p] {
				chain = append([]string{strings.TrimPrefix(p, module+"/")}, chain...)
			}
			return chain
		}
		for _, i := range imports[p] {
			if _, seen := prev[i]; !seen {
				prev[i] = p
				queue = append(queue, i)
			}
		}
	}
	return []string{from, "…", to}
}
