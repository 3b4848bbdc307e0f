package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"relpack/internal/testdeps"
)

// TestDebugSymbolsDocIsTrue holds docs/debug-symbols.md's walk from a
// crash to a source line to the demo: it builds the demo's Debian 12
// x86_64 deb and its ddeb, extracts both into one folder, crashes the
// packaged (stripped) gateway for real in a libz3 that writes to address
// 0, and checks that the page shows what gdb prints: the stack without the
// debug file (function names from .symtab), the build-id, the stack with
// the debug file found by build-id (file and line per frame), and the
// `info line` of a return address.
func TestDebugSymbolsDocIsTrue(t *testing.T) {
	gdb := testdeps.Tool(t, "gdb")
	gcc := testdeps.Tool(t, "gcc")
	dpkgDeb := testdeps.Tool(t, "dpkg-deb")
	readelf := testdeps.Tool(t, "readelf")
	doc, err := os.ReadFile("../../docs/debug-symbols.md")
	if err != nil {
		t.Fatal(err)
	}
	page := string(doc)

	dist := filepath.Join(t.TempDir(), "dist")
	if _, stderr, code := cli(t, "build", "-q", "-c", "../../testdata/demo/packaging.yaml", "--version", "0.1.0",
		"--only", "debian12", "--only", "x86_64", "--out", dist); code != 0 {
		t.Fatalf("build: exit %d\n%s", code, stderr)
	}
	root := t.TempDir()
	for _, f := range []string{"openshell-gateway_0.1.0-1~deb12_amd64.deb", "openshell-gateway-dbgsym_0.1.0-1~deb12_amd64.ddeb"} {
		if !strings.Contains(page, f) {
			t.Errorf("docs/debug-symbols.md does not name the demo's %s", f)
		}
		if out, err := exec.Command(dpkgDeb, "-x", filepath.Join(dist, f), root).CombinedOutput(); err != nil {
			t.Fatalf("dpkg-deb -x %s: %v\n%s", f, err, out)
		}
	}
	bin := filepath.Join(root, "usr/bin/openshell-gateway")
	debugDir := filepath.Join(root, "usr/lib/debug")

	// The build-id, as readelf -n shows it.
	notes, err := exec.Command(readelf, "-n", bin).Output()
	if err != nil {
		t.Fatal(err)
	}
	id := regexp.MustCompile(`Build ID: ([0-9a-f]+)`).FindSubmatch(notes)
	if id == nil {
		t.Fatalf("readelf -n %s shows no build-id:\n%s", bin, notes)
	}
	mustShow(t, page, "    Build ID: "+string(id[1]))

	// A libz3 that crashes, as the page's stack came from.
	lib := t.TempDir()
	src := filepath.Join(lib, "crash.c")
	if err := os.WriteFile(src, []byte("void Z3_get_version(unsigned *a, unsigned *b, unsigned *c, unsigned *d)\n{\n\t*(volatile unsigned *)0 = *a;\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(gcc, "-shared", "-fPIC", "-Wl,-soname,libz3.so.4", "-o", filepath.Join(lib, "libz3.so.4"), src).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	stack := func(debugFileDir string) []string {
		cmd := exec.Command(gdb, "-nx", "-batch", "-iex", "set debug-file-directory "+debugFileDir, "-ex", "run", "-ex", "bt",
			"--args", bin, "--version")
		cmd.Env = append(os.Environ(), "LD_LIBRARY_PATH="+lib)
		out, _ := cmd.CombinedOutput()
		var frames []string
		for _, l := range strings.Split(string(out), "\n") {
			if strings.HasPrefix(l, "#1 ") || strings.HasPrefix(l, "#2 ") {
				frames = append(frames, l)
			}
		}
		if len(frames) != 2 {
			t.Fatalf("gdb run+bt of the crashing gateway (debug-file-directory %s) shows no frames #1 and #2:\n%s", debugFileDir, out)
		}
		return frames
	}
	for _, l := range stack(t.TempDir()) { // no debug file: names from .symtab only
		mustShow(t, page, l)
	}
	with := stack(debugDir)
	for _, l := range with {
		mustShow(t, page, l)
	}
	if !strings.Contains(with[0], "gateway.c:31") {
		t.Errorf("with the ddeb's debug file, frame #1 is %q, want the line of gateway.c's Z3_get_version call (31)", with[0])
	}

	// A return address's line, as the page asks for it.
	out, err := exec.Command(gdb, "-nx", "-batch", "-iex", "set debug-file-directory "+debugDir, "-ex", "info line *0x1259", bin).CombinedOutput()
	if err != nil {
		t.Fatalf("gdb info line: %v\n%s", err, out)
	}
	mustShow(t, page, strings.TrimSpace(string(out)))
}

// mustShow fails t unless the page holds line.
func mustShow(t *testing.T, page, line string) {
	t.Helper()
	if !strings.Contains(page, line) {
		t.Errorf("docs/debug-symbols.md does not show what the demo gives:\n%s", line)
	}
}
