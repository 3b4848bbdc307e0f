package testdeps

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestEveryUsedToolIsListed reads every test file of the repository (and
// every test-support package: a package whose name ends in "test", such as
// internal/clitest and pkg/sign/signtest) and fails for each program,
// absolute path or repository script a test names as a string literal that
// scripts/test-deps.txt does not list. It looks at:
//
//   - exec.Command(NAME, ...), exec.CommandContext(ctx, NAME, ...) and
//     exec.LookPath(NAME);
//   - the run helpers of the test packages: any function of the package
//     declared as f(..., name string, args ...string) (or prog, cmd, tool,
//     bin, program for name), such as run, sh, mustRun, runQuiet, tryRun
//     and runErr: their argument in name's place;
//   - `sh -c SCRIPT` through any of those, when SCRIPT is a literal: the
//     first word of each simple command of SCRIPT (split at |, &&, ||, ;,
//     newlines and $( ), after VAR=value words and exec/command);
//   - os.Stat, os.Lstat, os.Open and os.ReadFile of an absolute path
//     (not under /proc, /sys or /dev);
//   - testdeps.Tool, Tools, LookPath, File and Script themselves, so that
//     a test that does not run on this machine is checked too.
//
// NAME may be a literal or a constant declared with one. A relative path
// ending in .sh is a repository script (resolved from the test's folder);
// other relative paths are the tests' own files and are not checked.
//
// It is a best-effort static check; the runtime check of testdeps (asking
// for an unlisted name fails) covers what goes through testdeps. It does
// not see: names computed at run time (variables, fmt.Sprintf, loops over a
// slice of names, argv slices), programs that product code under test runs
// (pkg/smoke runs qemu, unshare, mount, chroot), programs that the tools
// themselves run (lintian runs dpkg and others; their packages depend on
// them), commands inside the repository's shell scripts (listed by hand on
// their `script` lines), and files read through other calls. Hence the
// second rule: test files may not call exec.LookPath themselves, since that
// is how a test used to find (or quietly skip) an unlisted tool.
func TestEveryUsedToolIsListed(t *testing.T) {
	l, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		name := d.Name()
		if d.IsDir() {
			if p != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(name, ".go") {
			files = append(files, p)
		}
		return nil
	})
	type parsed struct {
		rel  string
		f    *ast.File
		fset *token.FileSet
	}
	var scanned []parsed
	runners := map[string]map[string]int{} // folder -> run helper -> index of its program argument
	for _, p := range files {
		rel, _ := filepath.Rel(root, p)
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, p, nil, 0) // with object resolution: constants
		if err != nil {
			t.Errorf("%s: %v", rel, err)
			continue
		}
		if !strings.HasSuffix(p, "_test.go") && !strings.HasSuffix(f.Name.Name, "test") {
			continue
		}
		scanned = append(scanned, parsed{rel, f, fset})
		dir := filepath.Dir(p)
		if runners[dir] == nil {
			runners[dir] = map[string]int{}
		}
		for name, i := range runHelpers(f) {
			runners[dir][name] = i
		}
	}
	for _, ps := range scanned {
		if filepath.Dir(ps.rel) == filepath.Join("internal", "testdeps") {
			continue // its tests ask for unlisted names on purpose
		}
		dir := filepath.Join(root, filepath.Dir(ps.rel))
		s := scanner{report: t.Errorf, l: l, root: root, dir: dir, fset: ps.fset, runners: runners[dir]}
		ast.Inspect(ps.f, func(n ast.Node) bool {
			if call, ok := n.(*ast.CallExpr); ok {
				s.call(call)
			}
			return true
		})
	}
	checked := len(scanned)
	if checked < 20 {
		t.Fatalf("scanned only %d test files under %s", checked, root)
	}
}

type scanner struct {
	report  func(format string, args ...any)
	l       *List
	root    string
	dir     string // the scanned file's folder
	fset    *token.FileSet
	runners map[string]int // the folder's run helpers
}

// runHelpers finds a file's run helpers: functions (not methods) whose
// last parameters are `NAME string, args ...string` with NAME one of
// name, prog, program, cmd, tool, bin. It returns each one's index of NAME.
func runHelpers(f *ast.File) map[string]int {
	out := map[string]int{}
	progNames := map[string]bool{"name": true, "prog": true, "program": true, "cmd": true, "tool": true, "bin": true}
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Recv != nil || fd.Type.Params == nil {
			continue
		}
		var names []string
		var types []ast.Expr
		for _, fl := range fd.Type.Params.List {
			if len(fl.Names) == 0 {
				names, types = append(names, ""), append(types, fl.Type)
			}
			for _, n := range fl.Names {
				names, types = append(names, n.Name), append(types, fl.Type)
			}
		}
		k := len(names)
		if k < 2 || !isIdent(types[k-2], "string") || !progNames[names[k-2]] {
			continue
		}
		if el, ok := types[k-1].(*ast.Ellipsis); ok && isIdent(el.Elt, "string") {
			out[fd.Name.Name] = k - 2
		}
	}
	return out
}

func hasKey(m map[string]int, k string) bool {
	_, ok := m[k]
	return ok
}

func isIdent(e ast.Expr, name string) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == name
}

func (s *scanner) call(call *ast.CallExpr) {
	pkg, fn := callee(call)
	switch {
	case pkg == "exec" && fn == "Command":
		s.program(call, call.Args, 0)
	case pkg == "exec" && fn == "CommandContext":
		s.program(call, call.Args, 1)
	case pkg == "exec" && fn == "LookPath":
		s.errorf(call, "exec.LookPath in a test: use testdeps.Tool (or testdeps.LookPath for an optional tool), so that scripts/test-deps.txt must list it")
		s.program(call, call.Args, 0)
	case pkg == "" && hasKey(s.runners, fn):
		s.program(call, call.Args, s.runners[fn])
	case pkg == "os" && (fn == "Stat" || fn == "Lstat" || fn == "Open" || fn == "ReadFile"):
		if v, ok := s.arg(call.Args, 0); ok && filepath.IsAbs(v) && !kernelFile(v) {
			s.check(call, KindFile, v)
		}
	case pkg == "testdeps" && (fn == "Tool" || fn == "LookPath"):
		if v, ok := s.arg(call.Args, 1); ok {
			s.check(call, KindCommand, v)
		}
	case pkg == "testdeps" && fn == "Tools":
		for i := 1; i < len(call.Args); i++ {
			if v, ok := s.arg(call.Args, i); ok {
				s.check(call, KindCommand, v)
			}
		}
	case pkg == "testdeps" && fn == "File":
		if v, ok := s.arg(call.Args, 1); ok {
			s.check(call, KindFile, v)
		}
	case pkg == "testdeps" && fn == "Script":
		if v, ok := s.arg(call.Args, 1); ok {
			s.check(call, KindScript, v)
		}
	}
}

// kernelFile: /proc, /sys and /dev come with the kernel, not a package.
func kernelFile(p string) bool {
	for _, d := range []string{"/proc/", "/sys/", "/dev/"} {
		if strings.HasPrefix(p, d) {
			return true
		}
	}
	return false
}

// program checks args[i], the program a call runs, and a literal script
// after `sh -c`.
func (s *scanner) program(call *ast.CallExpr, args []ast.Expr, i int) {
	name, ok := s.arg(args, i)
	if !ok {
		return
	}
	s.name(call, name)
	if c, ok := s.arg(args, i+1); ok && c == "-c" && (name == "sh" || name == "dash" || name == "bash") {
		if script, ok := s.arg(args, i+2); ok {
			for _, w := range shellCommands(script) {
				s.name(call, w)
			}
		}
	}
}

// name checks a program name or path as written in a test.
func (s *scanner) name(call *ast.CallExpr, v string) {
	switch {
	case v == "" || strings.ContainsAny(v, " $%"):
	case filepath.IsAbs(v):
		s.check(call, KindFile, v)
	case strings.Contains(v, "/"):
		if strings.HasSuffix(v, ".sh") {
			rel, err := filepath.Rel(s.root, filepath.Join(s.dir, v))
			if err == nil {
				s.check(call, KindScript, filepath.ToSlash(rel))
			}
		}
	default:
		s.check(call, KindCommand, v)
	}
}

func (s *scanner) check(call *ast.CallExpr, kind, name string) {
	if s.l.Lookup(kind, name) == nil {
		s.errorf(call, "%s", errUnlisted(kind, name))
	}
}

func (s *scanner) errorf(n ast.Node, format string, args ...any) {
	pos := s.fset.Position(n.Pos())
	rel, _ := filepath.Rel(s.root, pos.Filename)
	s.report("%s:%d: "+format, append([]any{rel, pos.Line}, args...)...)
}

// arg returns args[i] when it is a string literal or a constant of one.
func (s *scanner) arg(args []ast.Expr, i int) (string, bool) {
	if i >= len(args) {
		return "", false
	}
	return s.str(args[i])
}

func (s *scanner) str(e ast.Expr) (string, bool) {
	switch e := e.(type) {
	case *ast.BasicLit:
		if e.Kind == token.STRING {
			v, err := strconv.Unquote(e.Value)
			return v, err == nil
		}
	case *ast.Ident:
		if e.Obj != nil && e.Obj.Kind == ast.Con {
			if vs, ok := e.Obj.Decl.(*ast.ValueSpec); ok {
				for i, n := range vs.Names {
					if n.Name == e.Name && i < len(vs.Values) {
						return s.str(vs.Values[i])
					}
				}
			}
		}
	}
	return "", false
}

// callee returns (package, function) of pkg.Fn(...) or ("", fn) of fn(...).
func callee(call *ast.CallExpr) (string, string) {
	switch f := call.Fun.(type) {
	case *ast.Ident:
		return "", f.Name
	case *ast.SelectorExpr:
		if x, ok := f.X.(*ast.Ident); ok {
			return x.Name, f.Sel.Name
		}
	}
	return "", ""
}

var (
	shellSplit = regexp.MustCompile(`\|\||&&|[|;\n]|\$\(|[()` + "`" + `]`)
	assignment = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)
	// shellBuiltins are shell words that are not programs to install.
	shellBuiltins = map[string]bool{"cd": true, "umask": true, "echo": true, "printf": true, "test": true, "[": true,
		"set": true, "export": true, "true": true, "false": true, "exit": true, "read": true, "shift": true,
		"trap": true, "wait": true, "eval": true, ":": true, ".": true, "!": true, "if": true, "then": true,
		"else": true, "elif": true, "fi": true, "for": true, "do": true, "done": true, "while": true, "case": true, "esac": true}
)

// shellCommands returns the programs a literal sh -c script starts: the
// first word of each simple command (best effort: no quoting rules beyond
// plain quotes, no functions, no here-documents).
func shellCommands(script string) []string {
	var out []string
	for _, part := range shellSplit.Split(script, -1) {
		words := strings.Fields(part)
		for len(words) > 0 && (assignment.MatchString(words[0]) || words[0] == "exec" || words[0] == "command") {
			words = words[1:]
		}
		if len(words) == 0 {
			continue
		}
		w := strings.Trim(words[0], `"'`)
		if w == "" || shellBuiltins[w] || strings.HasPrefix(w, "$") || strings.HasPrefix(w, "-") {
			continue
		}
		out = append(out, w)
	}
	return out
}

func TestShellCommands(t *testing.T) {
	got := strings.Join(shellCommands(`cd "$1" && LC_ALL=C sha256sum a | tar -xOf - ./x | gzip -dc; exec cpio -t; x=$(rpm2cpio "$1")`), " ")
	if want := "sha256sum tar gzip cpio rpm2cpio"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// The scanner on a made-up test file: what it must and must not report.
func TestScannerFinds(t *testing.T) {
	const src = `package x

import "os/exec"

const tool = "relpack-const-tool"

func run(t *testing.T, dir string, name string, args ...string) string { return "" }

func TestX(t *testing.T) {
	run(t, "", "relpack-run-tool", "a")
	run(t, "", bin, "build")
	run(t, "", "sh", "-c", "cd \"$1\" && relpack-piped-tool -t | gzip -dc", "sh")
	exec.Command("/relpack/abs/tool")
	exec.Command(tool)
	exec.LookPath("gcc")
	exec.Command("../../scripts/relpack-unlisted.sh")
	exec.Command("../../scripts/bullseye-root.sh", "amd64")
}
`
	l, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	root, _ := ModuleRoot()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, filepath.Join(root, "pkg", "x", "x_test.go"), src, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	s := scanner{report: func(format string, args ...any) { got = append(got, fmt.Sprintf(format, args...)) },
		l: l, root: root, dir: filepath.Join(root, "pkg", "x"), fset: fset, runners: runHelpers(f)}
	ast.Inspect(f, func(n ast.Node) bool {
		if call, ok := n.(*ast.CallExpr); ok {
			s.call(call)
		}
		return true
	})
	all := strings.Join(got, "\n")
	for _, want := range []string{"command relpack-run-tool", "command relpack-piped-tool", "file /relpack/abs/tool",
		"command relpack-const-tool", "exec.LookPath in a test", "scripts/relpack-unlisted.sh"} {
		if !strings.Contains(all, want) {
			t.Errorf("not reported: %s", want)
		}
	}
	if len(got) != 6 {
		t.Errorf("want 6 reports, got %d:\n%s", len(got), all)
	}
}
