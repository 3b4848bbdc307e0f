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
	"relpack/pkg/sign/signtest"
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

// TestDebuginfoRPM: the -debuginfo rpm of the fixture rpm, its binary split
// by the oracle tools, is named and tagged as rpmbuild's debuginfo
// subpackage and holds find-debuginfo's files; the main rpm carries
// rpmbuild's build-id link. rpmlint accepts it, rpm installs both into an
// EL8-like root, the links resolve there, rpm -q --provides shows the
// debuginfo(build-id) provide, and gdb resolves a function and a source
// line of the installed stripped binary, which it cannot without it.
func TestDebuginfoRPM(t *testing.T) {
	testdeps.Tools(t, "rpm")
	fx := buildDebugELF(t)
	d := DebugPackage{BuildID: fx.buildID, Binary: "/usr/bin/" + fixtureName}
	main := debugMain("rpm", "")
	link := DebugLink(main, d)
	if want := "relpack-hello-0.0.38~dev.108+g152d059-1.x86_64.debug"; link != want {
		t.Fatalf("DebugLink %q, want %q", link, want)
	}
	stripped, debug := fx.split(t, link)
	main.Files[0].Src, d.DebugFile = stripped, debug
	main.Files = append(main.Files, BuildIDLinks(main, d)...)
	spec, err := DebugSpec(main, d)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	mainRPM, err := WritePackage(main, out)
	if err != nil {
		t.Fatal(err)
	}
	rpmFile, err := WritePackage(spec, out)
	if err != nil {
		t.Fatal(err)
	}
	if name, _ := PackageFileName(spec); filepath.Base(rpmFile) != name || name != "relpack-hello-debuginfo-0.0.38~dev.108+g152d059-1.x86_64.rpm" {
		t.Errorf("debuginfo rpm written as %s, PackageFileName %s", filepath.Base(rpmFile), name)
	}
	wantDebuginfoTags(t, rpmFile, fx.buildID)
	wantRPMFiles(t, rpmFile, debuginfoFiles(fx.buildID, link))
	wantRPMFiles(t, mainRPM, mainBuildIDFiles(fx.buildID))
	lintDebuginfo(t, rpmFile)
	installDebuginfo(t, mainRPM, rpmFile, fx.buildID, link)
}

// wantDebuginfoTags checks the debuginfo rpm's header: rpmbuild's
// debuginfo template and the provides rpmbuild writes.
func wantDebuginfoTags(t *testing.T, rpmFile, id string) {
	t.Helper()
	got := run(t, nil, "rpm", "-qp", "--qf", "%{NAME}|%{EPOCH}|%{VERSION}|%{RELEASE}|%{ARCH}|%{SUMMARY}|%{GROUP}|%{LICENSE}|%{URL}\n%{DESCRIPTION}\n", rpmFile)
	want := "relpack-hello-debuginfo|1|0.0.38~dev.108+g152d059|1|x86_64|Debug information for package relpack-hello|Development/Debug|Apache-2.0|https://example.com/relpack-hello\n" +
		"This package provides debug information for package relpack-hello.\n" +
		"Debug information is useful when developing applications that use this\n" +
		"package or when debugging this package.\n"
	if got != want {
		t.Errorf("debuginfo rpm header:\n%s\nwant:\n%s", got, want)
	}
	provides := run(t, nil, "rpm", "-qp", "--provides", rpmFile)
	for _, p := range []string{
		"debuginfo(build-id) = " + id,
		// Without the epoch, as relpack's rpms provide themselves.
		"relpack-hello-debuginfo = 0.0.38~dev.108+g152d059-1",
		"relpack-hello-debuginfo(x86-64) = 1:0.0.38~dev.108+g152d059-1",
	} {
		if !strings.Contains(provides, p+"\n") {
			t.Errorf("rpm --provides has no %q:\n%s", p, provides)
		}
	}
	if req := run(t, nil, "rpm", "-qp", "--requires", rpmFile); strings.Contains(req, "relpack-hello") {
		t.Errorf("the debuginfo rpm requires its package (rpmbuild's does not):\n%s", req)
	}
}

// debuginfoFiles are rpm -qlv's mode, path and link target of the
// debuginfo rpm: find-debuginfo's folders under /usr/lib/debug, the debug
// file and rpmbuild's build-id link to it.
func debuginfoFiles(id, link string) []string {
	bid := "/usr/lib/debug/.build-id/" + id[:2]
	return []string{
		"drwxr-xr-x /usr/lib/debug", "drwxr-xr-x /usr/lib/debug/.build-id", "drwxr-xr-x " + bid,
		"lrwxrwxrwx " + bid + "/" + id[2:] + ".debug -> ../../../../../usr/lib/debug/usr/bin/" + link,
		"drwxr-xr-x /usr/lib/debug/usr", "drwxr-xr-x /usr/lib/debug/usr/bin",
		"-rw-r--r-- /usr/lib/debug/usr/bin/" + link,
	}
}

// mainBuildIDFiles are rpm -qlv's lines of the main rpm's build-id link
// and its folders.
func mainBuildIDFiles(id string) []string {
	return []string{
		"drwxr-xr-x /usr/lib/.build-id", "drwxr-xr-x /usr/lib/.build-id/" + id[:2],
		"lrwxrwxrwx /usr/lib/.build-id/" + id[:2] + "/" + id[2:] + " -> ../../../../usr/bin/relpack-hello",
	}
}

// wantRPMFiles checks that rpm -qlvp of file lists want (mode, path and
// link target) in that order, among other lines for the main rpm.
func wantRPMFiles(t *testing.T, file string, want []string) {
	t.Helper()
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(run(t, nil, "rpm", "-qlvp", file)), "\n") {
		f := strings.Fields(l)
		if len(f) < 9 {
			t.Fatalf("rpm -qlv line %q", l)
		}
		line := f[0] + " " + strings.Join(f[8:], " ")
		if strings.Contains(line, "/usr/lib/debug") || strings.Contains(line, "/.build-id") {
			got = append(got, line)
		}
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s: rpm -qlv:\n%s\nwant:\n%s", filepath.Base(file), strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// debuginfoRPMLint are the messages rpmlint 2.4 reports on a -debuginfo
// rpm beyond what pkg/pack/rpmlintrc accepts, each accepted in
// docs/lint.md; rpmbuild's own debuginfo rpms draw the same:
var debuginfoRPMLint = []*regexp.Regexp{
	// The debug file is objcopy --only-keep-debug's: DWARF and symbols,
	// by design, so file(1) says "not stripped".
	regexp.MustCompile(`^relpack-hello-debuginfo\.x86_64: W: unstripped-binary-or-object /usr/lib/debug/usr/bin/[^ ]+\.debug$`),
	// Its .dynamic is NOBITS (the loaded sections stay in the binary), so
	// rpmlint reads no NEEDED entries in it.
	regexp.MustCompile(`^relpack-hello-debuginfo\.x86_64: E: shared-library-without-dependency-information /usr/lib/debug/usr/bin/[^ ]+\.debug$`),
	// A debug package holds debug files only; its documentation is the
	// main package's.
	regexp.MustCompile(`^relpack-hello-debuginfo\.x86_64: W: no-documentation$`),
}

// lintDebuginfo runs rpmlint with relpack's rpmlintrc on the debuginfo
// rpm: it must report exactly the debuginfoRPMLint messages, each of them.
// The filters of the file that only main rpms use are not reported unused
// (--ignore-unused-rpmlintrc); the main rpm's messages are TestRPMLint's.
func lintDebuginfo(t *testing.T, rpmFile string) {
	t.Helper()
	rpmlint := testdeps.Tool(t, "rpmlint")
	out, _ := runErr(nil, rpmlint, "-r", "rpmlintrc", "--ignore-unused-rpmlintrc", rpmFile)
	t.Logf("rpmlint:\n%s", out)
	used := make([]bool, len(debuginfoRPMLint))
	var other []string
	for _, l := range strings.Split(out, "\n") {
		if !strings.Contains(l, ": E: ") && !strings.Contains(l, ": W: ") {
			continue
		}
		known := false
		for i, re := range debuginfoRPMLint {
			if re.MatchString(strings.TrimSpace(l)) {
				used[i], known = true, true
			}
		}
		if !known {
			other = append(other, l)
		}
	}
	if len(other) > 0 {
		t.Errorf("rpmlint -r rpmlintrc on the debuginfo rpm reports more than docs/lint.md accepts:\n%s", strings.Join(other, "\n"))
	}
	for i, re := range debuginfoRPMLint {
		if !used[i] {
			t.Errorf("rpmlint no longer reports %s on the debuginfo rpm: remove the acceptance (and its row in docs/lint.md)", re)
		}
	}
}

// installDebuginfo installs the main rpm and its debuginfo rpm into an
// EL8-like root and checks the provide, the build-id links and gdb.
func installDebuginfo(t *testing.T, mainRPM, rpmFile, id, link string) {
	t.Helper()
	root := el8Root(t)
	run(t, nil, "rpm", "--root", root, "-i", "--ignorearch", mainRPM, rpmFile)
	if p := run(t, nil, "rpm", "--root", root, "-q", "--provides", "relpack-hello-debuginfo"); !strings.Contains(p, "debuginfo(build-id) = "+id+"\n") {
		t.Errorf("installed: rpm -q --provides:\n%s", p)
	}
	bin := filepath.Join(root, "usr/bin", fixtureName)
	debugFile := filepath.Join(root, "usr/lib/debug/usr/bin", link)
	for l, target := range map[string]string{
		filepath.Join(root, "usr/lib/.build-id", id[:2], id[2:]):                bin,
		filepath.Join(root, "usr/lib/debug/.build-id", id[:2], id[2:]+".debug"): debugFile,
	} {
		a, err1 := os.Stat(l)
		b, err2 := os.Stat(target)
		if err1 != nil || err2 != nil || !os.SameFile(a, b) {
			t.Errorf("installed link %s does not resolve to %s (%v, %v)", l, target, err1, err2)
		}
	}
	// gdb finds the installed binary's debug file by its debuglink
	// (debug-file-directory/usr/bin/LINK); a copy elsewhere only by its
	// build-id, through the link.
	dir := filepath.Join(root, "usr/lib/debug")
	funcLine, addrLine := gdbLines(t, bin, dir)
	wantResolved(t, funcLine, addrLine, debugFile)
	other := filepath.Join(t.TempDir(), "moved")
	if err := os.Link(bin, other); err != nil {
		t.Fatal(err)
	}
	// gdb names the file the link resolves to.
	funcLine, addrLine = gdbLines(t, other, dir)
	wantResolved(t, funcLine, addrLine, debugFile)
	noDebug, _ := gdbLines(t, bin, t.TempDir())
	wantUnresolved(t, noDebug)
}

// el8Root is an rpm database in a folder holding, without their files,
// stand-ins for the EL8 packages the fixture rpm requires (glibc 2.28,
// z3-libs), as internal/rpmroot.SeedEL8 seeds one (which this package's
// tests cannot import: it imports pkg/pack).
func el8Root(t *testing.T) string {
	t.Helper()
	root, dir := t.TempDir(), t.TempDir()
	run(t, nil, "rpm", "--root", root, "--initdb")
	for _, p := range []string{"glibc 2.28", "z3-libs 4.8.7"} {
		name, ver, _ := strings.Cut(p, " ")
		f, err := WritePackage(PackageSpec{
			Format: "rpm", Name: name, Arch: "amd64", Version: ver, Release: "1.el8",
			Maintainer: "EL8 stand-in <root@localhost>", Summary: name + " stand-in", License: "LGPL-2.1-or-later",
			MTime: fixtureMTime, Files: []PackageFile{{Data: []byte("stand-in\n"), Dst: "/usr/share/doc/" + name + "-standin/README", Mode: 0o644}},
		}, dir)
		if err != nil {
			t.Fatal(err)
		}
		run(t, nil, "rpm", "--root", root, "-i", "--justdb", "--nodeps", "--ignorearch", f)
	}
	return root
}

// TestDebugPackagesSignedReproducible: a debug package is signed as any
// other (debsig-verify accepts the ddeb's _gpgorigin, rpm -K the
// debuginfo rpm with the key imported) and two builds of one spec, signed
// or not, in different folders with a shared payload cache or none, are
// byte-identical.
func TestDebugPackagesSignedReproducible(t *testing.T) {
	testdeps.Tools(t, "rpm", "debsig-verify")
	key, pubFile, g := signingKey(t, "ed25519", signPassphrase)
	fx := buildDebugELF(t)
	for _, format := range []string{"deb", "rpm"} {
		d := DebugPackage{BuildID: fx.buildID, Binary: "/usr/bin/" + fixtureName}
		main := debugMain(format, "")
		stripped, debug := fx.split(t, DebugLink(main, d))
		main.Files[0].Src, d.DebugFile = stripped, debug
		main.Signing = key
		spec, err := DebugSpec(main, d)
		if err != nil {
			t.Fatal(err)
		}
		if spec.Signing != key {
			t.Fatalf("%s: the debug spec does not carry main's signing key", format)
		}
		a, err := WritePackage(spec, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		spec.Payloads = NewPayloadCache(t.TempDir())
		b, err := WritePackage(spec, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		ab, _ := os.ReadFile(a)
		if bb, _ := os.ReadFile(b); !bytes.Equal(ab, bb) {
			t.Errorf("%s: two builds of the debug package differ", format)
		}
		if format == "deb" {
			policies, keyrings := signtest.DebsigPolicy(t, key.KeyID, g.PublicBin)
			if out, code := signtest.DebsigVerify(policies, keyrings, a); code != 0 {
				t.Errorf("debsig-verify on the signed ddeb: exit %d:\n%s", code, out)
			}
			continue
		}
		if short, verbose, ok := rpmCheck(rpmDB(t, pubFile), a); !ok || !strings.Contains(verbose, "Header V4") {
			t.Errorf("rpm -K on the signed debuginfo rpm:\n%s\n%s", short, verbose)
		}
	}
}

// TestDebugSpecRefuses: DebugSpec refuses, naming what to fix, a build-id
// that is not even-length lower-case hex, a debug file that is missing or
// not a regular file, a Binary that is not a clean absolute path or not a
// file of the package; DebugLink and BuildIDLinks give nothing for them.
func TestDebugSpecRefuses(t *testing.T) {
	dir := t.TempDir()
	debug := filepath.Join(dir, "x.debug")
	if err := os.WriteFile(debug, []byte("debug"), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "bin")
	if err := os.WriteFile(bin, []byte("bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	good := DebugPackage{BuildID: "0123456789abcdef0123456789abcdef01234567", DebugFile: debug, Binary: "/usr/bin/" + fixtureName}
	for _, tc := range []struct {
		name string
		edit func(*DebugPackage)
		want string
	}{
		{"upper-case id", func(d *DebugPackage) { d.BuildID = "0123456789ABCDEF" }, `build-id "0123456789ABCDEF" is not lower-case hex`},
		{"odd id", func(d *DebugPackage) { d.BuildID = "0123456789abcde" }, "is not lower-case hex of 2 to 64 bytes (an even number"},
		{"short id", func(d *DebugPackage) { d.BuildID = "ab" }, "is not lower-case hex"},
		{"non-hex id", func(d *DebugPackage) { d.BuildID = "0123456789abcdeg" }, "is not lower-case hex"},
		{"empty id", func(d *DebugPackage) { d.BuildID = "" }, `build-id ""`},
		{"missing debug file", func(d *DebugPackage) { d.DebugFile = filepath.Join(dir, "gone.debug") }, "gone.debug: no such file or directory; split the binary first"},
		{"debug file a folder", func(d *DebugPackage) { d.DebugFile = dir }, "is a directory, not a regular file"},
		{"no debug file", func(d *DebugPackage) { d.DebugFile = "" }, "no debug file given for /usr/bin/relpack-hello"},
		{"relative binary", func(d *DebugPackage) { d.Binary = "usr/bin/relpack-hello" }, `binary "usr/bin/relpack-hello" must be the clean absolute path`},
		{"unclean binary", func(d *DebugPackage) { d.Binary = "/usr/bin/../bin/relpack-hello" }, "must be the clean absolute path"},
		{"binary not in the package", func(d *DebugPackage) { d.Binary = "/usr/bin/other" }, "binary /usr/bin/other is not a file of the package"},
	} {
		for _, format := range []string{"deb", "rpm"} {
			main := debugMain(format, bin)
			d := good
			tc.edit(&d)
			_, err := DebugSpec(main, d)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "debug package of "+format+" package relpack-hello") {
				t.Errorf("%s, %s: error %v, want %q", tc.name, format, err, tc.want)
			}
			if strings.Contains(tc.name, " id") && (DebugLink(main, d) != "" && format == "deb" || BuildIDLinks(main, d) != nil) {
				t.Errorf("%s, %s: DebugLink %q, BuildIDLinks %v for an invalid build-id", tc.name, format, DebugLink(main, d), BuildIDLinks(main, d))
			}
		}
	}
	if _, err := DebugSpec(debugMain("deb", bin), good); err != nil {
		t.Errorf("the good input: %v", err)
	}
}

// TestLinkAndDirEntries: PackageSpec's symbolic links and directories are
// are checked like files (TestDdeb and TestDebuginfoRPM read them in the
// packages with dpkg-deb and rpm).
func TestLinkAndDirEntries(t *testing.T) {
	for _, tc := range []struct {
		f    PackageFile
		want string
	}{
		{PackageFile{Dst: "/usr/bin/x", Link: "y", Src: "/etc/passwd"}, "is a symbolic link (Link); leave Src, Data, Dir and Config empty"},
		{PackageFile{Dst: "/usr/bin/x", Link: "y", Mode: 0o755}, "a symbolic link's mode is always 0777"},
		{PackageFile{Dst: "/usr/bin/x", Link: "y\nz"}, "holds a NUL or newline"},
		{PackageFile{Dst: "/usr/lib/x", Dir: true}, "no mode given"},
		{PackageFile{Dst: "/usr/lib/x", Dir: true, Mode: 0o755, Data: []byte("a")}, "is a directory (Dir); leave Src, Data and Config empty"},
	} {
		s := fixtureSpec("rpm", t.TempDir())
		s.Files = append(s.Files, tc.f)
		if _, err := PackageFileName(s); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want %q", tc.f, err, tc.want)
		}
	}
	s := fixtureSpec("deb", t.TempDir())
	s.Files = append(s.Files, PackageFile{Dst: "/usr/lib/x", Dir: true, Mode: 0o755}, PackageFile{Dst: "/usr/lib/x", Dir: true, Mode: 0o700})
	if _, err := PackageFileName(s); err == nil || !strings.Contains(err.Error(), "file /usr/lib/x is listed twice") {
		t.Errorf("a folder listed twice with two modes: %v", err)
	}
	s = fixtureSpec("deb", t.TempDir())
	s.ExtraFields = map[string]string{"Build-Ids": "abcd"}
	if _, err := PackageFileName(s); err == nil || !strings.Contains(err.Error(), "control field Build-Ids is a debug package's; make debug packages with DebugSpec") {
		t.Errorf("Build-Ids on a main deb: %v", err)
	}
}

// TestLinkAndDirEntriesWritten: a deb and an rpm holding a folder entry and
// a link list them as dpkg-deb and rpm show their own.
func TestLinkAndDirEntriesWritten(t *testing.T) {
	testdeps.Tools(t, "dpkg-deb", "rpm")
	for _, format := range []string{"deb", "rpm"} {
		s := fixtureSpec(format, "")
		s.Files = []PackageFile{
			{Data: []byte("x\n"), Dst: "/usr/lib/relpack-x/data", Mode: 0o644},
			{Dst: "/usr/lib/relpack-x", Dir: true, Mode: 0o750},
			{Dst: "/usr/lib/relpack-x", Dir: true, Mode: 0o750},
			{Dst: "/usr/bin/relpack-x", Link: "../lib/relpack-x/data"},
		}
		f, err := WritePackage(s, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		var listing string
		if format == "deb" {
			listing = run(t, nil, "dpkg-deb", "-c", f)
		} else {
			listing = run(t, nil, "rpm", "-qlvp", f)
		}
		for _, want := range []string{`drwxr-x--- .* \.?/usr/lib/relpack-x/?\n`, `lrwxrwxrwx .* \.?/usr/bin/relpack-x -> \.\./lib/relpack-x/data\n`} {
			if n := len(regexp.MustCompile(want).FindAllString(listing, -1)); n != 1 {
				t.Errorf("%s: %d lines match %q:\n%s", format, n, want, listing)
			}
		}
	}
}

// TestDebugNames: the debuglink names and debug package names for other
// architectures and version fields: rpm's architecture name, its default
// release, its '-'-free pre-release, no epoch in file names.
func TestDebugNames(t *testing.T) {
	debug := filepath.Join(t.TempDir(), "helper.debug")
	if err := os.WriteFile(debug, []byte("debug"), 0o644); err != nil {
		t.Fatal(err)
	}
	d := DebugPackage{BuildID: "ab0123456789abcdef0123456789abcdef012345", DebugFile: debug, Binary: "/usr/libexec/relpack/helper"}
	for _, tc := range []struct {
		format, arch, release, pre, link, file string
	}{
		{"rpm", "arm64", "", "rc-1", "helper-2.0~rc_1-1.aarch64.debug", "relpack-hello-debuginfo-2.0~rc_1-1.aarch64.rpm"},
		{"rpm", "amd64", "3.el8", "", "helper-2.0-3.el8.x86_64.debug", "relpack-hello-debuginfo-2.0-3.el8.x86_64.rpm"},
		{"deb", "arm64", "1", "rc-1", "0123456789abcdef0123456789abcdef012345.debug", "relpack-hello-dbgsym_2.0~rc-1-1_arm64.ddeb"},
	} {
		s := fixtureSpec(tc.format, "")
		s.Arch, s.Version, s.Release, s.Prerelease, s.VersionMetadata, s.Epoch = tc.arch, "2.0", tc.release, tc.pre, "", "7"
		if got := DebugLink(s, d); got != tc.link {
			t.Errorf("%s %s: DebugLink %q, want %q", tc.format, tc.arch, got, tc.link)
		}
		s.Files = []PackageFile{{Data: []byte("x"), Dst: d.Binary, Mode: 0o755}}
		spec, err := DebugSpec(s, d)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := PackageFileName(spec); got != tc.file || err != nil {
			t.Errorf("%s %s: file name %q (%v), want %q", tc.format, tc.arch, got, err, tc.file)
		}
	}
	rpm := fixtureSpec("rpm", "")
	links := BuildIDLinks(rpm, d)
	if len(links) != 3 || links[2].Dst != "/usr/lib/.build-id/ab/0123456789abcdef0123456789abcdef012345" ||
		links[2].Link != "../../../../usr/libexec/relpack/helper" {
		t.Errorf("BuildIDLinks: %+v", links)
	}
}
