package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"relpack/pkg/config"
	"relpack/pkg/merge"
	"relpack/pkg/release"
	"relpack/pkg/repo"
)

// architectureDoc is the page TestArchitectureDocIsTrue holds to the code.
const architectureDoc = "../../docs/architecture.md"

// TestArchitectureDocIsTrue keeps docs/architecture.md true: each command's
// stage list is its Stages(), in order, and every package imports only what
// the page's table allows (test-only helpers only from _test.go files).
func TestArchitectureDocIsTrue(t *testing.T) {
	doc, err := os.ReadFile(architectureDoc)
	if err != nil {
		t.Fatal(err)
	}
	for cmd, stages := range map[string][]string{
		"build": release.Stages(), "merge": merge.Stages(), "repo": repo.Stages(),
		"config": config.Sections(),
	} {
		if got, want := docStages(t, string(doc), cmd), stages; !slices.Equal(got, want) {
			t.Errorf("docs/architecture.md lists the stages of relpack %s as\n  %q\nthe code runs\n  %q\n(write the code's list into the page)", cmd, got, want)
		}
	}
	allowed := docImports(t, string(doc))
	testOnly := regexp.MustCompile("`((?:internal|pkg)/[a-z/]+)`").FindAllStringSubmatch(
		between(t, string(doc), "Test-only helpers", "only."), -1)
	helpers := map[string]bool{}
	for _, m := range testOnly {
		helpers[m[1]] = true
	}
	for pkg, imports := range productImports(t) {
		if helpers[pkg] {
			continue // a test helper may import what its tests need
		}
		may, listed := allowed[pkg]
		if !listed {
			t.Errorf("%s is not in docs/architecture.md's package table: add its row (its one job, what it may import)", pkg)
			continue
		}
		for _, imp := range imports {
			switch {
			case helpers[imp]:
				t.Errorf("%s imports the test-only helper %s from product code", pkg, imp)
			case pkg == "cmd/relpack" && strings.HasPrefix(imp, "pkg/"):
			case !may[imp]:
				t.Errorf("%s imports %s, which docs/architecture.md does not allow it: change the import, or the page (and say why)", pkg, imp)
			}
		}
	}
}

// docStages reads the numbered list under <!-- stages:CMD -->: each item
// starts with the stage's name in bold.
func docStages(t *testing.T, doc, cmd string) []string {
	t.Helper()
	block := between(t, doc, "<!-- stages:"+cmd+" -->", "<!-- /stages -->")
	var names []string
	for _, m := range regexp.MustCompile(`(?m)(?:^|\s)\d+\. \*\*([^*]+)\*\*`).FindAllStringSubmatch(block, -1) {
		names = append(names, m[1])
	}
	return names
}

// docImports reads the table between <!-- imports --> and <!-- /imports -->:
// package -> the set it may import.
func docImports(t *testing.T, doc string) map[string]map[string]bool {
	t.Helper()
	rows := map[string]map[string]bool{}
	code := regexp.MustCompile("`([a-z][a-z/]*)`")
	for _, line := range strings.Split(between(t, doc, "<!-- imports -->", "<!-- /imports -->"), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) != 5 || !strings.HasPrefix(strings.TrimSpace(cells[1]), "`") {
			continue
		}
		pkg := strings.Trim(strings.TrimSpace(cells[1]), "`")
		rows[pkg] = map[string]bool{}
		for _, m := range code.FindAllStringSubmatch(cells[3], -1) {
			rows[pkg][m[1]] = true
		}
	}
	if len(rows) < 10 {
		t.Fatalf("docs/architecture.md's import table has %d rows; is it still between <!-- imports --> and <!-- /imports -->?", len(rows))
	}
	return rows
}

func between(t *testing.T, s, from, to string) string {
	t.Helper()
	i := strings.Index(s, from)
	if i < 0 {
		t.Fatalf("docs/architecture.md lacks %q", from)
	}
	j := strings.Index(s[i+len(from):], to)
	if j < 0 {
		t.Fatalf("docs/architecture.md lacks %q after %q", to, from)
	}
	return s[i+len(from) : i+len(from)+j]
}

// productImports maps every package of the module (as a path from the
// module root) to the module packages its non-test files import.
func productImports(t *testing.T) map[string][]string {
	t.Helper()
	root := "../.."
	pkgs := map[string][]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "bench") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), p, nil, parser.ImportsOnly)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		rel, _ := filepath.Rel(root, filepath.Dir(p))
		if _, ok := pkgs[rel]; !ok {
			pkgs[rel] = nil
		}
		for _, imp := range f.Imports {
			path := strings.Trim(imp.Path.Value, `"`)
			if mod, ok := strings.CutPrefix(path, "relpack/"); ok && !slices.Contains(pkgs[rel], mod) {
				pkgs[rel] = append(pkgs[rel], mod)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) < 20 {
		t.Fatalf("found %d packages under the module root; is the walk from the right folder?", len(pkgs))
	}
	return pkgs
}

// maxFuncLines is the longest a function in pkg/ may be without a reason
// written above it (docs/architecture.md, "Where a change goes").
const maxFuncLines = 80

// TestNoLongFunctionsWithoutReason: every function in pkg/ longer than
// maxFuncLines (from func to its closing brace, tests excepted) says why
// in its doc comment, in a sentence starting "It is long because".
func TestNoLongFunctionsWithoutReason(t *testing.T) {
	err := filepath.WalkDir("../../pkg", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return err
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, p, nil, parser.ParseComments)
		if err != nil {
			return err
		}
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok {
				continue
			}
			n := fset.Position(fn.End()).Line - fset.Position(fn.Pos()).Line + 1
			if n > maxFuncLines && !strings.Contains(fn.Doc.Text(), "It is long because") {
				t.Errorf("%s: %s is %d lines, over %d: split it into functions that say their job, or say why not above it (\"It is long because ...\")",
					fset.Position(fn.Pos()), fn.Name.Name, n, maxFuncLines)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
