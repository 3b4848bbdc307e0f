package release

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"

	"relpack/internal/testdeps"
	"relpack/pkg/config"
	"relpack/templates"
)

// The service lifecycle of issue 11, proven with the real tools: the
// demo release with a system-scope unit, installed with apt into a
// debootstrapped Debian 11 root that has systemd installed (not running),
// upgraded through every version shape relpack converts, removed and
// purged. After each step the unit file, the enablement link, the state
// deb-systemd-helper keeps and the package status are checked; after the
// purge the root holds exactly the files it held before the install.

const lifecycleUnit = "openshell-gateway.service"

// lifecycleVersions are successive releases: each must be an upgrade for
// dpkg (apt-get -y refuses a downgrade without --allow-downgrades).
var lifecycleVersions = []struct{ semver, deb string }{
	{"0.0.63", "0.0.63-1~deb11"},
	{"0.0.64-dev.3+gabc", "0.0.64~dev.3+gabc-1~deb11"},
	{"0.1.0-rc.1", "0.1.0~rc.1-1~deb11"},
	{"0.1.0", "0.1.0-1~deb11"},
}

// systemConfig is the demo configuration with a system-scope unit
// (enabled by default) and only what the cycle needs: the x86_64 gnu
// input and the debian11 target.
func systemConfig(t *testing.T) *config.Config {
	t.Helper()
	return lifecycleConfig(t, "system", nil)
}

// lifecycleConfig is the demo configuration with the unit's scope and
// enable switch (nil: the default) set, for the x86_64 gnu input and the
// debian11 target only.
func lifecycleConfig(t *testing.T, scope string, enable *bool) *config.Config {
	t.Helper()
	c := loadDemo(t)
	s := *c.Systemd
	s.Scope = scope
	s.Enable = enable
	c.Systemd = &s
	c.Inputs = map[string]string{"x86_64-unknown-linux-gnu": c.Inputs["x86_64-unknown-linux-gnu"]}
	var targets []config.Target
	for _, tg := range c.Targets {
		if tg.ID == "debian11" {
			targets = append(targets, tg)
		}
	}
	if len(targets) != 1 {
		t.Fatalf("the demo config has no debian11 target: %+v", c.Targets)
	}
	c.Targets = targets
	return c
}

// systemdRoot returns a bullseye root with systemd and libz3-4 installed
// (through apt in a chroot, once, cached beside scripts/bullseye-root.sh's
// root under a lock), and a scratch copy of it for this test.
func systemdRoot(t *testing.T) string {
	t.Helper()
	testdeps.Tools(t, "chroot", "cp", "rm", "mv")
	out, stderr, err := run("", nil, testdeps.Script(t, "scripts/bullseye-root.sh"), "amd64")
	if err != nil {
		t.Fatalf("bullseye root (scripts/bullseye-root.sh needs root, debootstrap and the Debian mirror): %v\n%s", err, stderr)
	}
	base := strings.TrimSpace(out)
	cached := base + "-systemd"
	lock, err := os.OpenFile(filepath.Join(filepath.Dir(base), ".bullseye-systemd.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(cached, ".relpack-systemd-complete")); err != nil {
		tmp := cached + ".tmp"
		sh(t, "", "rm", "-rf", tmp)
		sh(t, "", "cp", "-a", base, tmp)
		sh(t, "", "cp", "/etc/resolv.conf", filepath.Join(tmp, "etc/resolv.conf"))
		env := []string{"DEBIAN_FRONTEND=noninteractive", "LC_ALL=C"}
		if o, e, err := run("", env, "chroot", tmp, "apt-get", "update", "-qq"); err != nil {
			t.Fatalf("apt-get update in the bullseye root: %v\n%s%s", err, o, e)
		}
		if o, e, err := run("", env, "chroot", tmp, "apt-get", "install", "-y", "-qq", "--no-install-recommends", "systemd", "libz3-4"); err != nil {
			t.Fatalf("installing systemd in the bullseye root: %v\n%s%s", err, o, e)
		}
		sh(t, "", "chroot", tmp, "apt-get", "clean")
		if err := os.WriteFile(filepath.Join(tmp, ".relpack-systemd-complete"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		sh(t, "", "rm", "-rf", cached)
		sh(t, "", "mv", tmp, cached)
	}
	root := filepath.Join(t.TempDir(), "root")
	sh(t, "", "cp", "-a", cached, root) // a copy: the cache stays pristine
	return root
}

// rootFiles lists every path of root (type and link target included),
// leaving out what apt and dpkg keep for themselves and scratch folders.
func rootFiles(t *testing.T, root string) map[string]string {
	t.Helper()
	skip := []string{"/proc", "/sys", "/dev", "/tmp", "/run", "/var/lib/dpkg", "/var/lib/apt", "/var/cache", "/var/log"}
	out := map[string]string{}
	err := filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(p, root)
		for _, s := range skip {
			if rel == s || strings.HasPrefix(rel, s+"/") {
				if fi.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
		}
		desc := fi.Mode().String()
		if fi.Mode()&os.ModeSymlink != 0 {
			l, _ := os.Readlink(p)
			desc += " -> " + l
		}
		out[rel] = desc
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestServiceLifecycleDeb(t *testing.T) {
	if os.Getuid() != 0 {
		t.Fatal("this test needs root (chroot); CI runs as root")
	}
	testdeps.Tools(t, "dpkg-deb", "lintian")

	// Build the four releases.
	cfg := systemConfig(t)
	debs := make([]string, len(lifecycleVersions))
	for i, v := range lifecycleVersions {
		out := filepath.Join(t.TempDir(), "dist")
		if _, err := Run(Options{Config: cfg, Version: v.semver, OutDir: out, Epoch: DefaultEpoch}); err != nil {
			t.Fatalf("build %s: %v", v.semver, err)
		}
		found := filesIn(t, out, "*~deb11_amd64.deb")
		if len(found) != 1 {
			t.Fatalf("build %s: debian11 amd64 debs: %v", v.semver, found)
		}
		if got := strings.TrimSpace(sh(t, "", "dpkg-deb", "-f", found[0], "Version")); got != v.deb {
			t.Fatalf("build %s: deb version %s, want %s", v.semver, got, v.deb)
		}
		// Every entry is root/root, changelog.Debian.gz included (nfpm
		// wrote it as 0/0 with no names).
		for _, l := range lines(sh(t, "", "dpkg-deb", "-c", found[0])) {
			if !strings.Contains(l, " root/root ") {
				t.Errorf("build %s: entry not owned by root/root: %s", v.semver, l)
			}
		}
		debs[i] = found[0]
	}
	lintSystemDeb(t, debs[len(debs)-1])

	// systemd installed, not running: as in a chroot, a container or an
	// image build. Nothing is started or stopped; enablement happens.
	t.Run("not-running", func(t *testing.T) { t.Parallel(); lifecycleCycle(t, debs, false) })
	// systemd "running": /run/systemd/system exists and systemctl is a
	// stand-in that logs its calls; enabling and is-enabled go to the real
	// systemctl working on the root's files (--root=/). The real
	// deb-systemd-invoke decides what to start, restart and stop.
	t.Run("running", func(t *testing.T) { t.Parallel(); lifecycleCycle(t, debs, true) })
}

// systemctlStandIn replaces the root's systemctl: it logs every call to
// /var/log/systemctl.calls, answers is-active with "inactive", and hands
// enable, preset, disable, is-enabled and the like to the real systemctl
// with --root=/ (offline, on the unit files), since a running manager is
// not there to ask.
const systemctlStandIn = `#!/bin/sh
echo "$*" >>/var/log/systemctl.calls
for a in "$@"; do
	case "$a" in
	start|stop|restart|try-restart|reload|daemon-reload) exit 0 ;;
	is-active) exit 3 ;;
	esac
done
exec /usr/bin/systemctl.real --root=/ "$@"
`

// lifecycleVerbs picks the calls that act on running services from the
// stand-in's log.
func lifecycleVerbs(log string) []string {
	var out []string
	for _, l := range lines(log) {
		for _, w := range strings.Fields(l) {
			switch w {
			case "start", "stop", "restart", "try-restart", "reload", "daemon-reload":
				out = append(out, l)
			}
		}
	}
	return out
}

func lifecycleCycle(t *testing.T, debs []string, running bool) {
	root := systemdRoot(t)
	// Every dependency is installed: apt needs no package lists (reading
	// bullseye's takes a second per step).
	lists := filepath.Join(root, "var/lib/apt/lists")
	sh(t, "", "rm", "-rf", lists)
	if err := os.MkdirAll(filepath.Join(lists, "partial"), 0o755); err != nil {
		t.Fatal(err)
	}
	inRoot := make([]string, len(debs))
	for i, d := range debs {
		inRoot[i] = filepath.Join("/tmp", filepath.Base(d))
		sh(t, "", "cp", d, filepath.Join(root, inRoot[i]))
	}
	callLog := filepath.Join(root, "var/log/systemctl.calls")
	if running {
		if err := os.MkdirAll(filepath.Join(root, "run/systemd/system"), 0o755); err != nil {
			t.Fatal(err)
		}
		real := filepath.Join(root, "usr/bin/systemctl")
		if err := os.Rename(real, real+".real"); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(real, []byte(systemctlStandIn), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	calls := func() []string {
		b, _ := os.ReadFile(callLog)
		os.Remove(callLog)
		return lifecycleVerbs(string(b))
	}
	wantCalls := func(step string, want ...string) {
		t.Helper()
		got := calls()
		if !running {
			want = nil
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s: systemctl calls %q, want %q", step, got, want)
		}
	}
	before := rootFiles(t, root)

	env := []string{"DEBIAN_FRONTEND=noninteractive", "LC_ALL=C"}
	apt := func(step string, args ...string) {
		t.Helper()
		o, e, err := run("", env, "chroot", append([]string{root, "apt-get", "-y"}, args...)...)
		if err != nil {
			t.Fatalf("%s: apt-get %s: %v\n%s%s", step, strings.Join(args, " "), err, o, e)
		}
		// A maintainer script that fails makes dpkg (and so apt) fail;
		// these are the messages dpkg prints when one does.
		for _, bad := range []string{"returned error exit status", "subprocess installed", "DOWNGRADED", "Errors were encountered"} {
			if strings.Contains(o+e, bad) {
				t.Fatalf("%s: apt-get %s printed %q:\n%s%s", step, strings.Join(args, " "), bad, o, e)
			}
		}
	}
	status := func() (string, string) {
		o, _, err := run("", nil, "chroot", root, "dpkg-query", "-W", "-f", "${db:Status-Abbrev}|${Version}", "openshell-gateway")
		if err != nil {
			return "", ""
		}
		st, ver, _ := strings.Cut(o, "|")
		return strings.TrimSpace(st), ver
	}
	unit := filepath.Join(root, "usr/lib/systemd/system", lifecycleUnit)
	link := filepath.Join(root, "etc/systemd/system/multi-user.target.wants", lifecycleUnit)
	state := filepath.Join(root, "var/lib/systemd/deb-systemd-helper-enabled")
	exists := func(p string) bool { _, err := os.Lstat(p); return err == nil }
	installed := func(step, ver string) {
		t.Helper()
		if st, v := status(); st != "ii" || v != ver {
			t.Errorf("%s: dpkg status %q version %q, want ii %s", step, st, v, ver)
		}
		if !exists(unit) {
			t.Errorf("%s: no unit file %s", step, unit)
		}
		// deb-systemd-helper enable made the WantedBy= link (into /lib,
		// which is /usr/lib on a merged system) and recorded it.
		l, err := os.Readlink(link)
		if err != nil || filepath.Base(l) != lifecycleUnit || !strings.Contains(l, "/lib/systemd/system/") {
			t.Errorf("%s: enablement link %s -> %q (%v)", step, link, l, err)
		} else if !exists(filepath.Join(root, l)) {
			t.Errorf("%s: enablement link %s -> %s, which is not in the root", step, link, l)
		}
		dsh, err := os.ReadFile(filepath.Join(state, lifecycleUnit+".dsh-also"))
		if err != nil || !strings.Contains(string(dsh), "/etc/systemd/system/multi-user.target.wants/"+lifecycleUnit) {
			t.Errorf("%s: deb-systemd-helper state %s.dsh-also: %q (%v)", step, lifecycleUnit, dsh, err)
		}
		if !exists(filepath.Join(state, "multi-user.target.wants", lifecycleUnit)) {
			t.Errorf("%s: deb-systemd-helper recorded no enablement of %s", step, lifecycleUnit)
		}
	}

	for i, v := range lifecycleVersions {
		step := "install " + v.deb
		if i > 0 {
			step = "upgrade to " + v.deb
		}
		apt(step, "install", inRoot[i])
		installed(step, v.deb)
		if i == 0 {
			wantCalls(step, "--system daemon-reload", "start "+lifecycleUnit)
		} else {
			wantCalls(step, "--system daemon-reload", "restart "+lifecycleUnit)
		}
	}

	// remove: the unit file goes; the enablement link and its record stay
	// until purge (Debian keeps an admin's choice across remove and
	// reinstall, as for conffiles), and systemd ignores the dangling link.
	apt("remove", "remove", "openshell-gateway")
	wantCalls("remove", "stop "+lifecycleUnit, "--system daemon-reload")
	if st, _ := status(); st != "rc" {
		t.Errorf("remove: dpkg status %q, want rc", st)
	}
	if exists(unit) {
		t.Errorf("remove: the unit file is still there")
	}
	if !exists(filepath.Join(state, lifecycleUnit+".dsh-also")) {
		t.Errorf("remove: deb-systemd-helper's record went before purge")
	}

	apt("purge", "purge", "openshell-gateway")
	// deb-systemd-helper purge reloads systemd itself once the links
	// are gone.
	wantCalls("purge", "daemon-reload")
	if st, _ := status(); st != "" && st != "un" && st != "pn" {
		t.Errorf("purge: dpkg status %q, want not installed", st)
	}
	if exists(link) {
		t.Errorf("purge: the enablement link %s is still there", link)
	}
	after := rootFiles(t, root)
	var diff []string
	for p, d := range after {
		if before[p] != d {
			diff = append(diff, "+ "+p+" "+d)
		}
	}
	for p, d := range before {
		if _, ok := after[p]; !ok {
			diff = append(diff, "- "+p+" "+d)
		}
	}
	sort.Strings(diff)
	if len(diff) > 0 {
		t.Errorf("after purge the root differs from before the install:\n%s", strings.Join(diff, "\n"))
	}
}

// lintSystemDeb runs lintian on the system-scope deb: its maintainer
// scripts and unit pass with only the tags every relpack deb may carry.
func lintSystemDeb(t *testing.T, deb string) {
	t.Helper()
	out, stderr, _ := run("", nil, "lintian", "--no-tag-display-limit", "--display-info", deb)
	tagRE := regexp.MustCompile(`^([EWIXPCON]): [^:]+: ([a-z0-9+.-]+)`)
	tags := 0
	for _, l := range lines(out) {
		m := tagRE.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		tags++
		if m[1] == "E" && acceptedSplit(m[2], strings.Trim(strings.TrimSpace(strings.SplitN(l, m[2], 2)[1]), "[]")) {
			continue
		}
		if m[1] == "E" {
			t.Errorf("lintian error: %s", l)
		} else if _, ok := acceptedLintian[m[2]]; !ok {
			t.Errorf("lintian tag not in the accepted list: %s", l)
		}
	}
	if strings.Contains(stderr, "error") {
		t.Errorf("lintian stderr: %s", stderr)
	}
	// The scripts are there for lintian to read.
	info := sh(t, "", "dpkg-deb", "-I", deb)
	for _, s := range []string{"postinst", "prerm", "postrm"} {
		if !strings.Contains(info, " "+s+" ") {
			t.Errorf("the system-scope deb has no %s:\n%s", s, info)
		}
	}
}

// TestUserUnitHasNoSystemTargets: a user manager has no
// network-online.target (systemd.special(7)), so the user unit names
// none; the system unit still waits for the network.
func TestUserUnitHasNoSystemTargets(t *testing.T) {
	for _, user := range []bool{true, false} {
		out, err := templates.Render("systemd.service.tmpl", templates.Unit{Description: "d", Binary: "/usr/bin/x", Homepage: "https://example.org/", User: user})
		if err != nil {
			t.Fatal(err)
		}
		has := strings.Contains(string(out), "network-online.target")
		if has == user {
			t.Errorf("user=%v: network-online.target named: %v\n%s", user, has, out)
		}
	}
}

// TestServiceLifecycleDebUser: a user unit is enabled for every user
// (deb-systemd-helper --user: /etc/systemd/user/default.target.wants)
// only with systemd.enable true, the link and its record survive an
// upgrade, and purge leaves the root as it was. Not enabled (the default
// for user units), nothing links to it.
func TestServiceLifecycleDebUser(t *testing.T) {
	if os.Getuid() != 0 {
		t.Fatal("this test needs root (chroot); CI runs as root")
	}
	first, last := lifecycleVersions[0], lifecycleVersions[len(lifecycleVersions)-1]
	for _, enable := range []bool{true, false} {
		name := "not-enabled"
		if enable {
			name = "enabled"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var debs []string
			for _, v := range []string{first.semver, last.semver} {
				out := filepath.Join(t.TempDir(), "dist")
				if _, err := Run(Options{Config: lifecycleConfig(t, "user", &enable), Version: v, OutDir: out, Epoch: DefaultEpoch}); err != nil {
					t.Fatalf("build %s: %v", v, err)
				}
				found := filesIn(t, out, "*~deb11_amd64.deb")
				if len(found) != 1 {
					t.Fatalf("build %s: debian11 amd64 debs: %v", v, found)
				}
				debs = append(debs, found[0])
			}
			root := systemdRoot(t)
			lists := filepath.Join(root, "var/lib/apt/lists")
			sh(t, "", "rm", "-rf", lists)
			if err := os.MkdirAll(filepath.Join(lists, "partial"), 0o755); err != nil {
				t.Fatal(err)
			}
			before := rootFiles(t, root)
			env := []string{"DEBIAN_FRONTEND=noninteractive", "LC_ALL=C"}
			apt := func(step string, args ...string) {
				t.Helper()
				o, e, err := run("", env, "chroot", append([]string{root, "apt-get", "-y"}, args...)...)
				if err != nil || strings.Contains(o+e, "returned error exit status") {
					t.Fatalf("%s: apt-get %s: %v\n%s%s", step, strings.Join(args, " "), err, o, e)
				}
			}
			unit := filepath.Join(root, "usr/lib/systemd/user", lifecycleUnit)
			link := filepath.Join(root, "etc/systemd/user/default.target.wants", lifecycleUnit)
			record := filepath.Join(root, "var/lib/systemd/deb-systemd-user-helper-enabled", lifecycleUnit+".dsh-also")
			check := func(step string) {
				t.Helper()
				if _, err := os.Stat(unit); err != nil {
					t.Errorf("%s: no user unit: %v", step, err)
				}
				l, err := os.Readlink(link)
				if enable && (err != nil || filepath.Base(l) != lifecycleUnit) {
					t.Errorf("%s: global enablement link %s -> %q (%v)", step, link, l, err)
				}
				if !enable && err == nil {
					t.Errorf("%s: not enabled, yet %s -> %s", step, link, l)
				}
				dsh, err := os.ReadFile(record)
				if enable && (err != nil || !strings.Contains(string(dsh), "/etc/systemd/user/default.target.wants/"+lifecycleUnit)) {
					t.Errorf("%s: deb-systemd-helper --user record: %q (%v)", step, dsh, err)
				}
			}
			for _, d := range debs {
				in := filepath.Join("/tmp", filepath.Base(d))
				sh(t, "", "cp", d, filepath.Join(root, in))
				apt("install "+filepath.Base(d), "install", in)
				check(filepath.Base(d))
			}
			apt("purge", "purge", "openshell-gateway")
			for _, p := range []string{unit, link, record} {
				if _, err := os.Lstat(p); err == nil {
					t.Errorf("purge: %s is still there", p)
				}
			}
			after := rootFiles(t, root)
			for p, d := range after {
				if before[p] != d {
					t.Errorf("purge: left %s %s", p, d)
				}
			}
			for p := range before {
				if _, ok := after[p]; !ok {
					t.Errorf("purge: removed %s", p)
				}
			}
		})
	}
}
