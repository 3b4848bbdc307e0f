package release

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"relpack/internal/rpmroot"
	"relpack/internal/testdeps"
	"relpack/pkg/config"
)

// minVersionConfig is the demo with `libraries: {libz3: {min_version}}`
// and two targets whose Z3 version relpack does not know (no captured
// facts): the build cannot refuse them, so the relation must make the
// package manager do it.
func minVersionConfig(t *testing.T) *config.Config {
	t.Helper()
	fixtures, _ := filepath.Abs("../../testdata/fixtures")
	cfg := hostileDemo(t, func(s string) string {
		s = s[:strings.Index(s, "targets:\n")]
		return s + `libraries:
  libz3:
    min_version: "4.8.17"
    why: the z3 crate 0.20 needs Z3 4.8.17
targets:
  - id: bullseye-plain
    name: Debian 11 without captured facts
    format: deb
    glibc: "2.31"
    compression: xz
    release_suffix: "~plain"
    arches: [x86_64]
    libc_package: libc6
    sonames:
      libz3.so.4: libz3-4
  - id: el9
    arches: [x86_64]
    inputs:
      x86_64-unknown-linux-gnu: ` + fixtures + `/demo/x86_64-unknown-linux-gnu-el8/openshell-gateway
`
	})
	c, err := config.Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestMinVersionRefusedByApt: the deb says libz3-4 (>= 4.8.17), and apt in
// a bullseye root (whose libz3-4 is 4.8.10) refuses to install it.
func TestMinVersionRefusedByApt(t *testing.T) {
	if os.Getuid() != 0 {
		t.Fatal("this test needs root (chroot); CI runs as root")
	}
	testdeps.Tools(t, "chroot", "cp", "dpkg-deb")
	out := filepath.Join(t.TempDir(), "dist")
	if _, err := Run(Options{Config: minVersionConfig(t), Version: demoVer, OutDir: out, Epoch: DefaultEpoch}); err != nil {
		t.Fatal(err)
	}
	debs := filesIn(t, out, "*~plain_amd64.deb")
	if len(debs) != 1 {
		t.Fatalf("debs: %v", debs)
	}
	if dep := sh(t, "", "dpkg-deb", "-f", debs[0], "Depends"); !strings.Contains(dep, "libz3-4 (>= 4.8.17)") {
		t.Fatalf("Depends: %s", dep)
	}
	o, stderr, err := run("", nil, testdeps.Script(t, "scripts/bullseye-root.sh"), "amd64")
	if err != nil {
		t.Fatalf("bullseye root: %v\n%s", err, stderr)
	}
	root := filepath.Join(t.TempDir(), "root")
	sh(t, "", "cp", "-a", strings.TrimSpace(o), root)
	sh(t, "", "cp", "/etc/resolv.conf", filepath.Join(root, "etc/resolv.conf"))
	sh(t, "", "cp", debs[0], filepath.Join(root, "tmp/gateway.deb"))
	env := []string{"DEBIAN_FRONTEND=noninteractive", "LC_ALL=C"}
	if o, e, err := run("", env, "chroot", root, "apt-get", "update", "-qq"); err != nil {
		t.Fatalf("apt-get update: %v\n%s%s", err, o, e)
	}
	o, e, err := run("", env, "chroot", root, "apt-get", "install", "-y", "-q", "--no-install-recommends", "/tmp/gateway.deb")
	if err == nil {
		t.Fatalf("apt installed a package needing libz3-4 (>= 4.8.17) on bullseye:\n%s", o)
	}
	if !strings.Contains(o+e, "Depends: libz3-4 (>= 4.8.17) but it is not going to be installed") {
		t.Errorf("apt's refusal does not name the relation:\n%s%s", o, e)
	}
	// ... because the only libz3-4 bullseye has is older.
	if pol := sh(t, "", "chroot", root, "apt-cache", "policy", "libz3-4"); !strings.Contains(pol, "Candidate: 4.8.10") {
		t.Errorf("bullseye's libz3-4 is not 4.8.10:\n%s", pol)
	}
}

// TestMinVersionRefusedByRpm: the el9 rpm requires z3-libs >= 4.8.17; an
// rpm database with z3-libs 4.8.7 refuses it, one with 4.8.17 accepts it.
func TestMinVersionRefusedByRpm(t *testing.T) {
	testdeps.Tools(t, "rpm")
	out := filepath.Join(t.TempDir(), "dist")
	if _, err := Run(Options{Config: minVersionConfig(t), Version: demoVer, OutDir: out, Epoch: DefaultEpoch}); err != nil {
		t.Fatal(err)
	}
	el9 := filesIn(t, out, "*.el9.x86_64.rpm")
	if len(el9) != 1 {
		t.Fatalf("rpms: %v", el9)
	}
	if req := sh(t, "", "rpm", "-qp", "--requires", el9[0]); !strings.Contains(req, "z3-libs >= 4.8.17\n") {
		t.Fatalf("requires:\n%s", req)
	}
	providers := t.TempDir()
	mk := func(name, ver string, provides []string) string {
		return rpmroot.StandIn(t, providers, name, ver, provides)
	}
	glibcProvides := rpmroot.EL8GlibcProvides()
	glibcPkg := mk("glibc", "2.28", glibcProvides)
	for _, c := range []struct {
		z3 string
		ok bool
	}{{"4.8.7", false}, {"4.8.17", true}} {
		root := t.TempDir()
		sh(t, "", "rpm", "--root", root, "--initdb")
		sh(t, "", "rpm", "--root", root, "-i", "--justdb", "--nodeps", "--ignorearch", glibcPkg)
		sh(t, "", "rpm", "--root", root, "-i", "--justdb", "--nodeps", "--ignorearch", mk("z3-libs", c.z3, []string{"libz3.so.4.8()(64bit)"}))
		// The service scriptlets' own needs (Requires(post): /bin/sh, systemd).
		sh(t, "", "rpm", "--root", root, "-i", "--justdb", "--nodeps", "--ignorearch", mk("bash", "4.4.20", []string{"/bin/sh"}))
		sh(t, "", "rpm", "--root", root, "-i", "--justdb", "--nodeps", "--ignorearch", mk("systemd", "239", nil))
		_, stderr, err := run("", nil, "rpm", "--root", root, "-i", "--test", "--ignorearch", el9[0])
		switch {
		case c.ok && err != nil:
			t.Errorf("z3-libs %s: refused: %s", c.z3, stderr)
		case !c.ok && (err == nil || !strings.Contains(stderr, "z3-libs >= 4.8.17 is needed by")):
			t.Errorf("z3-libs %s: err %v\n%s", c.z3, err, stderr)
		}
	}
}
