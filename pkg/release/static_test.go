package release

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"relpack/internal/clitest"
	"relpack/internal/testdeps"
	"relpack/pkg/config"
	"relpack/pkg/docs"
	"relpack/pkg/manifest"
)

// staticConfig writes a packaging.yaml into dir whose only inputs are the
// given -musl builds (triple -> path), for the targets debian12 and el8,
// with a README file, a user service and split debug symbols: relpack's
// own release (issue 23), with everything a gnu package carries.
func staticConfig(t *testing.T, dir string, inputs map[string]string) *config.Config {
	t.Helper()
	fixtures, _ := filepath.Abs("../../testdata/fixtures")
	var in strings.Builder
	for triple, p := range inputs {
		in.WriteString("  " + triple + ": " + p + "\n")
	}
	yaml := `name: hello
summary: A static hello
description: A static binary, packaged for Debian and EL.
maintainer: Test <test@example.invalid>
vendor: Test
homepage: https://example.invalid
copyright: 2026 The test authors
license: Apache-2.0
license_file: ` + fixtures + `/demo/LICENSE
floor:
  glibc: "2.28"
inputs:
` + in.String() + `binary: /usr/bin/hello
files:
  - src: ` + fixtures + `/demo/README.md
    dst: /usr/share/doc/hello/README.md
systemd:
  unit: hello.service
  scope: user
  args: serve
tarball:
  files: [` + fixtures + `/demo/LICENSE]
targets: [debian12, el8]
debug_symbols:
  split: true
`
	p := filepath.Join(dir, "packaging.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// demoMusl is the demo's static musl gateways, by triple.
func demoMusl(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, arch := range []string{"x86_64", "aarch64"} {
		p, err := filepath.Abs("../../testdata/fixtures/demo/" + arch + "-unknown-linux-musl/openshell-gateway")
		if err != nil {
			t.Fatal(err)
		}
		out[arch+"-unknown-linux-musl"] = p
	}
	return out
}

// TestStaticMuslPackages builds a release whose only inputs are static
// musl binaries (no interpreter, no DT_NEEDED) for debian12 and el8: a deb
// and an rpm per arch are built, with their debug packages, and none of
// them relates to a C library or claims a glibc floor; the manifest is
// valid and the build warns about no missing package.
func TestStaticMuslPackages(t *testing.T) {
	testdeps.Tools(t, "dpkg-deb", "rpm")
	tmp := t.TempDir()
	cfg := staticConfig(t, tmp, demoMusl(t))
	out := filepath.Join(tmp, "dist")
	var warn bytes.Buffer
	m, err := Run(Options{Config: cfg, Version: "1.0.0", OutDir: out, Epoch: DefaultEpoch, Warn: &warn})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(warn.String(), "package was built") {
		t.Errorf("warns about a package it built:\n%s", warn.String())
	}
	if _, err := manifest.ReadValid(filepath.Join(out, "manifest.json")); err != nil {
		t.Errorf("manifest: %v", err)
	}
	kinds := map[string]int{}
	for _, a := range m.Artifacts {
		kinds[a.Kind]++
		if a.Kind != "deb" && a.Kind != "rpm" {
			continue
		}
		if a.Floor != "" || a.GlibcMeasured != "" || len(a.Relations) != 0 || a.Libc != "musl" || !strings.HasSuffix(a.Triple, "-musl") {
			t.Errorf("%s: floor %q, glibc_measured %q, relations %q, libc %q, triple %s; want no floor, no relations, musl", a.File, a.Floor, a.GlibcMeasured, a.Relations, a.Libc, a.Triple)
		}
		checkNoLibc(t, filepath.Join(out, a.File), a.Kind)
	}
	checkStaticDocs(t, m)
	for kind, n := range map[string]int{"deb": 2, "rpm": 2, "ddeb": 2, "debuginfo-rpm": 2, "tarball": 2, "debug-tarball": 2} {
		if kinds[kind] != n {
			t.Errorf("%d %s artifacts, want %d (all: %v)", kinds[kind], kind, n, kinds)
		}
	}
}

// checkNoLibc reads the package at p with the distro's own tool: no
// Depends at all for a deb (its service's scriptlets need nothing
// outside Essential); for an rpm only rpmlib() requires (and /bin/sh and
// systemd for its service), never glibc or libc.so.6; and a description
// that claims no glibc.
func checkNoLibc(t *testing.T, p, kind string) {
	t.Helper()
	if kind == "deb" {
		if dep := sh(t, "", "dpkg-deb", "-f", p, "Depends"); strings.TrimSpace(dep) != "" {
			t.Errorf("%s Depends: %q; want none", filepath.Base(p), dep)
		}
		if d := sh(t, "", "dpkg-deb", "-f", p, "Description"); strings.Contains(d, "glibc") || !strings.Contains(d, "needs no C library") {
			t.Errorf("%s Description: %q", filepath.Base(p), d)
		}
		return
	}
	for _, r := range lines(sh(t, "", "rpm", "-qp", "--requires", p)) {
		if !strings.HasPrefix(r, "rpmlib(") && r != "/bin/sh" && r != "systemd" {
			t.Errorf("%s requires %q; want only rpmlib() (and /bin/sh and systemd for its service)", filepath.Base(p), r)
		}
	}
	if d := sh(t, "", "rpm", "-qp", "--qf", "%{DESCRIPTION}", p); strings.Contains(d, "glibc") {
		t.Errorf("%s description claims glibc: %q", filepath.Base(p), d)
	}
}

// TestStaticMuslPartial: a partial build of the packages alone (--only
// deb, --only el8) reads the musl input, builds the packages and plans
// them; the tarball partial, which reads the same input, plans them too.
func TestStaticMuslPartial(t *testing.T) {
	tmp := t.TempDir()
	cfg := staticConfig(t, tmp, demoMusl(t))
	var planned [][]string
	for _, only := range []string{"deb", "el8", "tarball"} {
		m, err := Run(Options{Config: cfg, Version: "1.0.0", OutDir: filepath.Join(tmp, only), Epoch: DefaultEpoch, Only: []string{only}})
		if err != nil {
			t.Fatalf("--only %s: %v", only, err)
		}
		var names []string
		for _, p := range m.Planned {
			names = append(names, p.File)
		}
		planned = append(planned, names)
		n := 0
		for _, a := range m.Artifacts {
			if manifest.IsDebug(a.Kind) {
				continue
			}
			if a.Kind == only || a.Distro == only {
				n++
			}
		}
		if n != 2 {
			t.Errorf("--only %s built %d such artifacts, want 2: %v", only, n, m.Artifacts)
		}
	}
	for i := 1; i < len(planned); i++ {
		if !slices.Equal(planned[i], planned[0]) {
			t.Errorf("partial builds plan different releases:\n%v\n%v", planned[0], planned[i])
		}
	}
	if len(planned[0]) != 12 { // 2 tarballs, 2 debs, 2 rpms, and a debug artifact each
		t.Errorf("planned %d artifacts, want 12: %v", len(planned[0]), planned[0])
	}
}

// TestDynamicMuslNotPackaged: a dynamically linked musl input (musl's
// loader as its interpreter) is never packaged for a glibc distro: the
// build succeeds with its tarball, and warns once per target naming why.
func TestDynamicMuslNotPackaged(t *testing.T) {
	cc := testdeps.Tool(t, "musl-gcc")
	tmp := t.TempDir()
	src := filepath.Join(tmp, "hello.c")
	bin := filepath.Join(tmp, "hello")
	if err := os.WriteFile(src, []byte("int main(void) { return 0; }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command(cc, "-g", "-Wl,--build-id", "-o", bin, src).CombinedOutput(); err != nil {
		t.Fatalf("musl-gcc: %v\n%s", err, b)
	}
	cfg := staticConfig(t, tmp, map[string]string{"x86_64-unknown-linux-musl": bin})
	var warn bytes.Buffer
	m, err := Run(Options{Config: cfg, Version: "1.0.0", OutDir: filepath.Join(tmp, "dist"), Epoch: DefaultEpoch, Warn: &warn})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range m.Artifacts {
		if a.Kind != "tarball" && a.Kind != "debug-tarball" {
			t.Errorf("built %s (%s) from a dynamically linked musl input", a.File, a.Kind)
		}
	}
	for _, id := range []string{"debian12", "el8"} {
		want := "no x86_64 package was built for " + id + ": the release has no x86_64-unknown-linux-gnu input, and its x86_64-unknown-linux-musl input (" + bin + ") is dynamically linked (interpreter \"/lib/ld-musl-x86_64.so.1\""
		if !strings.Contains(warn.String(), want) || !strings.Contains(warn.String(), "only a fully static musl build is packaged") {
			t.Errorf("no warning says %q:\n%s", want, warn.String())
		}
	}
	// --only deb selects the deb of that input alone: it is refused,
	// saying why, and nothing is written.
	warn.Reset()
	deb := filepath.Join(tmp, "deb")
	_, err = Run(Options{Config: cfg, Version: "1.0.0", OutDir: deb, Epoch: DefaultEpoch, Warn: &warn, Only: []string{"deb"}})
	if err == nil || !strings.Contains(err.Error(), "--only deb selects no artifact this release builds") || !strings.Contains(warn.String(), "no x86_64 package was built for debian12") {
		t.Errorf("--only deb: %v; warned:\n%s", err, warn.String())
	}
	if es, _ := os.ReadDir(deb); len(es) != 0 {
		t.Errorf("--only deb left %v in %s", es, deb)
	}
}

// checkStaticDocs renders the install docs and install.sh of a release
// built from static musl inputs alone: they claim no glibc requirement,
// say the packages need no C library, and still show each package.
func checkStaticDocs(t *testing.T, m *manifest.Manifest) {
	t.Helper()
	md, err := docs.Markdown(m, "")
	if err != nil {
		t.Fatal(err)
	}
	text := string(md)
	for _, bad := range []string{"or newer**", "It needs `libc6", "It needs `glibc", "Requires: `glibc", "Depends: `libc6"} {
		if strings.Contains(text, bad) {
			t.Errorf("INSTALL.md of a static release says %q:\n%s", bad, text)
		}
	}
	for _, want := range []string{
		"Every build of this release is a static binary",
		"The packages for x86_64, aarch64 hold a static binary: they need no C library.",
		"sudo apt install ./hello_1.0.0-1~deb12_amd64.deb", "sudo dnf install ./hello-1.0.0-1.el8.aarch64.rpm",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("INSTALL.md does not say %q:\n%s", want, text)
		}
	}
	if _, err := docs.Installer(m, "https://example.invalid/r"); err != nil {
		t.Errorf("install.sh: %v", err)
	}
}

// TestStaticMuslMixed: the demo without its aarch64 gnu input packages the
// static aarch64 musl gateway for the targets that have no aarch64 build
// of their own (Debian, Ubuntu), with no libc relation, while x86_64 and
// the EL targets keep their glibc packages; INSTALL.md excepts the static
// packages from the glibc floor and names them per distro.
func TestStaticMuslMixed(t *testing.T) {
	cfg := loadDemo(t)
	delete(cfg.Inputs, "aarch64-unknown-linux-gnu")
	var warn bytes.Buffer
	m, err := Run(Options{Config: cfg, Version: "1.0.0", OutDir: filepath.Join(t.TempDir(), "dist"), Epoch: DefaultEpoch, Warn: &warn})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(warn.String(), "package was built") {
		t.Errorf("warns about a package it built:\n%s", warn.String())
	}
	static := 0
	for _, a := range m.Artifacts {
		if (a.Kind != "deb" && a.Kind != "rpm") || a.Arch != "aarch64" {
			continue
		}
		isEL := strings.HasPrefix(a.Distro, "el")
		if got := a.Libc == "musl"; got == isEL {
			t.Errorf("%s: libc %s", a.File, a.Libc)
		}
		if a.Libc == "musl" {
			static++
			if len(a.Relations) != 0 || a.Floor != "" {
				t.Errorf("%s: relations %q, floor %q", a.File, a.Relations, a.Floor)
			}
		} else if a.Floor != "2.28" || !slices.ContainsFunc(a.Relations, func(r string) bool { return strings.HasPrefix(r, "glibc >= ") }) {
			t.Errorf("%s: floor %q, relations %q; want the glibc floor", a.File, a.Floor, a.Relations)
		}
	}
	if static != 5 {
		t.Errorf("%d static aarch64 packages, want 5 (debian11-13, ubuntu2204, ubuntu2404)", static)
	}
	md, err := docs.Markdown(m, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"The glibc builds (every deb and rpm package but the static ones named below, and the gnu tarballs) need\n**glibc 2.28 or newer**",
		"It needs `libc6 (>= 2.28)`, which the distro's glibc 2.36 satisfies. The packages for aarch64 hold a static binary: they need no C library.",
	} {
		if !strings.Contains(string(md), want) {
			t.Errorf("INSTALL.md does not say %q:\n%s", want, md)
		}
	}
}

// TestStaticMuslSplitMerge: the static release built as two partials
// (--only x86_64, --only aarch64) and joined by relpack merge is the full
// build byte for byte, packages of the static inputs included.
func TestStaticMuslSplitMerge(t *testing.T) {
	tmp := t.TempDir()
	cfg := staticConfig(t, tmp, demoMusl(t))
	build := func(name string, args ...string) string {
		out := filepath.Join(tmp, name)
		args = append([]string{"build", "-q", "-c", cfg.File, "--version", "1.0.0", "--out", out}, args...)
		if o, e, code := clitest.Run(t, args...); code != 0 {
			t.Fatalf("relpack %s: exit %d\n%s%s", strings.Join(args, " "), code, o, e)
		}
		return out
	}
	full := build("full")
	px, pa := build("x86_64", "--only", "x86_64"), build("aarch64", "--only", "aarch64")
	merged := filepath.Join(tmp, "merged")
	if o, e, code := clitest.Run(t, "merge", px, pa, "--out", merged); code != 0 {
		t.Fatalf("relpack merge: exit %d\n%s%s", code, o, e)
	}
	names := func(d string) []string {
		es, err := os.ReadDir(d)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range es {
			out = append(out, e.Name())
		}
		return out
	}
	want := names(full)
	if got := names(merged); !slices.Equal(got, want) {
		t.Fatalf("the merged release holds %v, the full build %v", got, want)
	}
	debs := 0
	for _, n := range want {
		a, _ := os.ReadFile(filepath.Join(full, n))
		b, _ := os.ReadFile(filepath.Join(merged, n))
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between the full build and the merged one", n)
		}
		if strings.HasSuffix(n, ".deb") {
			debs++
		}
	}
	if debs != 2 {
		t.Errorf("%d debs in the release, want 2: %v", debs, want)
	}
}
