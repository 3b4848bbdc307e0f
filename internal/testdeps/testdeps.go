// Package testdeps is how relpack's tests ask for what they use from the
// machine: programs on PATH, files and folders at absolute paths, and the
// repository scripts that build test roots. Everything it can hand out is
// listed in scripts/test-deps.txt, the file scripts/install-test-deps.sh
// (`make test-deps`, part of `make test`) installs from. So:
//
//   - a test that needs something missing fails with the Debian package to
//     install, never skips and never dies later with "file not found";
//   - a test that asks for something the list does not name fails too, even
//     on a machine that has it: a new test cannot depend on a tool the
//     install script would not install on a fresh machine.
//
// The tests of this package also scan every test file for commands run
// through exec.Command and friends that the list does not name.
package testdeps

import (
	"bufio"
	"debug/buildinfo"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// ListPath is the list's path relative to the module root.
const ListPath = "scripts/test-deps.txt"

// hint is what every "missing" message ends with.
const hint = "(scripts/install-test-deps.sh / make test-deps)"

// Kinds of entries.
const (
	KindCommand = "command" // a program looked up on PATH
	KindFile    = "file"    // a file or folder at an absolute path
	KindScript  = "script"  // a repository script and the entries it needs
	KindNpm     = "npm"     // test data from an npm package, fetched into the cache
)

// GoPrefix marks a command that is no Debian package but a Go program the
// install script builds with `go install`, pinned: its package field is
// "go:PACKAGE@VERSION" (github.com/anchore/syft/cmd/syft@v1.57.2). The
// installed binary's own build info must name that package and version,
// so an older or newer copy on PATH is refused, not trusted.
const GoPrefix = "go:"

// Entry is one line of the list.
type Entry struct {
	Kind    string
	Name    string   // command name, absolute path, or script path relative to the module root
	Package string   // Debian package ("-": not a Debian package, see Note; "go:PKG@VERSION": GoPrefix); empty for scripts; an npm entry's tarball digest (sha512-BASE64)
	Note    string   // free text after the package
	Needs   []string // scripts only: names of command and file entries
	Line    int
}

// List is the parsed scripts/test-deps.txt.
type List struct {
	Path    string // absolute path of the file
	Entries []Entry
	byKey   map[string]int // kind + " " + name -> index in Entries
}

// Lookup returns the entry of that kind and name, or nil.
func (l *List) Lookup(kind, name string) *Entry {
	if i, ok := l.byKey[kind+" "+name]; ok {
		return &l.Entries[i]
	}
	return nil
}

// Parse reads a list; path is used in error messages and kept in List.Path.
func Parse(path string, data string) (*List, error) {
	l := &List{Path: path, byKey: map[string]int{}}
	sc := bufio.NewScanner(strings.NewReader(data))
	n := 0
	for sc.Scan() {
		n++
		f := strings.Fields(sc.Text())
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		e := Entry{Kind: f[0], Line: n}
		switch e.Kind {
		case KindCommand, KindFile:
			if len(f) < 3 {
				return nil, fmt.Errorf("%s:%d: want %q", path, n, e.Kind+" NAME PACKAGE [NOTE]")
			}
			e.Name, e.Package, e.Note = f[1], f[2], strings.Join(f[3:], " ")
			if e.Kind == KindCommand && strings.Contains(e.Name, "/") {
				return nil, fmt.Errorf("%s:%d: command %q: a command is a name on PATH; list a path as a file", path, n, e.Name)
			}
			if e.Kind == KindFile && !filepath.IsAbs(e.Name) {
				return nil, fmt.Errorf("%s:%d: file %q is not an absolute path", path, n, e.Name)
			}
			if strings.HasPrefix(e.Package, GoPrefix) {
				if err := checkGoPackage(e); err != nil {
					return nil, fmt.Errorf("%s:%d: %w", path, n, err)
				}
			}
		case KindNpm:
			if len(f) < 3 {
				return nil, fmt.Errorf("%s:%d: want %q", path, n, "npm NAME@VERSION sha512-DIGEST [NOTE]")
			}
			e.Name, e.Package, e.Note = f[1], f[2], strings.Join(f[3:], " ")
			if err := checkNpm(e); err != nil {
				return nil, fmt.Errorf("%s:%d: %w", path, n, err)
			}
		case KindScript:
			if len(f) < 2 {
				return nil, fmt.Errorf("%s:%d: want %q", path, n, "script PATH NAME...")
			}
			e.Name, e.Needs = f[1], f[2:]
			if filepath.IsAbs(e.Name) || strings.HasPrefix(filepath.Clean(e.Name), "..") {
				return nil, fmt.Errorf("%s:%d: script %q must be a path inside the repository", path, n, e.Name)
			}
		default:
			return nil, fmt.Errorf("%s:%d: unknown kind %q (want command, file, npm or script)", path, n, e.Kind)
		}
		key := e.Kind + " " + e.Name
		if i, ok := l.byKey[key]; ok {
			return nil, fmt.Errorf("%s:%d: %s is listed twice (first on line %d)", path, n, key, l.Entries[i].Line)
		}
		l.byKey[key] = len(l.Entries)
		l.Entries = append(l.Entries, e)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for _, e := range l.Entries {
		for _, need := range e.Needs {
			if l.need(need) == nil {
				return nil, fmt.Errorf("%s:%d: script %s needs %q, which no command or file line lists", path, e.Line, e.Name, need)
			}
		}
	}
	return l, nil
}

// GoInstall returns the package and version of a GoPrefix entry; ok is
// false for any other.
func (e *Entry) GoInstall() (pkg, version string, ok bool) {
	spec, ok := strings.CutPrefix(e.Package, GoPrefix)
	if !ok {
		return "", "", false
	}
	pkg, version, _ = strings.Cut(spec, "@")
	return pkg, version, true
}

// checkGoPackage: a command entry, pinned to a release version ("latest"
// or a branch would install whatever is newest on the day).
func checkGoPackage(e Entry) error {
	pkg, version, _ := e.GoInstall()
	if e.Kind != KindCommand {
		return fmt.Errorf("%s %s: only a command can be %sPACKAGE@VERSION", e.Kind, e.Name, GoPrefix)
	}
	if pkg == "" || path.Base(pkg) != e.Name {
		return fmt.Errorf("command %s: %q must name a Go package whose last element is %s", e.Name, e.Package, e.Name)
	}
	if !pinnedVersion.MatchString(version) {
		return fmt.Errorf("command %s: %q is not pinned to a release version (vX.Y.Z)", e.Name, e.Package)
	}
	return nil
}

var pinnedVersion = regexp.MustCompile(`^v[0-9]+\.[0-9]+\.[0-9]+$`)

// An npm entry is test data, not a program: the install script fetches
// the package's tarball with `npm pack NAME@VERSION` (the npm command
// must be listed too), checks it against the pinned sha512 digest, and
// unpacks it into NpmDir; tests read the files with Npm. Nothing of it
// is vendored into the repository.
var (
	npmName   = regexp.MustCompile(`^(@[a-z0-9][a-z0-9._-]*/)?[a-z0-9][a-z0-9._-]*$`)
	npmPinned = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+$`)
	npmDigest = regexp.MustCompile(`^sha512-[A-Za-z0-9+/]{86}==$`)
)

// NpmPackage splits an npm entry's name into the package and its version.
func (e *Entry) NpmPackage() (pkg, version string) {
	i := strings.LastIndexByte(e.Name, '@')
	if i <= 0 {
		return e.Name, ""
	}
	return e.Name[:i], e.Name[i+1:]
}

// checkNpm: a package name, pinned to one release, and the digest of
// its tarball.
func checkNpm(e Entry) error {
	pkg, version := e.NpmPackage()
	if !npmName.MatchString(pkg) || !npmPinned.MatchString(version) {
		return fmt.Errorf("npm %s: want NAME@X.Y.Z, an npm package pinned to a release", e.Name)
	}
	if !npmDigest.MatchString(e.Package) {
		return fmt.Errorf("npm %s: %q is not the tarball's digest as npm writes it (sha512-BASE64; `npm view %s dist.integrity`)", e.Name, e.Package, e.Name)
	}
	return nil
}

// NpmDir is the folder an npm entry is unpacked into (the tarball's
// "package/" folder is inside it): CacheDir()/npm/SCOPE-NAME-VERSION,
// the name install-test-deps.sh gives it.
func NpmDir(e *Entry) string {
	pkg, version := e.NpmPackage()
	folder := strings.ReplaceAll(strings.TrimPrefix(pkg, "@"), "/", "-") + "-" + version
	return filepath.Join(CacheDir(), "npm", folder)
}

// lookNpm returns the unpacked package folder of a listed npm entry.
func (l *List) lookNpm(name string) (string, error) {
	e := l.Lookup(KindNpm, name)
	if e == nil {
		return "", fmt.Errorf("testdeps: the test uses the npm package %s, which %s does not list: add a line `npm %s sha512-DIGEST NOTE` there (and `command npm npm`) so that scripts/install-test-deps.sh fetches it on a fresh machine", name, ListPath, name)
	}
	dir := filepath.Join(NpmDir(e), "package")
	b, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil {
		return "", fmt.Errorf("the npm package %s is missing from %s: run scripts/install-test-deps.sh (make test-deps), which fetches it with `npm pack %s`", name, NpmDir(e), name)
	}
	pkg, version := e.NpmPackage()
	var meta struct{ Name, Version string }
	if err := json.Unmarshal(b, &meta); err != nil || meta.Name != pkg || meta.Version != version {
		return "", fmt.Errorf("%s is not the npm package %s (name %q, version %q): remove %s and run scripts/install-test-deps.sh", dir, name, meta.Name, meta.Version, NpmDir(e))
	}
	return dir, nil
}

// need resolves a script's need: an absolute path is a file entry, anything
// else a command entry.
func (l *List) need(name string) *Entry {
	if filepath.IsAbs(name) {
		return l.Lookup(KindFile, name)
	}
	return l.Lookup(KindCommand, name)
}

var (
	rootOnce sync.Once
	root     string
	rootErr  error
	listOnce sync.Once
	list     *List
	listErr  error
)

// ModuleRoot returns the folder of the go.mod above the working directory
// (go test runs each package's tests in the package's folder).
func ModuleRoot() (string, error) {
	rootOnce.Do(func() {
		dir, err := os.Getwd()
		if err != nil {
			rootErr = err
			return
		}
		for d := dir; ; d = filepath.Dir(d) {
			if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
				root = d
				return
			}
			if filepath.Dir(d) == d {
				rootErr = fmt.Errorf("no go.mod above %s", dir)
				return
			}
		}
	})
	return root, rootErr
}

// Load reads scripts/test-deps.txt from the module root (once).
func Load() (*List, error) {
	listOnce.Do(func() {
		r, err := ModuleRoot()
		if err != nil {
			listErr = err
			return
		}
		p := filepath.Join(r, ListPath)
		b, err := os.ReadFile(p)
		if err != nil {
			listErr = err
			return
		}
		list, listErr = Parse(p, string(b))
	})
	return list, listErr
}

func mustLoad(t testing.TB) *List {
	t.Helper()
	l, err := Load()
	if err != nil {
		t.Fatalf("testdeps: %v", err)
	}
	return l
}

// errUnlisted says what to add to the list.
func errUnlisted(kind, name string) error {
	return fmt.Errorf("testdeps: the test uses %s %s, which %s does not list: add a line `%s %s PACKAGE` there so that scripts/install-test-deps.sh installs it on a fresh machine",
		kind, name, ListPath, kind, name)
}

// errMissing names the package to install.
func errMissing(e *Entry) error {
	if pkg, version, ok := e.GoInstall(); ok {
		return fmt.Errorf("%s is missing: install it with `go install %s@%s` %s", e.Name, pkg, version, hint)
	}
	if e.Package == "-" {
		return fmt.Errorf("%s is missing: it is not a Debian package: %s", e.Name, e.Note)
	}
	return fmt.Errorf("%s is missing: install package %s %s", e.Name, e.Package, hint)
}

// lookCommand returns the command's path, or why it cannot.
func (l *List) lookCommand(name string) (string, error) {
	e := l.Lookup(KindCommand, name)
	if e == nil {
		return "", errUnlisted(KindCommand, name)
	}
	if _, _, ok := e.GoInstall(); ok {
		return lookGoTool(e)
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", errMissing(e)
	}
	return p, nil
}

// lookGoTool finds a GoPrefix command on PATH, else where `go install`
// puts it ($GOBIN, else the first $GOPATH's bin, else ~/go/bin), and
// checks that its build info is the pinned package and version.
func lookGoTool(e *Entry) (string, error) {
	pkg, version, _ := e.GoInstall()
	p, err := exec.LookPath(e.Name)
	if err != nil {
		p = filepath.Join(GoBin(), e.Name)
		if _, err := os.Stat(p); err != nil {
			return "", errMissing(e)
		}
	}
	info, err := buildinfo.ReadFile(p)
	if err != nil {
		return "", fmt.Errorf("%s: %v: install it with `go install %s@%s` %s", p, err, pkg, version, hint)
	}
	if info.Path != pkg || info.Main.Version != version {
		return "", fmt.Errorf("%s is %s@%s, not the pinned %s@%s: install it with `go install %s@%s` %s",
			p, info.Path, info.Main.Version, pkg, version, pkg, version, hint)
	}
	return p, nil
}

// GoBin is where `go install` writes programs: $GOBIN, else the first
// $GOPATH folder's bin, else ~/go/bin (the go command's defaults).
func GoBin() string {
	if b := os.Getenv("GOBIN"); b != "" {
		return b
	}
	if gp := filepath.SplitList(os.Getenv("GOPATH")); len(gp) > 0 && gp[0] != "" {
		return filepath.Join(gp[0], "bin")
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, "go", "bin")
}

// lookFile checks that the file or folder exists.
func (l *List) lookFile(path string) error {
	e := l.Lookup(KindFile, path)
	if e == nil {
		return errUnlisted(KindFile, path)
	}
	if _, err := os.Stat(path); err != nil {
		return errMissing(e)
	}
	return nil
}

// lookScript checks a script's needs and returns its absolute path.
func (l *List) lookScript(root, rel string) (string, error) {
	rel = filepath.ToSlash(filepath.Clean(rel))
	e := l.Lookup(KindScript, rel)
	if e == nil {
		return "", fmt.Errorf("testdeps: the test runs %s, which %s does not list: add a line `script %s NAME...` naming what it needs", rel, ListPath, rel)
	}
	var errs []error
	for _, n := range e.Needs {
		var err error
		if filepath.IsAbs(n) {
			err = l.lookFile(n)
		} else {
			_, err = l.lookCommand(n)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s needs %w", rel, err))
		}
	}
	p := filepath.Join(root, rel)
	if _, err := os.Stat(p); err != nil {
		errs = append(errs, err)
	}
	return p, errors.Join(errs...)
}

// Tool returns the path of a listed command, failing the test with the
// package to install when it is missing, or when the list does not name it.
func Tool(t testing.TB, name string) string {
	t.Helper()
	p, err := mustLoad(t).lookCommand(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Tools is Tool for several commands; it reports every missing one.
func Tools(t testing.TB, names ...string) {
	t.Helper()
	l := mustLoad(t)
	var errs []error
	for _, n := range names {
		if _, err := l.lookCommand(n); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
}

// LookPath is exec.LookPath for a test that can do without the command
// (it fails the test only when the list does not name it): the command
// must still be listed, so a fresh machine has it like any other.
func LookPath(t testing.TB, name string) (string, error) {
	t.Helper()
	l := mustLoad(t)
	if l.Lookup(KindCommand, name) == nil {
		t.Fatal(errUnlisted(KindCommand, name))
	}
	return exec.LookPath(name)
}

// File checks that a listed file or folder exists and returns its path,
// failing the test with the package to install when it does not, or when
// the list does not name it.
func File(t testing.TB, path string) string {
	t.Helper()
	if err := mustLoad(t).lookFile(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// Script returns the absolute path of a repository script the list names
// (rel is relative to the module root, e.g. "scripts/bullseye-root.sh"),
// after checking every command and file it needs.
func Script(t testing.TB, rel string) string {
	t.Helper()
	l := mustLoad(t)
	r, err := ModuleRoot()
	if err != nil {
		t.Fatalf("testdeps: %v", err)
	}
	p, err := l.lookScript(r, rel)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Npm returns the folder of a listed npm package's files (the tarball's
// "package/" folder, as install-test-deps.sh unpacked it), failing the
// test with what to run when it is missing, or when the list does not
// name it. name is NAME@VERSION as the list writes it.
func Npm(t testing.TB, name string) string {
	t.Helper()
	dir, err := mustLoad(t).lookNpm(name)
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// CacheDir is where the tests' cached roots and sysroots live, as the
// repository scripts that make them use it: $RELPACK_CACHE, else
// $HOME/.cache/relpack.
func CacheDir() string {
	if c := os.Getenv("RELPACK_CACHE"); c != "" {
		return c
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "relpack")
}
