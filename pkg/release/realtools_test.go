package release

import (
	"fmt"
	"os"
	"path/filepath"
	"relpack/internal/aptroot"
	"relpack/internal/clitest"
	"relpack/internal/rpmroot"
	"relpack/internal/testdeps"
	"sort"
	"strings"
	"testing"
)

// TestRPMUnmetRequiresEqualDerived installs each rpm into an empty rpm
// database with --test: what rpm reports as unmet must be exactly what
// relpack derived (rpm itself satisfies only its rpmlib() features).
func TestRPMUnmetRequiresEqualDerived(t *testing.T) {
	testdeps.Tools(t, "rpm")
	dist := demoDist(t)
	m := readManifest(t, dist)
	for _, a := range m.Artifacts {
		if a.Kind != "rpm" || a.Arch != "x86_64" {
			continue
		}
		root := t.TempDir()
		sh(t, "", "rpm", "--root", root, "--initdb")
		_, stderr, err := run("", nil, "rpm", "--root", root, "--ignorearch", "-i", "--test", filepath.Join(dist, a.File))
		if err == nil {
			t.Fatalf("%s installed into an empty root", a.File)
		}
		// The service scriptlets' needs (/bin/sh, systemd) are unmet in
		// an empty root too; they are the package's, not the binary's.
		scriptlets := scriptletRequires(t, filepath.Join(dist, a.File))
		var unmet []string
		for _, l := range lines(stderr) {
			if r, ok := strings.CutSuffix(l, " is needed by "+strings.TrimSuffix(strings.TrimSuffix(a.File, ".rpm"), "."+a.Arch)+"."+a.Arch); ok && !scriptlets[r] {
				unmet = append(unmet, r)
			}
		}
		sort.Strings(unmet)
		if strings.Join(unmet, "\n") != strings.Join(a.Relations, "\n") {
			t.Errorf("%s: unmet\n %q\nderived\n %q\n(stderr %s)", a.File, unmet, a.Relations, stderr)
		}
	}
}

// TestRPMInstallsOnEL8LikeDatabase resolves the el8 rpm against an rpm
// database holding only what EL8's own repositories provide (glibc, bash,
// systemd): it installs, since no repository of EL8 ships Z3 and the el8
// packages carry their own. The el9 rpm needs z3-libs (from EPEL 9): it
// fails without, naming it, and installs with it.
func TestRPMInstallsOnEL8LikeDatabase(t *testing.T) {
	testdeps.Tools(t, "rpm")
	dist := demoDist(t)
	el8 := filesIn(t, dist, "openshell-gateway-[0-9]*.el8.x86_64.rpm")
	el9 := filesIn(t, dist, "openshell-gateway-[0-9]*.el9.x86_64.rpm")
	if len(el8) != 1 || len(el9) != 1 {
		t.Fatalf("el8 rpms: %v, el9 rpms: %v", el8, el9)
	}
	providers := t.TempDir()
	mk := func(name, ver string, provides []string) string {
		return rpmroot.StandIn(t, providers, name, ver, provides)
	}
	glibcProvides := rpmroot.EL8GlibcProvides()
	glibc := mk("glibc", "2.28", glibcProvides)
	z3 := mk("z3-libs", "4.8.15", []string{"libz3.so.4.8()(64bit)"})

	root := t.TempDir()
	sh(t, "", "rpm", "--root", root, "--initdb")
	sh(t, "", "rpm", "--root", root, "-i", "--justdb", "--nodeps", "--ignorearch", glibc)
	// The service scriptlets' needs: /bin/sh and systemd, as on EL8.
	sh(t, "", "rpm", "--root", root, "-i", "--justdb", "--nodeps", "--ignorearch", mk("bash", "4.4.20", []string{"/bin/sh"}))
	sh(t, "", "rpm", "--root", root, "-i", "--justdb", "--nodeps", "--ignorearch", mk("systemd", "239", nil))
	if _, stderr, err := run("", nil, "rpm", "--root", root, "-i", "--test", "--ignorearch", el8[0]); err != nil {
		t.Errorf("with EL8's own glibc, bash and systemd, the el8 rpm should install: %v\n%s", err, stderr)
	}
	_, stderr, err := run("", nil, "rpm", "--root", root, "-i", "--test", "--ignorearch", el9[0])
	if err == nil || !strings.Contains(stderr, "z3-libs is needed by") || !strings.Contains(stderr, "libz3.so.4.8()(64bit) is needed by") {
		t.Errorf("el9 without z3-libs: err %v\n%s", err, stderr)
	}
	if strings.Contains(stderr, "GLIBC_") {
		t.Errorf("the glibc stand-in should satisfy every libc requirement:\n%s", stderr)
	}
	sh(t, "", "rpm", "--root", root, "-i", "--justdb", "--nodeps", "--ignorearch", z3)
	if _, stderr, err := run("", nil, "rpm", "--root", root, "-i", "--test", "--ignorearch", el9[0]); err != nil {
		t.Errorf("with z3-libs provided (EPEL 9), the el9 rpm should install: %v\n%s", err, stderr)
	}
}

// TestDebInstallsInBullseye installs the debian11 deb with apt into a
// debootstrapped bullseye root (glibc 2.31), letting apt pull libz3-4, and
// starts the installed binary with LD_BIND_NOW=1.
func TestDebInstallsInBullseye(t *testing.T) {
	root := aptroot.Bullseye(t)
	debs := filesIn(t, demoDist(t), "*~deb11_amd64.deb")
	if len(debs) != 1 {
		t.Fatalf("debian11 amd64 debs: %v", debs)
	}
	sh(t, "", "cp", debs[0], filepath.Join(root, "tmp/gateway.deb"))
	aptroot.MustRun(t, root, "apt-get", "update", "-qq")
	o, e, err := aptroot.Run(root, "apt-get", "install", "-y", "-q", "--no-install-recommends", "/tmp/gateway.deb")
	if err != nil {
		t.Fatalf("apt-get install: %v\n%s%s", err, o, e)
	}
	if !strings.Contains(o, "libz3-4") {
		t.Errorf("apt did not pull libz3-4:\n%s", o)
	}
	o, e, err = aptroot.Run(root, "env", "LD_BIND_NOW=1", "/usr/bin/openshell-gateway", "--version")
	if err != nil {
		t.Fatalf("installed binary did not start: %v\n%s%s", err, o, e)
	}
	if !strings.Contains(o, "openshell-gateway demo") || !strings.Contains(o, "libz3.so.4") {
		t.Errorf("--version printed %q", o)
	}
	if _, err := os.Stat(filepath.Join(root, "usr/lib/systemd/user/openshell-gateway.service")); err != nil {
		t.Errorf("unit not installed: %v", err)
	}
}

// TestReproducible builds the demo twice in child processes with different
// TZ and umask and compares SHA256SUMS byte for byte.
func TestReproducible(t *testing.T) {
	bin := clitest.Bin(t)
	cfg, _ := filepath.Abs(demoConfig)
	sums := make([]string, 2)
	for i, env := range [][2]string{{"UTC", "022"}, {"Pacific/Kiritimati", "077"}} {
		out := filepath.Join(t.TempDir(), "dist")
		o, e, err := run("", []string{"TZ=" + env[0], "SOURCE_DATE_EPOCH=1700000000"}, "sh", "-c",
			fmt.Sprintf("umask %s && exec %s build -q -c %s --version %s --out %s", env[1], bin, cfg, demoVer, out))
		if err != nil {
			t.Fatalf("build %d: %v\n%s%s", i, err, o, e)
		}
		b, err := os.ReadFile(filepath.Join(out, "SHA256SUMS"))
		if err != nil {
			t.Fatal(err)
		}
		sums[i] = string(b)
	}
	if sums[0] != sums[1] {
		t.Errorf("builds differ:\n%s\n---\n%s", sums[0], sums[1])
	}
	if !strings.Contains(sums[0], "manifest.json") || strings.Count(sums[0], "\n") != 128 { // 22 artifacts and 20 debug artifacts, 84 SBOMs, the provenance, the manifest
		t.Errorf("SHA256SUMS:\n%s", sums[0])
	}
}
