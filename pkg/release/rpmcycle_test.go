package release

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"relpack/internal/rpmroot"
	"relpack/internal/testdeps"
	"relpack/pkg/config"
)

// The rpm side of issue 11's service lifecycle, proven with the real rpm:
// the demo release with a system-scope unit, built for el8 (xz) and el9
// (zstd) in four successive versions, installed with `rpm --root`,
// upgraded with `rpm -U` through each (no --oldpackage: rpm refuses a
// downgrade), and erased, with the scriptlets run. The root is minimal:
// /bin/sh (this machine's dash and the libraries it loads) and a stand-in
// /usr/bin/systemctl that logs each call; every other requirement of the
// package (glibc, z3-libs, systemd) comes from a stand-in package that
// provides them, so rpm checks every dependency, rpmlib() ones included,
// without --nodeps, and orders the transaction as on a real system.

const rpmCycleUnit = "openshell-gateway.service"

// rpmCycleVersions are successive releases; rpm must take each as an
// upgrade of the one before.
var rpmCycleVersions = []string{"0.0.63", "0.0.64-dev.3+gabc", "0.1.0-rc.1", "0.1.0"}

// rpmCycleConfig is the demo configuration with a system-scope unit and
// only the x86_64 gnu input of the el8 and el9 targets.
func rpmCycleConfig(t *testing.T, edit func(*config.Systemd)) *config.Config {
	t.Helper()
	c := loadDemo(t)
	s := *c.Systemd
	s.Scope = "system"
	if edit != nil {
		edit(&s)
	}
	c.Systemd = &s
	const triple = "x86_64-unknown-linux-gnu"
	c.Inputs = map[string]string{triple: c.Inputs[triple]}
	var targets []config.Target
	for _, tg := range c.Targets {
		if tg.ID == "el8" || tg.ID == "el9" {
			if p, ok := tg.Inputs[triple]; ok {
				tg.Inputs = map[string]string{triple: p}
			}
			targets = append(targets, tg)
		}
	}
	if len(targets) != 2 {
		t.Fatalf("the demo config has no el8 and el9 targets: %+v", targets)
	}
	c.Targets = targets
	return c
}

// standInProvider writes an rpm that provides every non-rpmlib
// requirement of rpmFile ("glibc >= 2.28" as "glibc = 2.28", a bare name
// as itself): the packages an EL system would have installed.
func standInProvider(t *testing.T, rpmFile, dir string) string {
	t.Helper()
	var provides []string
	for _, l := range lines(sh(t, "", "rpm", "-qp", "--qf", "[%{REQUIRENAME}|%{REQUIREVERSION}\n]", rpmFile)) {
		name, ver, _ := strings.Cut(l, "|")
		switch {
		case strings.HasPrefix(name, "rpmlib("):
		case ver == "":
			provides = append(provides, name)
		default:
			provides = append(provides, name+" = "+ver)
		}
	}
	return rpmroot.StandIn(t, dir, "el-base-standin", "1", provides)
}

func TestServiceLifecycleRPM(t *testing.T) {
	if os.Getuid() != 0 {
		t.Fatal("this test needs root (rpm runs scriptlets chrooted into --root); CI runs as root")
	}
	testdeps.Tools(t, "rpm")

	// The calls each step makes to systemctl, in order: those of the
	// %systemd_post, %systemd_preun and %systemd_postun_with_restart
	// (%systemd_postun) macros for this unit, with their $1 semantics —
	// %post on the first install only ($1 == 1), %preun on the last
	// erase only ($1 == 0), the restart in %postun on upgrade only
	// ($1 >= 1), run by the old package after the new one is in — plus
	// the daemon-reload that systemd's own rpm file triggers run when a
	// unit file is added or removed (a root without systemd has no
	// triggers, so pkg/lifecycle's %postun does it). "enable" replaces the
	// macro's "preset" when systemd.enable is true: a preset policy that
	// does not list the unit (EL's default "disable *") would leave it off.
	type step struct{ install, upgrade, erase []string }
	u := rpmCycleUnit
	cases := []struct {
		name      string
		edit      func(*config.Systemd)
		running   bool
		noSystemd bool // no systemctl at all: every scriptlet still exits 0
		want      step
	}{
		{"enable,restart,running", nil, true, false, step{
			install: []string{"--no-reload enable " + u},
			upgrade: []string{"daemon-reload", "try-restart " + u},
			erase:   []string{"--no-reload disable --now " + u, "daemon-reload"},
		}},
		{"enable,restart,offline", nil, false, false, step{
			// not running (a chroot, an image build): enablement
			// links only, nothing started, stopped or reloaded
			install: []string{"--no-reload enable " + u},
			erase:   []string{"--no-reload disable " + u},
		}},
		{"enable,restart,no-systemctl", nil, true, true, step{}},
		{"preset,norestart,running", func(s *config.Systemd) {
			f := false
			s.Enable, s.RestartOnUpgrade = &f, &f
		}, true, false, step{
			install: []string{"--no-reload preset " + u},
			upgrade: []string{"daemon-reload"},
			erase:   []string{"--no-reload disable --now " + u, "daemon-reload"},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := rpmCycleConfig(t, c.edit)
			builds := make([]string, len(rpmCycleVersions))
			for i, v := range rpmCycleVersions {
				builds[i] = filepath.Join(t.TempDir(), "dist")
				if _, err := Run(Options{Config: cfg, Version: v, OutDir: builds[i], Epoch: DefaultEpoch}); err != nil {
					t.Fatalf("build %s: %v", v, err)
				}
			}
			for _, distro := range []string{"el8", "el9"} {
				t.Run(distro, func(t *testing.T) {
					rpmCycle(t, builds, distro, c.running, !c.noSystemd, c.want.install, c.want.upgrade, c.want.erase)
				})
			}
		})
	}
}

// rpmCycle installs the first build's rpm for distro into a fresh root,
// upgrades through the others and erases the package, checking the
// systemctl calls of each step, the installed version and files.
func rpmCycle(t *testing.T, builds []string, distro string, running, systemctl bool, install, upgrade, erase []string) {
	root := rpmroot.ShellRoot(t, running, systemctl)
	rpms := make([]string, len(builds))
	evrs := make([]string, len(builds))
	for i, b := range builds {
		found := filesIn(t, b, "openshell-gateway-[0-9]*."+distro+".x86_64.rpm")
		if len(found) != 1 {
			t.Fatalf("%s: %s x86_64 rpms: %v", b, distro, found)
		}
		rpms[i] = found[0]
		evrs[i] = strings.TrimSpace(sh(t, "", "rpm", "-qp", "--qf", "%{VERSION}-%{RELEASE}", found[0]))
	}
	if distro == "el9" && !strings.Contains(sh(t, "", "rpm", "-qp", "--requires", rpms[0]), "rpmlib(PayloadIsZstd) <= 5.4.18-1") {
		t.Errorf("the el9 rpm does not require rpmlib(PayloadIsZstd)")
	}
	// rpmlint with the one list of accepted messages says nothing about
	// the service package (scriptlets included).
	// One package alone may not draw every message the file accepts: an
	// el8 package ships its own libz3 (a library under /usr/lib, no
	// explicit z3-libs dependency), so those two filters go unused for it,
	// and only then (TestRpmlintOnEveryRpm lints the demo's rpms together,
	// where every filter must be used).
	last := rpms[len(rpms)-1]
	o, e, _ := run("", nil, testdeps.Tool(t, "rpmlint"), "-r", "../pack/rpmlintrc", last)
	reqs := sh(t, "", "rpm", "-qp", "--requires", last)
	listing := sh(t, "", "rpm", "-qpl", last)
	var unexplained []string
	for _, l := range strings.Split(o, "\n") {
		if !strings.Contains(l, ": E: ") && !strings.Contains(l, ": W: ") {
			continue
		}
		switch {
		case strings.Contains(l, `unused-rpmlintrc-filter "E: explicit-lib-dependency`) && !strings.Contains(reqs, "z3-libs"):
		case strings.Contains(l, `unused-rpmlintrc-filter "W: only-non-binary-in-usr-lib`) && strings.Contains(listing, "/usr/lib/openshell-gateway/"):
		case len(rpmlintLeft(l)) == 0: // what splitting debug symbols draws
		default:
			unexplained = append(unexplained, l)
		}
	}
	if len(unexplained) > 0 || !strings.Contains(o, "1 packages and 0 specfiles checked") {
		t.Errorf("rpmlint -r ../pack/rpmlintrc %s:\n%s%s", filepath.Base(last), o, e)
	}
	rpm := func(step string, args ...string) {
		t.Helper()
		o, e, err := run("", []string{"LC_ALL=C"}, "rpm", append([]string{"--root", root}, args...)...)
		// rpm reports a failing scriptlet as a warning and goes on.
		if err != nil || strings.Contains(o+e, "scriptlet failed") {
			t.Fatalf("%s: rpm %s: %v\n%s%s", step, strings.Join(args, " "), err, o, e)
		}
	}
	logFile := filepath.Join(root, "var/log/systemctl.log")
	calls := func(step string, want []string) {
		t.Helper()
		data, _ := os.ReadFile(logFile)
		os.Remove(logFile)
		if got := lines(string(data)); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s: systemctl calls:\n%s\nwant:\n%s", step, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	unit := filepath.Join(root, "usr/lib/systemd/system", rpmCycleUnit)
	installed := func(step, evr string) {
		t.Helper()
		o, _, err := run("", nil, "rpm", "--root", root, "-q", "--qf", "%{VERSION}-%{RELEASE}", "openshell-gateway")
		if err != nil || o != evr {
			t.Errorf("%s: installed %q (%v), want %s", step, o, err, evr)
		}
		if _, err := os.Stat(unit); err != nil {
			t.Errorf("%s: %v", step, err)
		}
		if o, e, err := run("", nil, "rpm", "--root", root, "-V", "openshell-gateway"); err != nil {
			t.Errorf("%s: rpm -V: %v\n%s%s", step, err, o, e)
		}
	}

	rpm("initdb", "--initdb")
	rpm("stand-in", "-i", standInProvider(t, rpms[0], t.TempDir()))
	// The folders an EL system has before the package comes (owned by
	// filesystem and systemd there): rpm creates a missing parent folder
	// but, owning it in no package, leaves it on erase.
	mine := map[string]bool{}
	var files []string
	for _, r := range rpms {
		files = append(files, lines(sh(t, "", "rpm", "-qpl", r))...)
	}
	for _, f := range files {
		mine[f] = true
	}
	for _, f := range files {
		for d := filepath.Dir(f); d != "/"; d = filepath.Dir(d) {
			if !mine[d] {
				if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if err := os.MkdirAll(filepath.Join(root, "var/tmp"), 0o1777); err != nil {
		t.Fatal(err)
	}
	before := treeOf(t, root)

	step := "install " + evrs[0]
	rpm(step, "-i", rpms[0])
	calls(step, install)
	installed(step, evrs[0])
	for i := 1; i < len(rpms); i++ {
		step := "upgrade " + evrs[i-1] + " -> " + evrs[i]
		rpm(step, "-U", rpms[i])
		calls(step, upgrade)
		installed(step, evrs[i])
		// Going back is a downgrade, which rpm -U refuses.
		if o, e, err := run("", []string{"LC_ALL=C"}, "rpm", "--root", root, "-U", "--test", rpms[i-1]); err == nil {
			t.Errorf("%s: rpm -U of the older %s passes --test; the versions do not sort:\n%s%s", step, evrs[i-1], o, e)
		}
	}
	rpm("erase", "-e", "openshell-gateway")
	calls("erase", erase)
	if _, err := os.Lstat(unit); err == nil {
		t.Errorf("erase: the unit file is left")
	}
	// Everything the package brought went with it (rpm's own database
	// and the systemctl log apart).
	if diff := treeDiff(before, treeOf(t, root)); diff != "" {
		t.Errorf("after erase the root differs from before the install:\n%s", diff)
	}
}

// treeOf lists root's paths with their types, leaving out rpm's database.
func treeOf(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(p, root)
		if rel == "/var/lib/rpm" || strings.HasPrefix(rel, "/var/lib/rpm/") || rel == "/var/log/systemctl.log" {
			return nil
		}
		out[rel] = fi.Mode().String()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func treeDiff(before, after map[string]string) string {
	var diff []string
	for p, d := range after {
		if before[p] != d {
			diff = append(diff, fmt.Sprintf("+ %s %s", p, d))
		}
	}
	for p, d := range before {
		if _, ok := after[p]; !ok {
			diff = append(diff, fmt.Sprintf("- %s %s", p, d))
		}
	}
	sort.Strings(diff)
	return strings.Join(diff, "\n")
}
