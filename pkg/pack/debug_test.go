package pack

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"relpack/internal/testdeps"
)

// debugSource is the C program of the debug-package tests: relpack_greet's
// first statement is on line debugLine.
const debugSource = `#include <stdio.h>

int relpack_greet(int n) {
	int sum = 0;
	for (int i = 0; i < n; i++)
		sum += i;
	printf("hello %d\n", sum);
	return sum;
}

int main(int argc, char **argv) {
	(void)argv;
	return relpack_greet(argc) == 12345;
}
`

// debugFixture is an unstripped program with DWARF and a GNU build-id.
type debugFixture struct {
	dir, unstripped, buildID string
}

// buildDebugELF compiles debugSource with -g and -Wl,--build-id.
func buildDebugELF(t *testing.T) debugFixture {
	t.Helper()
	testdeps.Tools(t, "gcc")
	testdeps.File(t, "/usr/include/stdio.h")
	dir := t.TempDir()
	src := filepath.Join(dir, "greet.c")
	if err := os.WriteFile(src, []byte(debugSource), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "greet")
	run(t, nil, "gcc", "-g", "-O0", "-fPIE", "-pie", "-Wl,-z,relro,-z,now", "-Wl,--build-id", "-o", bin, src)
	return debugFixture{dir: dir, unstripped: bin, buildID: elfBuildID(t, bin)}
}

// elfBuildID reads the NT_GNU_BUILD_ID note of file.
func elfBuildID(t *testing.T, file string) string {
	t.Helper()
	f, err := elf.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := f.Section(".note.gnu.build-id")
	if s == nil {
		t.Fatalf("%s has no .note.gnu.build-id", file)
	}
	b, err := s.Data()
	if err != nil || len(b) < 16 {
		t.Fatalf("%s: build-id note: %v", file, err)
	}
	namesz, descsz := binary.LittleEndian.Uint32(b[0:]), binary.LittleEndian.Uint32(b[4:])
	off := 12 + (namesz+3)&^3
	return hex.EncodeToString(b[off : off+descsz])
}

// split splits fx with the oracle tools, as the layout wants it: the debug
// file (objcopy --only-keep-debug) named link, and the stripped binary
// (strip --strip-debug, then objcopy --add-gnu-debuglink, as dh_strip
// does) whose .gnu_debuglink names it.
func (fx debugFixture) split(t *testing.T, link string) (stripped, debug string) {
	t.Helper()
	testdeps.Tools(t, "objcopy", "strip")
	out := t.TempDir()
	debug = filepath.Join(out, link)
	stripped = filepath.Join(out, "stripped")
	run(t, nil, "objcopy", "--only-keep-debug", fx.unstripped, debug)
	run(t, nil, "strip", "--strip-debug", "-o", stripped, fx.unstripped)
	run(t, nil, "objcopy", "--add-gnu-debuglink="+debug, stripped)
	if err := os.Chmod(debug, 0o644); err != nil {
		t.Fatal(err)
	}
	return stripped, debug
}

// debugMain is the main package of the debug tests: the fixture spec with
// the stripped program as its binary and an epoch, so that the debug
// package's exact relation carries epoch, tilde and release.
func debugMain(format, stripped string) PackageSpec {
	s := fixtureSpec(format, "")
	s.Epoch = "1"
	s.Files[0].Src = stripped
	if format == "rpm" {
		// What rpmroot.SeedEL8's stand-ins provide.
		s.Depends = []string{"glibc >= 2.28", "z3-libs"}
	}
	return s
}

// gdbLines runs gdb in batch mode on binary with debugDir as its
// debug-file-directory and returns its output of info line FUNC and of
// info line *ADDR, ADDR the address the first answer gives, each followed
// by gdb's list of symbol tables.
func gdbLines(t *testing.T, binary, debugDir string) (funcLine, addrLine string) {
	t.Helper()
	gdb := testdeps.Tool(t, "gdb")
	args := func(cmd string) []string {
		// maint info symtabs names the objfile each symbol table
		// came from: the debug file gdb found.
		return []string{"--batch", "-nx", "-iex", "set debug-file-directory " + debugDir, "-ex", cmd, "-ex", "maint info symtabs", binary}
	}
	gdbRun := func(cmd string) string {
		t.Helper()
		out, err := exec.Command(gdb, args(cmd)...).CombinedOutput()
		if err != nil {
			t.Fatalf("gdb %s: %v\n%s", cmd, err, out)
		}
		return string(out)
	}
	funcLine = gdbRun("info line relpack_greet")
	m := regexp.MustCompile(`address (0x[0-9a-f]+)`).FindStringSubmatch(funcLine)
	if m == nil {
		t.Fatalf("gdb info line relpack_greet gives no address:\n%s", funcLine)
	}
	addrLine = gdbRun("info line *" + m[1])
	return funcLine, addrLine
}

// wantResolved checks that gdb resolved relpack_greet to greet.c from the
// debug file at debugFile (its build-id path, as gdb reports reading it).
func wantResolved(t *testing.T, funcLine, addrLine, debugFile string) {
	t.Helper()
	lineRE := regexp.MustCompile(`Line (3|4) of "[^"]*greet\.c"`)
	if !lineRE.MatchString(funcLine) || !strings.Contains(funcLine, "{ objfile "+debugFile+" ") {
		t.Errorf("gdb info line relpack_greet: want line 3 or 4 of greet.c, read from %s:\n%s", debugFile, funcLine)
	}
	if !lineRE.MatchString(addrLine) || !strings.Contains(addrLine, "<relpack_greet") {
		t.Errorf("gdb info line *ADDR: want line 3 or 4 of greet.c in relpack_greet:\n%s", addrLine)
	}
}

// wantUnresolved checks gdb's answer without the debug package: the
// function is known (the stripped binary keeps .symtab), its line is not.
func wantUnresolved(t *testing.T, funcLine string) {
	t.Helper()
	if !strings.Contains(funcLine, "No line number information available for address") || !strings.Contains(funcLine, "<relpack_greet>") {
		t.Errorf("gdb without the debug package: want the function without a line:\n%s", funcLine)
	}
}

// dpkgRoot is an empty dpkg database in a folder, knowing the packages the
// fixture deb depends on as installed.
func dpkgRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	for _, d := range []string{"var/lib/dpkg/info", "var/lib/dpkg/updates", "var/lib/dpkg/triggers"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	var status bytes.Buffer
	for _, p := range []string{"libc6 2.36-9", "libz3-4 4.8.12-3.1"} {
		name, ver, _ := strings.Cut(p, " ")
		status.WriteString("Package: " + name + "\nStatus: install ok installed\nPriority: optional\nSection: libs\n" +
			"Maintainer: stand-in <root@localhost>\nArchitecture: amd64\nVersion: " + ver + "\nDescription: stand-in\n\n")
	}
	if err := os.WriteFile(filepath.Join(root, "var/lib/dpkg/status"), status.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

// TestDdeb: the dbgsym package of the fixture deb, its binary split by the
// oracle tools, is NAME-dbgsym_VERSION_ARCH.ddeb with dh_gencontrol's
// fields in dpkg-gencontrol's order and dh_strip's files; lintian accepts
// it; dpkg installs it beside the main deb, and gdb then resolves a
// function and a source line of the installed stripped binary through the
// build-id tree, which it cannot without the ddeb.
func TestDdeb(t *testing.T) {
	testdeps.Tools(t, "dpkg-deb", "dpkg")
	fx := buildDebugELF(t)
	d := DebugPackage{BuildID: fx.buildID, Binary: "/usr/bin/" + fixtureName}
	main := debugMain("deb", "")
	link := DebugLink(main, d)
	if want := fx.buildID[2:] + ".debug"; link != want {
		t.Fatalf("DebugLink %q, want %q", link, want)
	}
	stripped, debug := fx.split(t, link)
	main.Files[0].Src, d.DebugFile = stripped, debug
	if got := BuildIDLinks(main, d); got != nil {
		t.Errorf("BuildIDLinks of a deb: %v, want none", got)
	}
	spec, err := DebugSpec(main, d)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	mainDeb, err := WritePackage(main, out)
	if err != nil {
		t.Fatal(err)
	}
	ddeb, err := WritePackage(spec, out)
	if err != nil {
		t.Fatal(err)
	}
	// No epoch in the name, as dpkg-deb -b names a package.
	if name, _ := PackageFileName(spec); filepath.Base(ddeb) != name || name != "relpack-hello-dbgsym_0.0.38~dev.108+g152d059-1_amd64.ddeb" {
		t.Errorf("ddeb written as %s, PackageFileName %s", filepath.Base(ddeb), name)
	}
	wantDdebControl(t, ddeb, fx.buildID)
	wantDdebFiles(t, ddeb, fx.buildID)
	lintDdeb(t, mainDeb, ddeb)

	root := dpkgRoot(t)
	run(t, nil, "dpkg", "--root="+root, "--force-script-chrootless", "-i", mainDeb, ddeb)
	bin := filepath.Join(root, "usr/bin", fixtureName)
	funcLine, addrLine := gdbLines(t, bin, filepath.Join(root, "usr/lib/debug"))
	wantResolved(t, funcLine, addrLine, filepath.Join(root, "usr/lib/debug/.build-id", fx.buildID[:2], link))
	noDebug, _ := gdbLines(t, bin, t.TempDir())
	wantUnresolved(t, noDebug)
}

// wantDdebControl checks the ddeb's control file, field by field in order.
func wantDdebControl(t *testing.T, ddeb, id string) {
	t.Helper()
	control := run(t, nil, "dpkg-deb", "-f", ddeb)
	isize := strings.TrimSpace(run(t, nil, "dpkg-deb", "-f", ddeb, "Installed-Size"))
	want := "Package: relpack-hello-dbgsym\n" +
		"Source: relpack-hello\n" +
		"Version: 1:0.0.38~dev.108+g152d059-1\n" +
		"Auto-Built-Package: debug-symbols\n" +
		"Architecture: amd64\n" +
		"Maintainer: Relpack Tests <relpack-tests@example.com>\n" +
		"Installed-Size: " + isize + "\n" +
		"Depends: relpack-hello (= 1:0.0.38~dev.108+g152d059-1)\n" +
		"Section: debug\n" +
		"Priority: optional\n" +
		"Description: debug symbols for relpack-hello\n" +
		"Build-Ids: " + id + "\n"
	if control != want {
		t.Errorf("ddeb control:\n%s\nwant:\n%s", control, want)
	}
}

// wantDdebFiles checks the ddeb's data: the debug file under its build-id
// and the doc folder a link to the main package's.
func wantDdebFiles(t *testing.T, ddeb, id string) {
	t.Helper()
	listing := run(t, []string{"TZ=UTC"}, "dpkg-deb", "-c", ddeb)
	t.Logf("dpkg-deb -c:\n%s", listing)
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(listing), "\n") {
		f := strings.Fields(l)
		got = append(got, f[0]+" "+strings.Join(f[5:], " "))
	}
	want := []string{
		"drwxr-xr-x ./usr/", "drwxr-xr-x ./usr/lib/", "drwxr-xr-x ./usr/lib/debug/",
		"drwxr-xr-x ./usr/lib/debug/.build-id/", "drwxr-xr-x ./usr/lib/debug/.build-id/" + id[:2] + "/",
		"-rw-r--r-- ./usr/lib/debug/.build-id/" + id[:2] + "/" + id[2:] + ".debug",
		"drwxr-xr-x ./usr/share/", "drwxr-xr-x ./usr/share/doc/",
		"lrwxrwxrwx ./usr/share/doc/relpack-hello-dbgsym -> relpack-hello",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("ddeb files:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// lintDdeb runs lintian on the ddeb: beside its main deb (a group, as
// lintian checks an upload's .changes) it must report nothing about the
// ddeb; alone, only the one tag docs/lint.md accepts, because lintian
// cannot then see the package its doc link points into. The main deb's
// own tags are TestDeb's business.
func lintDdeb(t *testing.T, mainDeb, ddeb string) {
	t.Helper()
	lintian := testdeps.Tool(t, "lintian")
	lint := func(files ...string) []string {
		args := append([]string{"--display-info", "--tag-display-limit", "0"}, files...)
		out, _ := runErr(nil, lintian, args...)
		var tags []string
		for _, l := range strings.Split(out, "\n") {
			if strings.Contains(l, " relpack-hello-dbgsym") {
				tags = append(tags, l)
			}
		}
		t.Logf("lintian %s:\n%s", strings.Join(files, " "), out)
		return tags
	}
	if got := lint(mainDeb, ddeb); len(got) != 0 {
		t.Errorf("lintian on the ddeb beside its deb: %q, want nothing", got)
	}
	want := "I: relpack-hello-dbgsym: cannot-check-whether-usr-share-doc-symlink-points-to-foreign-package"
	if got := lint(ddeb); len(got) != 1 || got[0] != want {
		t.Errorf("lintian on the ddeb alone: %q, want only the accepted %q", got, want)
	}
}
