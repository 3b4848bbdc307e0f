package testdeps

import (
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
//   - the run helpers of the test packages (run, sh, mustRun, runQuiet,
//     tryRun, runErr): their first non-empty string literal argument,
//     unless it is a flag or follows a call (then the program is a
//     variable or computed);
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
	checked := 0
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
		self := filepath.Dir(rel) == filepath.Join("internal", "testdeps")
		s := scanner{t: t, l: l, root: root, dir: filepath.Dir(p), fset: fset}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			if !self {
				s.call(call)
			}
			return true
		})
		checked++
	}
	if checked < 20 {
		t.Fatalf("scanned only %d test files under %s", checked, root)
	}
}

type scanner struct {
	t    *testing.T
	l    *List
	root string
	dir  string // the scanned file's folder
	fset *token.FileSet
}

// runHelpers are the test packages' helpers whose first non-empty string
// literal argument is the program they run.
var runHelpers = map[string]bool{"run": true, "sh": true, "mustRun": true, "runQuiet": true, "tryRun": true, "runErr": true}

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
	case pkg == "" && runHelpers[fn]:
		// A first literal that is a flag follows a program held in a
		// variable, run(t, readelf, "-V", path); one after a call follows
		// a computed program, run("", nil, testdeps.Script(...), "amd64").
		for i, a := range call.Args {
			if _, ok := a.(*ast.CallExpr); ok {
				break
			}
			if v, ok := s.str(a); ok && v != "" {
				if !strings.HasPrefix(v, "-") {
					s.program(call, call.Args, i)
				}
				break
			}
		}
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
	s.t.Helper()
	pos := s.fset.Position(n.Pos())
	rel, _ := filepath.Rel(s.root, pos.Filename)
	s.t.Errorf("%s:%d: "+format, append([]any{rel, pos.Line}, args...)...)
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
