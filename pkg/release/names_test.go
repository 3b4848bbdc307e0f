package release

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"relpack/internal/clitest"
	"relpack/internal/testdeps"
)

// TestErrorsNameInputsAsGiven: relpack build reads every source through a
// private copy in --out/.relpack-staging-*/.sources/N/, but a refusal
// names the file as the user gave it (the relative path packaging.yaml or
// --bin wrote), never the copy, which is gone by the time the message is
// read. Each case runs the CLI in the configuration's folder, with and
// without --json, on a demo whose paths stay relative (../fixtures/...).
func TestErrorsNameInputsAsGiven(t *testing.T) {
	bin := clitest.Bin(t)
	hostZ3 := testdeps.File(t, "/usr/lib/x86_64-linux-gnu/libz3.so.4")
	root := t.TempDir()
	if err := os.CopyFS(root+"/fixtures", os.DirFS("../../testdata/fixtures")); err != nil {
		t.Fatalf("copying the fixtures: %v", err)
	}
	// A library that breaks the 2.28 floor (GLIBC_2.34), under a name of
	// the user's.
	data, err := os.ReadFile(hostZ3)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(root+"/fixtures/x86_64/new-libz3.so.4", data, 0o644); err != nil {
		t.Fatal(err)
	}
	// A binary importing Z3_mk_int (unversioned), which the fixtures' stub
	// libz3.so.4 does not define.
	testdeps.Tools(t, "gcc")
	build := filepath.Join(root, "build")
	os.Mkdir(build, 0o755)
	os.WriteFile(filepath.Join(build, "z3.c"), []byte("void *Z3_mk_int(void *c, int v, void *s) { return (void *)(long)v; }\n"), 0o644)
	os.WriteFile(filepath.Join(build, "app.c"), []byte("void *Z3_mk_int(void *, int, void *);\nint main(void) { return Z3_mk_int(0, 7, 0) != 0; }\n"), 0o644)
	sh(t, build, "gcc", "-shared", "-fPIC", "-Wl,-soname,libz3.so.4", "-o", "libz3.so.4", "z3.c")
	sh(t, build, "gcc", "-o", "../fixtures/x86_64/z3-app", "app.c", "libz3.so.4")
	base, err := os.ReadFile(demoConfig)
	if err != nil {
		t.Fatal(err)
	}
	demo := string(base)
	const gnu = "x86_64-unknown-linux-gnu: ../fixtures/demo/x86_64-unknown-linux-gnu/openshell-gateway"
	const sidecar = "x86_64: ../fixtures/x86_64/libz3.so.4\n"
	withGNU := func(p string) string { return strings.Replace(demo, gnu, "x86_64-unknown-linux-gnu: "+p, 1) }
	withSidecar := func(p string) string { return strings.Replace(demo, sidecar, "x86_64: "+p+"\n", 1) }
	// private ships libz3 in the debian12 package from p.
	private := func(p string) string {
		head := demo[:strings.Index(demo, "\ntargets:\n")+1]
		head = head[:strings.Index(head, "  sidecar:\n")]
		return head + "targets:\n  - debian12\nlibraries:\n  libz3:\n    files:\n      x86_64: " + p +
			"\n      aarch64: ../fixtures/aarch64/libz3.so.4\n    private: [debian12]\n"
	}
	minimal := strings.Replace(demo, "targets:\n", "targets:\n  - id: minimal\n    name: Minimal\n    format: deb\n    glibc: \"2.36\"\n"+
		"    compression: xz\n    release_suffix: \"~min\"\n    arches: [x86_64]\n    libc_package: libc6\n    sonames: {}\n", 1)

	cases := []struct {
		name, config string
		args         []string
		want         []string
	}{
		{"input misses the floor", withGNU("../fixtures/x86_64/math-2.29"), nil, []string{
			"input x86_64-unknown-linux-gnu (../fixtures/x86_64/math-2.29): breaks the promised floor",
			"FAIL: ../fixtures/x86_64/math-2.29 does not meet glibc-2.28"}},
		{"--bin misses the floor", demo, []string{"--bin", "x86_64-unknown-linux-gnu=../fixtures/x86_64/gettid-2.30"}, []string{
			"input x86_64-unknown-linux-gnu (../fixtures/x86_64/gettid-2.30): breaks the promised floor",
			"FAIL: ../fixtures/x86_64/gettid-2.30 does not meet glibc-2.28"}},
		{"input not ELF", withGNU("../fixtures/demo/README.md"), nil, []string{
			"input x86_64-unknown-linux-gnu (../fixtures/demo/README.md): not an ELF file"}},
		{"input is a library", withGNU("../fixtures/x86_64/libdemo.so"), nil, []string{
			"input x86_64-unknown-linux-gnu (../fixtures/x86_64/libdemo.so): is a shared-library, not an executable"}},
		{"soname the target lacks", minimal, nil, []string{
			"target minimal (packaging.yaml:", "input x86_64-unknown-linux-gnu (../fixtures/demo/x86_64-unknown-linux-gnu/openshell-gateway) needs libz3.so.4"}},
		{"sidecar library not ELF", withSidecar("../fixtures/demo/LICENSE"), nil, []string{
			"sidecar library ../fixtures/demo/LICENSE (tarball.sidecar.libraries.x86_64 in packaging.yaml:", "not an ELF file"}},
		{"sidecar library misses the floor", withSidecar("../fixtures/x86_64/new-libz3.so.4"), nil, []string{
			"sidecar library ../fixtures/x86_64/new-libz3.so.4 (tarball.sidecar.libraries.x86_64 in packaging.yaml:",
			"FAIL: ../fixtures/x86_64/new-libz3.so.4 does not meet glibc-2.28"}},
		{"sidecar library of another soname", withSidecar("../fixtures/x86_64/libdemo.so"), nil, []string{
			`sidecar library ../fixtures/x86_64/libdemo.so (tarball.sidecar.libraries.x86_64 in packaging.yaml:`,
			`has SONAME "libdemo.so.1", but ../fixtures/demo/x86_64-unknown-linux-gnu/openshell-gateway needs libz3.so.4`}},
		{"private library misses the floor", private("../fixtures/x86_64/new-libz3.so.4"), nil, []string{
			"target debian12: private library ../fixtures/x86_64/new-libz3.so.4 (libraries.libz3.files.x86_64 in packaging.yaml:",
			"FAIL: ../fixtures/x86_64/new-libz3.so.4 does not meet glibc-2.28"}},
		{"private library not ELF", private("../fixtures/demo/LICENSE"), nil, []string{
			"target debian12: private library ../fixtures/demo/LICENSE (libraries.libz3.files.x86_64 in packaging.yaml:", "not an ELF file"}},
		{"files: source missing", strings.Replace(demo, "- src: ../fixtures/demo/README.md", "- src: ../fixtures/demo/README.txt", 1), nil, []string{
			"packaging.yaml:", "files[0].src ../fixtures/demo/README.txt does not exist"}},
		{"private library lacks an import", strings.Replace(strings.Replace(private("../fixtures/x86_64/libz3.so.4"), gnu, "x86_64-unknown-linux-gnu: ../fixtures/x86_64/z3-app", 1),
			`glibc: "2.28"`, `glibc: "2.34"`, 1), nil, []string{
			"target debian12: input x86_64-unknown-linux-gnu imports Z3_mk_int, which no private library defines (../fixtures/x86_64/libz3.so.4)"}},
		{"private library of another soname", private("../fixtures/x86_64/libz3.so.4.8"), nil, []string{
			"private library ../fixtures/x86_64/libz3.so.4.8 (libraries.libz3.files.x86_64 in packaging.yaml:", `has SONAME "libz3.so.4.8"`}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.config == demo && c.args == nil {
				t.Fatal("the case changes nothing")
			}
			dir := filepath.Join(root, "case"+string(rune('a'+i)))
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "packaging.yaml"), []byte(c.config), 0o644); err != nil {
				t.Fatal(err)
			}
			before := treeState(t, root+"/fixtures/x86_64")
			for _, json := range []bool{false, true} {
				args := append([]string{"build", "-c", "packaging.yaml", "--version", demoVer, "--out", "dist"}, c.args...)
				if json {
					args = append(args, "--json")
				}
				stdout, stderr, err := run(dir, nil, bin, args...)
				ee, ok := err.(*exec.ExitError)
				if !ok || ee.ExitCode() != 1 {
					t.Fatalf("--json=%v: want exit 1, got %v\n%s%s", json, err, stdout, stderr)
				}
				for _, w := range c.want {
					if !strings.Contains(stderr, w) {
						t.Errorf("--json=%v: stderr lacks %q:\n%s", json, w, stderr)
					}
				}
				if strings.Contains(stdout+stderr, ".relpack-staging") || strings.Contains(stdout+stderr, ".sources/") {
					t.Errorf("--json=%v: the message names the staging copy:\n%s%s", json, stdout, stderr)
				}
				if strings.Contains(stderr, root) {
					t.Errorf("--json=%v: the message names an absolute path, not the one given:\n%s", json, stderr)
				}
				if entries, _ := os.ReadDir(filepath.Join(dir, "dist")); len(entries) > 0 {
					t.Errorf("--json=%v: a refused build left %v in --out", json, entries)
				}
			}
			sameState(t, "fixtures", treeState(t, root+"/fixtures/x86_64"), before)
		})
	}
}

// TestRunpathErrorNamesInput: elfedit names the file it reads, the
// build's copy; the refusal names the input as given instead. (No input
// that passes inspection is known to make elfedit refuse, so the copy here
// is a file elfedit cannot edit.)
func TestRunpathErrorNamesInput(t *testing.T) {
	dir := t.TempDir()
	copyPath := filepath.Join(dir, ".relpack-staging-1", ".sources", "0", "app")
	os.MkdirAll(filepath.Dir(copyPath), 0o700)
	if err := os.WriteFile(copyPath, []byte("not an ELF file at all"), 0o600); err != nil {
		t.Fatal(err)
	}
	in := &Input{Triple: "x86_64-unknown-linux-gnu", Path: "build/app", Data: copyPath}
	err := setRunpath(in, in.Data, filepath.Join(dir, "edited"), SidecarRunpath, "the sidecar tarball")
	if err == nil {
		t.Fatal("no error")
	}
	if !strings.Contains(err.Error(), "input x86_64-unknown-linux-gnu (build/app): setting RUNPATH for the sidecar tarball: ") ||
		strings.Contains(err.Error(), ".relpack-staging") || strings.Contains(err.Error(), dir) {
		t.Errorf("the refusal does not name the input as given: %v", err)
	}
}
