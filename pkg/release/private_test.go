package release

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"relpack/internal/testdeps"
	"relpack/pkg/config"
	"relpack/pkg/manifest"
)

// demoWith is the demo configuration with its targets: section replaced
// by tail (targets and anything after them, e.g. libraries:), parsed as
// testdata/demo/packaging.yaml so relative paths and lines hold.
func demoWith(t *testing.T, tail string) *config.Config {
	t.Helper()
	data, err := os.ReadFile(demoConfig)
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	i := strings.Index(s, "\ntargets:\n")
	if i < 0 {
		t.Fatal("the demo configuration has no targets: section")
	}
	abs, err := filepath.Abs(demoConfig)
	if err != nil {
		t.Fatal(err)
	}
	c, err := config.Parse(abs, filepath.Dir(abs), []byte(s[:i+1]+tail))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// privateZ3 ships the fixtures' stub libz3.so.4 in the debian11, debian12
// and el9 packages (el9's z3-libs is libz3.so.4.8, which the Debian-linked
// demo binary cannot load); ubuntu2204 still depends on libz3-4.
const privateZ3 = `targets:
  - debian11
  - debian12
  - el9
  - ubuntu2204
libraries:
  libz3:
    why: the z3 crate needs a newer Z3 than these distros ship
    files:
      x86_64: ../fixtures/x86_64/libz3.so.4
      aarch64: ../fixtures/aarch64/libz3.so.4
    private: [debian11, debian12, el9]
`

// privateDist builds privateZ3 into a folder of the test.
func privateDist(t *testing.T) (string, *manifest.Manifest) {
	t.Helper()
	dir := t.TempDir()
	if _, err := Run(Options{Config: demoWith(t, privateZ3), Version: "1.0.0", OutDir: dir, Epoch: DefaultEpoch}); err != nil {
		t.Fatalf("private build: %v", err)
	}
	return dir, readManifest(t, dir)
}

func fileSHA256(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// TestPrivateLibraryPackages reads the packages with dpkg-deb, rpm and
// readelf: the private targets carry /usr/lib/openshell-gateway/libz3.so.4
// (the configured file, byte for byte), their binary's RUNPATH points
// there, and neither Depends nor Requires nor Provides names Z3; the
// target that is not private still depends on libz3-4.
func TestPrivateLibraryPackages(t *testing.T) {
	testdeps.Tools(t, "dpkg-deb", "rpm", "readelf")
	dist, m := privateDist(t)
	const lib = "/usr/lib/openshell-gateway/libz3.so.4"
	stub := map[string]string{
		"x86_64":  fileSHA256(t, "../../testdata/fixtures/x86_64/libz3.so.4"),
		"aarch64": fileSHA256(t, "../../testdata/fixtures/aarch64/libz3.so.4"),
	}
	private := map[string]bool{"debian11": true, "debian12": true, "el9": true}
	seen := map[string]int{}
	for _, a := range m.Artifacts {
		if a.Kind == "tarball" {
			continue
		}
		seen[a.Distro]++
		p := filepath.Join(dist, a.File)
		if !private[a.Distro] {
			if a.Z3 != "unbundled" || a.Z3Package != "libz3-4" || a.Runpath != "" || a.Sidecar != nil {
				t.Errorf("%s (not private): %+v", a.File, a)
			}
			if dep := sh(t, "", "dpkg-deb", "-f", p, "Depends"); !strings.Contains(dep, "libz3-4") {
				t.Errorf("%s Depends %q lacks libz3-4", a.File, dep)
			}
			if out := sh(t, "", "dpkg-deb", "-c", p); strings.Contains(out, "libz3") {
				t.Errorf("%s ships a libz3:\n%s", a.File, out)
			}
			continue
		}
		if a.Z3 != "private" || a.Z3Package != "" || a.Runpath != "/usr/lib/openshell-gateway" || a.Sidecar == nil ||
			a.Sidecar.Path != "usr/lib/openshell-gateway/libz3.so.4" || a.Sidecar.SHA256 != stub[a.Arch] {
			t.Errorf("%s manifest entry: %+v %+v", a.File, a, a.Sidecar)
		}
		for _, r := range a.Relations {
			if strings.Contains(r, "z3") {
				t.Errorf("%s relation %q names Z3", a.File, r)
			}
		}
		x := t.TempDir()
		switch a.Kind {
		case "deb":
			if out := sh(t, "", "dpkg-deb", "-c", p); !strings.Contains(out, " ."+lib+"\n") {
				t.Errorf("%s does not ship %s:\n%s", a.File, lib, out)
			}
			if dep := sh(t, "", "dpkg-deb", "-f", p, "Depends"); strings.Contains(dep, "z3") {
				t.Errorf("%s Depends %q names Z3", a.File, dep)
			}
			sh(t, "", "dpkg-deb", "-x", p, x)
		case "rpm":
			if out := sh(t, "", "rpm", "-qpl", p); !strings.Contains(out, lib+"\n") {
				t.Errorf("%s does not ship %s:\n%s", a.File, lib, out)
			}
			for _, q := range []string{"--requires", "--provides"} {
				if out := sh(t, "", "rpm", "-qp", q, p); strings.Contains(out, "z3") {
					t.Errorf("rpm -qp %s %s names Z3:\n%s", q, a.File, out)
				}
			}
			testdeps.Tools(t, "rpm2cpio", "cpio")
			cmd := exec.Command("sh", "-c", `rpm2cpio "$1" | cpio -idm --quiet`, "sh", p)
			cmd.Dir = x
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("rpm2cpio %s: %v\n%s", a.File, err, out)
			}
		}
		if got := fileSHA256(t, filepath.Join(x, lib)); got != stub[a.Arch] {
			t.Errorf("%s: %s is not the configured file (sha256 %s)", a.File, lib, got)
		}
		dyn := sh(t, "", "readelf", "-dW", filepath.Join(x, "usr/bin/openshell-gateway"))
		if !strings.Contains(dyn, "(RUNPATH)") || !strings.Contains(dyn, "Library runpath: [/usr/lib/openshell-gateway]") {
			t.Errorf("%s: the binary's RUNPATH is not /usr/lib/openshell-gateway:\n%s", a.File, dyn)
		}
	}
	for _, id := range []string{"debian11", "debian12", "el9", "ubuntu2204"} {
		if seen[id] != 2 {
			t.Errorf("target %s: %d packages, want x86_64 and aarch64", id, seen[id])
		}
	}
}

// TestPrivateLibraryStartsWithoutSystemZ3 installs the debian11 package
// into a bullseye root and the debian12 package into a bookworm root, both
// without libz3-4, with dpkg in a copy of the root (the cached root stays
// untouched), and starts the binary there with
// LD_BIND_NOW=1: it loads the private stub (4.99.1.0) from
// /usr/lib/openshell-gateway. The demo's own package for the same target
// (no private library, Depends: libz3-4) is refused by dpkg on that root
// for want of libz3-4.
func TestPrivateLibraryStartsWithoutSystemZ3(t *testing.T) {
	if os.Getuid() != 0 {
		t.Fatal("needs root (mount, chroot); CI runs as root")
	}
	testdeps.Tools(t, "chroot", "sh", "cp")
	dist, m := privateDist(t)
	debs := func(dist string, m *manifest.Manifest) map[string]string {
		out := map[string]string{}
		for _, a := range m.Artifacts {
			if a.Kind == "deb" && a.Arch == "x86_64" {
				out[a.Distro] = filepath.Join(dist, a.File)
			}
		}
		return out
	}
	private, plain := debs(dist, m), debs(demoDist(t), readManifest(t, demoDist(t)))
	for _, c := range []struct{ suite, distro string }{{"bullseye", "debian11"}, {"bookworm", "debian12"}} {
		t.Run(c.suite, func(t *testing.T) {
			out, err := exec.Command(testdeps.Script(t, "scripts/debian-root.sh"), "amd64", c.suite).Output()
			if err != nil {
				t.Fatalf("scripts/debian-root.sh amd64 %s (needs root, debootstrap and the Debian mirror): %v", c.suite, err)
			}
			root := strings.TrimSpace(string(out))
			if _, err := os.Stat(filepath.Join(root, "usr/lib/x86_64-linux-gnu/libz3.so.4")); err == nil {
				t.Fatalf("%s has a system libz3: the test needs a root without one", root)
			}
			if private[c.distro] == "" || plain[c.distro] == "" {
				t.Fatalf("no x86_64 %s deb: %v %v", c.distro, private, plain)
			}
			work := t.TempDir()
			copyRoot(t, root, filepath.Join(work, "m"))
			for name, src := range map[string]string{"private.deb": private[c.distro], "plain.deb": plain[c.distro]} {
				b, err := os.ReadFile(src)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(work, "m/tmp", name), b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			// dpkg and the binary in a chroot of the copy. The plain
			// package must fail on libz3-4 first.
			script := `set -u
R=$1 W=$2
if chroot "$W/m" dpkg -i /tmp/plain.deb >"$W/plain.log" 2>&1; then echo "plain package installed without libz3-4"; exit 91; fi
chroot "$W/m" dpkg --purge openshell-gateway >/dev/null 2>&1
chroot "$W/m" dpkg -i /tmp/private.deb || exit 92
chroot "$W/m" dpkg -s libz3-4 >/dev/null 2>&1 && { echo "libz3-4 is installed"; exit 93; }
LD_BIND_NOW=1 chroot "$W/m" /usr/bin/openshell-gateway --version
`
			got, err := exec.Command("sh", "-c", script, "sh", root, work).CombinedOutput()
			refused, _ := os.ReadFile(filepath.Join(work, "plain.log"))
			if err != nil {
				t.Fatalf("install and start in %s: %v\n%s\nplain package: %s", root, err, got, refused)
			}
			if !strings.Contains(string(refused), "libz3-4") {
				t.Errorf("dpkg refused the plain package for another reason:\n%s", refused)
			}
			if !strings.Contains(string(got), "z3 4.99.1.0 from /usr/lib/openshell-gateway/libz3.so.4") {
				t.Errorf("the installed binary did not load its private libz3:\n%s", got)
			}
			if _, err := os.Stat(filepath.Join(root, "usr/bin/openshell-gateway")); err == nil {
				t.Errorf("the cached root %s was changed", root)
			}
		})
	}
}

// TestPrivateLibraryRefusals: the private library is held to the
// sidecar's checks, with the line of libraries.libz3.files.ARCH, and a
// refused build writes nothing.
func TestPrivateLibraryRefusals(t *testing.T) {
	lib := func(x86, arm string) string {
		s := "targets:\n  - debian12\nlibraries:\n  libz3:\n    files:\n      x86_64: " + x86 + "\n"
		if arm != "" {
			s += "      aarch64: " + arm + "\n"
		}
		return s + "    private: [debian12]\n"
	}
	host := "/usr/lib/x86_64-linux-gnu/libz3.so.4"
	cases := []struct {
		name, tail string
		want       []string
	}{
		{"soname", lib("../fixtures/x86_64/libz3.so.4.8", "../fixtures/aarch64/libz3.so.4"),
			[]string{"target debian12: private library", "libraries.libz3.files.x86_64 in", "packaging.yaml:", `has SONAME "libz3.so.4.8", but`, "needs libz3.so.4"}},
		{"machine", lib("../fixtures/aarch64/libz3.so.4", "../fixtures/aarch64/libz3.so.4"),
			[]string{"is built for aarch64; input x86_64-unknown-linux-gnu needs an x86_64 library"}},
		{"no file for the arch", lib("../fixtures/x86_64/libz3.so.4", ""),
			[]string{"target debian12", "libraries.libz3.files has no aarch64 file for input aarch64-unknown-linux-gnu"}},
		{"floor", lib(host, "../fixtures/aarch64/libz3.so.4"),
			[]string{"breaks the promised floor", "promise of the debian12 package", "GLIBC_2.34:", "GLIBCXX_3.4.30:", "Bundle a libz3 built against glibc 2.28"}},
		{"missing file", lib("../fixtures/x86_64/nonesuch.so", "../fixtures/aarch64/libz3.so.4"),
			[]string{"libraries.libz3.files.x86_64", "does not exist"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.name == "floor" {
				testdeps.File(t, host)
			}
			cfg := demoWith(t, c.tail)
			cfg.Tarball.Sidecar = nil
			out := filepath.Join(t.TempDir(), "dist")
			_, err := Run(Options{Config: cfg, Version: "1.0.0", OutDir: out, Epoch: DefaultEpoch})
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			if entries, _ := os.ReadDir(out); len(entries) > 0 {
				t.Errorf("a refused build left files: %v", entries)
			}
		})
	}
}

// TestSidecarCarriesAnyLibrary builds, at test time, a binary that needs
// libz3.so.4 and another library (libfoo.so.1). Its sidecar tarball
// carries both in lib/ (libz3 from tarball.sidecar.libraries, libfoo from
// libraries.libfoo.files), and the extracted binary loads both from there
// with LD_BIND_NOW=1, on a host whose own libz3 it must not use. Its
// debian12 package ships libfoo privately and still depends on libz3-4.
func TestSidecarCarriesAnyLibrary(t *testing.T) {
	testdeps.Tools(t, "gcc", "tar", "dpkg-deb")
	testdeps.File(t, "/usr/include/stdio.h")
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("foo.c", "int foo(void) { return 42; }\n")
	write("app.c", `#include <stdio.h>
void Z3_get_version(unsigned *, unsigned *, unsigned *, unsigned *);
int foo(void);
int main(void) {
	unsigned a, b, c, d;
	Z3_get_version(&a, &b, &c, &d);
	printf("z3 %u.%u.%u.%u foo %d\n", a, b, c, d, foo());
	return 0;
}
`)
	stub, err := filepath.Abs("../../testdata/fixtures/x86_64/libz3.so.4")
	if err != nil {
		t.Fatal(err)
	}
	license, _ := filepath.Abs("../../testdata/fixtures/demo/LICENSE")
	sh(t, dir, "gcc", "-shared", "-fPIC", "-Wl,-soname,libfoo.so.1", "-o", "libfoo.so.1", "foo.c")
	sh(t, dir, "gcc", "-o", "app", "app.c", stub, "libfoo.so.1")
	cfgText := `name: app
summary: a test program
maintainer: Test <test@example.org>
homepage: https://example.org
license: MIT
copyright: 2025 Test
license_file: ` + license + `
floor:
  glibc: "2.34"
inputs:
  x86_64-unknown-linux-gnu: app
tarball:
  sidecar:
    libraries:
      x86_64: ` + stub + `
libraries:
  libfoo:
    files:
      x86_64: libfoo.so.1
    private: [debian12]
targets:
  - id: debian12
    arches: [x86_64]
`
	cfg, err := config.Parse(write("packaging.yaml", cfgText), dir, []byte(cfgText))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "dist")
	var warn bytes.Buffer
	m, err := Run(Options{Config: cfg, Version: "1.0.0", OutDir: out, Epoch: DefaultEpoch, Warn: &warn})
	if err != nil {
		t.Fatal(err)
	}
	var tgz, deb string
	for _, a := range m.Artifacts {
		switch {
		case a.Kind == "tarball" && a.Sidecar != nil:
			tgz = filepath.Join(out, a.File)
			want := "bin/ bin/app lib/ lib/libfoo.so.1 lib/libz3.so.4"
			if strings.Join(a.Contents, " ") != want || a.Sidecar.Soname != "libz3.so.4" || a.Z3 != "sidecar" {
				t.Errorf("sidecar entry %+v %+v", a, a.Sidecar)
			}
		case a.Kind == "deb":
			deb = filepath.Join(out, a.File)
		}
	}
	if tgz == "" || deb == "" {
		t.Fatalf("no sidecar tarball or deb among %+v", m.Artifacts)
	}
	x := t.TempDir()
	sh(t, x, "tar", "-xzf", tgz)
	stdout, stderr, err := run(x, []string{"LD_BIND_NOW=1"}, filepath.Join(x, "bin/app"))
	if err != nil || stdout != "z3 4.99.1.0 foo 42\n" {
		t.Errorf("sidecar binary: %v\n%s%s", err, stdout, stderr)
	}
	if dep := sh(t, "", "dpkg-deb", "-f", deb, "Depends"); !strings.Contains(dep, "libz3-4") || strings.Contains(dep, "foo") {
		t.Errorf("deb Depends %q: want libz3-4 and nothing for libfoo", dep)
	}
	if c := sh(t, "", "dpkg-deb", "-c", deb); !strings.Contains(c, "./usr/lib/app/libfoo.so.1") || strings.Contains(c, "libz3") {
		t.Errorf("deb contents:\n%s", c)
	}

	// Without a file for libfoo, the sidecar is refused with the way out.
	delete(cfg.Libraries, "libfoo")
	cfg.Targets = cfg.Targets[:1]
	cfg.Targets[0].Sonames = map[string]string{"libfoo.so.1": "libfoo1", "libz3.so.4": "libz3-4"}
	_, err = Run(Options{Config: cfg, Version: "1.0.0", OutDir: filepath.Join(dir, "dist2"), Epoch: DefaultEpoch})
	if err == nil || !strings.Contains(err.Error(), "needs libfoo.so.1, which its sidecar tarball must carry") ||
		!strings.Contains(err.Error(), "libraries: {libfoo: {files: {x86_64: PATH/TO/libfoo.so.1}}}") {
		t.Errorf("missing sidecar file: %v", err)
	}
}

// TestSidecarLayoutUnchanged: the demo's sidecar tarballs hold what they
// held before sidecars carried any library (bin/, lib/ with libz3.so.4,
// the tarball files).
func TestSidecarLayoutUnchanged(t *testing.T) {
	m := readManifest(t, demoDist(t))
	n := 0
	for _, a := range m.Artifacts {
		if a.Sidecar == nil || a.Kind != "tarball" {
			continue
		}
		n++
		want := "LICENSE README.md bin/ bin/openshell-gateway lib/ lib/libz3.so.4"
		if got := strings.Join(a.Contents, " "); got != want {
			t.Errorf("%s contents %q, want %q", a.File, got, want)
		}
	}
	if n != 2 {
		t.Errorf("%d sidecar tarballs, want 2", n)
	}
}

// TestBundledLibraryExports: a sidecar or private library must define
// every symbol the binary imports from it (issue 10: the stub libz3 that
// exports only Z3_get_version was accepted for a binary importing
// Z3_mk_int). A binary built here imports both; the committed stub is
// refused for its sidecar tarball and for a private debian12 package,
// naming Z3_mk_int; a library that defines both is accepted.
func TestBundledLibraryExports(t *testing.T) {
	testdeps.Tools(t, "gcc")
	testdeps.File(t, "/usr/include/stdio.h")
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("z3full.c", `void Z3_get_version(unsigned *a, unsigned *b, unsigned *c, unsigned *d) { *a = 4; *b = 99; *c = 2; *d = 0; }
void *Z3_mk_int(void *c, int v, void *s) { (void)c; (void)s; return (void *)(long)v; }
`)
	write("app.c", `#include <stdio.h>
void Z3_get_version(unsigned *, unsigned *, unsigned *, unsigned *);
void *Z3_mk_int(void *, int, void *);
int main(void) {
	unsigned a, b, c, d;
	Z3_get_version(&a, &b, &c, &d);
	printf("z3 %u.%u.%u.%u %p\n", a, b, c, d, Z3_mk_int(0, 7, 0));
	return 0;
}
`)
	sh(t, dir, "gcc", "-shared", "-fPIC", "-Wl,-soname,libz3.so.4", "-o", "libz3.so.4", "z3full.c")
	sh(t, dir, "gcc", "-o", "app", "app.c", "libz3.so.4")
	stub, err := filepath.Abs("../../testdata/fixtures/x86_64/libz3.so.4")
	if err != nil {
		t.Fatal(err)
	}
	license, _ := filepath.Abs("../../testdata/fixtures/demo/LICENSE")
	cfgFor := func(lib string, sidecar bool) *config.Config {
		text := `name: app
summary: a test program
maintainer: Test <test@example.org>
homepage: https://example.org
license: MIT
copyright: 2025 Test
license_file: ` + license + `
floor:
  glibc: "2.34"
inputs:
  x86_64-unknown-linux-gnu: app
libraries:
  libz3:
    files:
      x86_64: ` + lib + `
    private: [debian12]
targets:
  - id: debian12
    arches: [x86_64]
`
		if sidecar {
			text += "tarball:\n  sidecar:\n    libraries:\n      x86_64: " + lib + "\n"
		}
		cfg, err := config.Parse(filepath.Join(dir, "packaging.yaml"), dir, []byte(text))
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	for _, sidecar := range []bool{true, false} {
		what := "private library"
		if sidecar {
			what = "sidecar library"
		}
		out := filepath.Join(t.TempDir(), "dist")
		_, err := Run(Options{Config: cfgFor(stub, sidecar), Version: "1.0.0", OutDir: out, Epoch: DefaultEpoch})
		if err == nil || !strings.Contains(err.Error(), "imports Z3_mk_int, which no "+what+" defines ("+stub+")") ||
			!strings.Contains(err.Error(), "undefined symbol") {
			t.Errorf("%s without Z3_mk_int: %v", what, err)
		}
		if !sidecar && (err == nil || !strings.Contains(err.Error(), "target debian12: ")) {
			t.Errorf("the private refusal does not name the target: %v", err)
		}
		if entries, _ := os.ReadDir(out); len(entries) > 0 {
			t.Errorf("a refused build left files: %v", entries)
		}
	}
	if _, err := Run(Options{Config: cfgFor("libz3.so.4", true), Version: "1.0.0", OutDir: filepath.Join(dir, "ok"), Epoch: DefaultEpoch}); err != nil {
		t.Errorf("a library that defines every import: %v", err)
	}
}

// TestPrivateByTarget: a target's own private: list has the effect of
// libraries.STEM.private naming it.
func TestPrivateByTarget(t *testing.T) {
	cfg := demoWith(t, `targets:
  - id: debian12
    private: [libz3]
  - debian11
libraries:
  libz3:
    files:
      x86_64: ../fixtures/x86_64/libz3.so.4
      aarch64: ../fixtures/aarch64/libz3.so.4
`)
	cfg.Tarball.Sidecar = nil
	m, err := Run(Options{Config: cfg, Version: "1.0.0", OutDir: t.TempDir(), Epoch: DefaultEpoch})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, a := range m.Artifacts {
		switch a.Distro {
		case "debian12":
			n++
			if a.Z3 != "private" || a.Z3Package != "" || a.Runpath != "/usr/lib/openshell-gateway" {
				t.Errorf("%s: %+v", a.File, a)
			}
		case "debian11":
			if a.Z3 != "unbundled" || a.Z3Package != "libz3-4" {
				t.Errorf("%s: %+v", a.File, a)
			}
		}
	}
	if n != 2 {
		t.Errorf("%d debian12 packages", n)
	}
}

// TestPrivateCxxRuntime: GCC's C++ runtime can be private too (a target
// whose libstdc++ is older than the binary needs). A g++ program packaged
// for debian11 and el8 with bullseye's libstdc++.so.6 private ships it;
// the deb's Depends keep libgcc-s1 but drop libstdc++6, the rpm requires
// no libstdc++.so.6 capability.
func TestPrivateCxxRuntime(t *testing.T) {
	testdeps.Tools(t, "dpkg-deb", "rpm")
	sr := bullseyeSysroot(t, "amd64")
	lib := filepath.Join(sr, "usr/lib/x86_64-linux-gnu/libstdc++.so.6")
	prog, _ := filepath.Abs("../../testdata/fixtures/x86_64/cxx-hello-bullseye")
	license, _ := filepath.Abs("../../testdata/fixtures/demo/LICENSE")
	dir := t.TempDir()
	text := `name: cxx
summary: a test program
maintainer: Test <test@example.org>
homepage: https://example.org
license: MIT
copyright: 2025 Test
license_file: ` + license + `
floor:
  glibc: "2.28"
inputs:
  x86_64-unknown-linux-gnu: ` + prog + `
libraries:
  libstdc++:
    files: {x86_64: ` + lib + `}
    private: ["*"]
targets:
  - id: debian11
    arches: [x86_64]
  - id: el8
    arches: [x86_64]
`
	cfg, err := config.Parse(filepath.Join(dir, "packaging.yaml"), dir, []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "dist")
	m, err := Run(Options{Config: cfg, Version: "1.0.0", OutDir: out, Epoch: DefaultEpoch})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, a := range m.Artifacts {
		p := filepath.Join(out, a.File)
		switch a.Kind {
		case "deb":
			dep := sh(t, "", "dpkg-deb", "-f", p, "Depends")
			if strings.Contains(dep, "libstdc++") || !strings.Contains(dep, "libgcc-s1") {
				t.Errorf("Depends %q: want libgcc-s1 and no libstdc++6", dep)
			}
			if c := sh(t, "", "dpkg-deb", "-c", p); !strings.Contains(c, "./usr/lib/cxx/libstdc++.so.6\n") {
				t.Errorf("contents:\n%s", c)
			}
		case "rpm":
			if req := sh(t, "", "rpm", "-qp", "--requires", p); strings.Contains(req, "libstdc++") || !strings.Contains(req, "libgcc_s.so.1") {
				t.Errorf("Requires: want libgcc_s.so.1 and nothing of libstdc++:\n%s", req)
			}
			if c := sh(t, "", "rpm", "-qpl", p); !strings.Contains(c, "/usr/lib/cxx/libstdc++.so.6\n") {
				t.Errorf("contents:\n%s", c)
			}
		default:
			continue
		}
		n++
		if a.Runpath != "/usr/lib/cxx" || a.Sidecar == nil || a.Sidecar.Soname != "libstdc++.so.6" {
			t.Errorf("manifest entry %+v %+v", a, a.Sidecar)
		}
	}
	if n != 2 {
		t.Errorf("%d packages, want a deb and an rpm", n)
	}
}
