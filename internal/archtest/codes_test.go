package archtest

import (
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// codeTypes are imeapi's code types. A literal of one of them that spells
// a named value must use the name.
var codeTypes = []string{"EnforcementState", "ComplianceState", "Intent", "DownloadMode", "DOStatus", "ReturnCodeType"}

// TestNoCodeLiterals type-checks every package of the tree (test files
// included, for the host's GOOS) against the export data go list builds,
// and fails on a literal whose type is one of imeapi's code types and
// whose value is one of its named constants: 1000 where
// imeapi.EnforcementSuccess is meant, "success" for imeapi.ReturnSuccess,
// 0 passed as a DownloadMode. The rule is by type, not by name, so sizes,
// durations and exit codes are never flagged, and a value no constant
// names (7 as a bad mode, "bogus" as a bad return type) stays a literal
// that tests may use to probe rejection. JSON text in strings is not Go
// and is not checked.
func TestNoCodeLiterals(t *testing.T) {
	pkgs := goList(t, "-export", "-deps", "-test", "./...")
	exports := map[string]string{}
	for _, p := range pkgs {
		if p.ForTest == "" && p.Export != "" {
			exports[p.ImportPath] = p.Export
		}
	}
	named := namedCodes(t, exports)
	fset := token.NewFileSet()
	var found []string
	for _, p := range pkgs {
		if p.Standard || p.ForTest != "" || !strings.HasPrefix(p.ImportPath, module) || strings.HasSuffix(p.ImportPath, ".test") || p.ImportPath == module+"/imeapi" {
			continue
		}
		for _, files := range [][]string{append(slices.Clone(p.GoFiles), p.TestGoFiles...), p.XTestGoFiles} {
			if len(files) == 0 {
				continue
			}
			found = append(found, scan(t, fset, exports, p, files, named)...)
		}
	}
	for _, f := range found {
		t.Error(f)
	}
}

// namedCodes maps each code type to its named constants' values.
func namedCodes(t *testing.T, exports map[string]string) map[string]map[string]string {
	imp := importer.ForCompiler(token.NewFileSet(), "gc", lookup(exports))
	pkg, err := imp.Import(module + "/imeapi")
	if err != nil {
		t.Fatal(err)
	}
	named := map[string]map[string]string{}
	for _, n := range pkg.Scope().Names() {
		c, ok := pkg.Scope().Lookup(n).(*types.Const)
		if !ok {
			continue
		}
		if nt, ok := c.Type().(*types.Named); ok && slices.Contains(codeTypes, nt.Obj().Name()) {
			if named[nt.Obj().Name()] == nil {
				named[nt.Obj().Name()] = map[string]string{}
			}
			named[nt.Obj().Name()][c.Val().ExactString()] = n
		}
	}
	for _, ct := range codeTypes {
		if len(named[ct]) == 0 {
			t.Fatalf("imeapi names no %s constant", ct)
		}
	}
	return named
}

func lookup(exports map[string]string) importer.Lookup {
	return func(path string) (io.ReadCloser, error) {
		f, ok := exports[path]
		if !ok {
			return nil, fmt.Errorf("no export data for %s", path)
		}
		return os.Open(f)
	}
}

// scan type-checks files of p and returns the code literals in them.
func scan(t *testing.T, fset *token.FileSet, exports map[string]string, p listed, files []string, named map[string]map[string]string) []string {
	var parsed []*ast.File
	for _, f := range files {
		af, err := parser.ParseFile(fset, filepath.Join(p.Dir, f), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		parsed = append(parsed, af)
	}
	info := &types.Info{Types: map[ast.Expr]types.TypeAndValue{}}
	var typeErrs []error
	conf := types.Config{Importer: importer.ForCompiler(fset, "gc", lookup(exports)), Error: func(err error) { typeErrs = append(typeErrs, err) }}
	conf.Check(p.ImportPath, fset, parsed, info)
	if len(typeErrs) > 0 {
		// An external test importing test-only names of its package does
		// not check against the package's export data; what did check is
		// still scanned.
		t.Logf("%s: %d type errors (first: %v)", p.ImportPath, len(typeErrs), typeErrs[0])
	}
	var out []string
	for e, tv := range info.Types {
		lit := e
		if u, ok := e.(*ast.UnaryExpr); ok && u.Op == token.SUB {
			lit = u.X
		}
		if _, ok := lit.(*ast.BasicLit); !ok || tv.Value == nil {
			continue
		}
		nt, ok := tv.Type.(*types.Named)
		if !ok || nt.Obj().Pkg() == nil || nt.Obj().Pkg().Path() != module+"/imeapi" {
			continue
		}
		if name, ok := named[nt.Obj().Name()][tv.Value.ExactString()]; ok {
			pos := fset.Position(e.Pos())
			rel, _ := filepath.Rel(repoRoot(t), pos.Filename)
			out = append(out, fmt.Sprintf("%s:%d:%d: literal %s used as imeapi.%s: write imeapi.%s", rel, pos.Line, pos.Column, tv.Value.ExactString(), nt.Obj().Name(), name))
		}
	}
	slices.Sort(out)
	return out
}
