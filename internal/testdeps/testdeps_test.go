package testdeps

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

func TestListLoads(t *testing.T) {
	l, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Entries) < 20 {
		t.Fatalf("%s has %d entries", l.Path, len(l.Entries))
	}
	debName := regexp.MustCompile(`^[a-z0-9][a-z0-9+.-]+$`)
	for _, e := range l.Entries {
		if e.Kind == KindScript || e.Kind == KindNpm {
			continue // an npm entry's package is its digest, checked by Parse (checkNpm)
		}
		if _, _, ok := e.GoInstall(); ok {
			continue // checked by Parse (checkGoPackage)
		}
		if e.Package != "-" && !debName.MatchString(e.Package) {
			t.Errorf("%s:%d: %q is not a Debian package name", l.Path, e.Line, e.Package)
		}
		if e.Package == "-" && e.Note == "" {
			t.Errorf("%s:%d: %s is not a Debian package: the note must say where it comes from", l.Path, e.Line, e.Name)
		}
	}
}

func TestParseRejects(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"command gcc\n", "want"},
		{"tool gcc gcc\n", "unknown kind"},
		{"command /usr/bin/gcc gcc\n", "list a path as a file"},
		{"file lib/x.so libx\n", "not an absolute path"},
		{"command gcc gcc\ncommand gcc gcc-12\n", "listed twice (first on line 1)"},
		{"script scripts/x.sh flock\n", `needs "flock"`},
		{"script /abs/x.sh\n", "inside the repository"},
		{"command syft go:github.com/anchore/syft/cmd/syft@latest\n", "not pinned to a release version"},
		{"command syft go:github.com/anchore/syft/cmd/syft\n", "not pinned to a release version"},
		{"command syft go:github.com/anchore/syft/cmd/grype@v1.0.0\n", "whose last element is syft"},
		{"file /x/syft go:github.com/anchore/syft/cmd/syft@v1.0.0\n", "only a command can be go:PACKAGE@VERSION"},
		{"npm @cyclonedx/cyclonedx-library@latest " + testDigest + "\n", "pinned to a release"},
		{"npm @cyclonedx/cyclonedx-library " + testDigest + "\n", "pinned to a release"},
		{"npm ../x@1.0.0 " + testDigest + "\n", "pinned to a release"},
		{"npm @cyclonedx/cyclonedx-library@10.3.0 npm\n", "not the tarball's digest"},
		{"npm @cyclonedx/cyclonedx-library@10.3.0\n", "want"},
	} {
		if _, err := Parse("list", c.in); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%q) = %v, want an error with %q", c.in, err, c.want)
		}
	}
	l, err := Parse("list", "# c\n\ncommand flock util-linux  a note\nfile /x/y pkg\nscript s.sh flock /x/y\n")
	if err != nil {
		t.Fatal(err)
	}
	if e := l.Lookup(KindCommand, "flock"); e == nil || e.Package != "util-linux" || e.Note != "a note" || e.Line != 3 {
		t.Errorf("flock: %+v", e)
	}
	if e := l.Lookup(KindScript, "s.sh"); e == nil || len(e.Needs) != 2 {
		t.Errorf("s.sh: %+v", e)
	}
	l, err = Parse("list", "npm @cyclonedx/cyclonedx-library@10.3.0 "+testDigest+" the schemas\n")
	if err != nil {
		t.Fatal(err)
	}
	e := l.Lookup(KindNpm, "@cyclonedx/cyclonedx-library@10.3.0")
	if pkg, v := e.NpmPackage(); pkg != "@cyclonedx/cyclonedx-library" || v != "10.3.0" || e.Note != "the schemas" {
		t.Errorf("npm entry: %+v", e)
	}
	t.Setenv("RELPACK_CACHE", "/c")
	if d := NpmDir(e); d != "/c/npm/cyclonedx-cyclonedx-library-10.3.0" {
		t.Errorf("NpmDir = %s", d)
	}
}

// testDigest has the form of an npm sha512 digest.
const testDigest = "sha512-RIT28sp1U0PCHaaeF3yNRwk6Jig/XJ8UsYAVOMYaHQ+0VVOvsjcp0PTWQFLUqJFF8XMud+Kdq6G+wtDAh+QJFA=="

// TestNpmMissing: a listed npm package that is not in the cache fails
// the test with the script to run; an unlisted one with the line to add.
func TestNpmMissing(t *testing.T) {
	t.Setenv("RELPACK_CACHE", t.TempDir())
	l, err := Parse("list", "npm @cyclonedx/cyclonedx-library@10.3.0 "+testDigest+"\n")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.lookNpm("@cyclonedx/cyclonedx-library@10.3.0"); err == nil || !strings.Contains(err.Error(), "run scripts/install-test-deps.sh") {
		t.Errorf("missing package: %v", err)
	}
	if _, err := l.lookNpm("left-pad@1.3.0"); err == nil || !strings.Contains(err.Error(), "does not list") {
		t.Errorf("unlisted package: %v", err)
	}
	// a folder holding another version is refused, not trusted
	e := l.Lookup(KindNpm, "@cyclonedx/cyclonedx-library@10.3.0")
	dir := filepath.Join(NpmDir(e), "package")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{"name":"@cyclonedx/cyclonedx-library","version":"10.2.0"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := l.lookNpm("@cyclonedx/cyclonedx-library@10.3.0"); err == nil || !strings.Contains(err.Error(), `version "10.2.0"`) {
		t.Errorf("wrong version: %v", err)
	}
}

// fakeTB records what a helper reports; Fatal ends the goroutine as the
// testing package's does.
type fakeTB struct {
	testing.TB
	msgs []string
}

func (f *fakeTB) Helper()                           {}
func (f *fakeTB) Fatal(args ...any)                 { f.msgs = append(f.msgs, fmt.Sprint(args...)); runtime.Goexit() }
func (f *fakeTB) Fatalf(format string, args ...any) { f.Fatal(fmt.Sprintf(format, args...)) }

// report runs fn with a fake TB and returns what it reported.
func report(fn func(tb testing.TB)) string {
	f := &fakeTB{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(f)
	}()
	<-done
	return strings.Join(f.msgs, "\n")
}

func TestMessages(t *testing.T) {
	l, err := Parse("list", "command relpack-no-such-tool relpack-pkg\ncommand sh dash\nfile /relpack/no/such/file libnope\ncommand gotool - the Go toolchain\n")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		err  error
		want string
	}{
		{func() error { _, err := l.lookCommand("relpack-no-such-tool"); return err }(),
			"relpack-no-such-tool is missing: install package relpack-pkg (scripts/install-test-deps.sh / make test-deps)"},
		{func() error { _, err := l.lookCommand("gcc"); return err }(),
			"uses command gcc, which scripts/test-deps.txt does not list: add a line `command gcc PACKAGE`"},
		{l.lookFile("/relpack/no/such/file"),
			"/relpack/no/such/file is missing: install package libnope (scripts/install-test-deps.sh / make test-deps)"},
		{l.lookFile("/etc/passwd"), "uses file /etc/passwd, which scripts/test-deps.txt does not list"},
		{func() error { _, err := l.lookCommand("gotool"); return err }(), "gotool is missing: it is not a Debian package: the Go toolchain"},
	}
	for _, c := range cases {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("got %v, want %q", c.err, c.want)
		}
	}
	if p, err := l.lookCommand("sh"); err != nil || p == "" {
		t.Errorf("sh: %q %v", p, err)
	}
}

// A go-installed command: missing, it names the go install command; found
// but built from another package or version (here the go command itself,
// cmd/go, which has no module version), it is refused.
func TestGoInstalledTool(t *testing.T) {
	l, err := Parse("list", "command relpack-no-such-gotool go:relpack.test/cmd/relpack-no-such-gotool@v1.2.3\ncommand go go:relpack.test/cmd/go@v1.2.3\n")
	if err != nil {
		t.Fatal(err)
	}
	_, err = l.lookCommand("relpack-no-such-gotool")
	if want := "relpack-no-such-gotool is missing: install it with `go install relpack.test/cmd/relpack-no-such-gotool@v1.2.3` (scripts/install-test-deps.sh"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("missing: %v\nwant %s", err, want)
	}
	_, err = l.lookCommand("go")
	if want := ", not the pinned relpack.test/cmd/go@v1.2.3: install it with `go install relpack.test/cmd/go@v1.2.3`"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("wrong version: %v\nwant %s", err, want)
	}
	if e := l.Lookup(KindCommand, "go"); e == nil {
		t.Fatal("no go entry")
	} else if pkg, v, ok := e.GoInstall(); !ok || pkg != "relpack.test/cmd/go" || v != "v1.2.3" {
		t.Errorf("GoInstall() = %q %q %v", pkg, v, ok)
	}
}

// The exported helpers fail the test (never skip) for unlisted names, on a
// machine that has them as on one that does not.
func TestHelpersFail(t *testing.T) {
	if got := report(func(tb testing.TB) { Tool(tb, "relpack-unlisted-tool") }); !strings.Contains(got, "does not list") {
		t.Errorf("Tool on an unlisted command: %q", got)
	}
	if got := report(func(tb testing.TB) { File(tb, "/etc/hostname") }); !strings.Contains(got, "does not list") {
		t.Errorf("File on an unlisted path: %q", got)
	}
	if got := report(func(tb testing.TB) { LookPath(tb, "relpack-unlisted-tool") }); !strings.Contains(got, "does not list") {
		t.Errorf("LookPath on an unlisted command: %q", got)
	}
	if got := report(func(tb testing.TB) { Script(tb, "scripts/no-such.sh") }); !strings.Contains(got, "does not list") {
		t.Errorf("Script on an unlisted script: %q", got)
	}
	if got := report(func(tb testing.TB) { Tool(tb, "sh") }); got != "" {
		t.Errorf("Tool(sh): %q", got)
	}
}

// Every script line names a script that exists.
func TestScriptsExist(t *testing.T) {
	l, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	root, _ := ModuleRoot()
	for _, e := range l.Entries {
		if e.Kind != KindScript {
			continue
		}
		if _, err := os.Stat(filepath.Join(root, e.Name)); err != nil {
			t.Errorf("%s:%d: %v", l.Path, e.Line, err)
		}
	}
}

// The install script and this package read the same list the same way:
// after `make test-deps` (which `make test` runs first), its --check finds
// nothing missing; and shellcheck holds the script.
func TestInstallScriptAgrees(t *testing.T) {
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(root, "scripts", "install-test-deps.sh")
	out, err := exec.Command(Tool(t, "sh"), script, "--check").CombinedOutput()
	if err != nil {
		t.Errorf("scripts/install-test-deps.sh --check: %v\n%s", err, out)
	}
	if out, err := exec.Command(Tool(t, "shellcheck"), script).CombinedOutput(); err != nil {
		t.Errorf("shellcheck %s: %v\n%s", script, err, out)
	}
}
