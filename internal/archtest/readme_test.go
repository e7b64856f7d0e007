package archtest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadmeLayoutListsEveryPackage: the README's Layout section names
// every package of the tree (top-level folders as "name/", the packages
// under them indented below), so a newcomer finds each one there.
func TestReadmeLayoutListsEveryPackage(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(data), "\n## Layout\n")
	if !ok {
		t.Fatal("README.md has no Layout section")
	}
	_, block, ok := strings.Cut(after, "```\n")
	block, _, ok2 := strings.Cut(block, "```")
	if !ok || !ok2 {
		t.Fatal("the Layout section has no code block")
	}
	listed := map[string]bool{}
	top := ""
	for _, line := range strings.Split(block, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		name := strings.TrimSuffix(f[0], "/")
		if strings.HasPrefix(line, " ") {
			name = top + "/" + name
		} else {
			top = name
		}
		listed[name] = true
	}
	pkgs := goList(t, "./...")
	for _, p := range pkgs {
		rel := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
		if rel == "" || listed[rel] {
			continue
		}
		t.Errorf("README's Layout does not list %s", rel)
	}
	if len(pkgs) < 20 {
		t.Fatalf("go list gave %d packages", len(pkgs))
	}
}
