package lifecycle

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"relpack/internal/testdeps"
)

// variants are the combinations testdata/dh holds debhelper's output for
// (testdata/dh/regen.sh), for a unit named demo.service.
var variants = map[string]Service{
	"system-enable-restart":     {Unit: "demo.service", Scope: "system", Enable: true, RestartOnUpgrade: true},
	"system-enable-norestart":   {Unit: "demo.service", Scope: "system", Enable: true, RestartOnUpgrade: false},
	"system-noenable-restart":   {Unit: "demo.service", Scope: "system", Enable: false, RestartOnUpgrade: true},
	"system-noenable-norestart": {Unit: "demo.service", Scope: "system", Enable: false, RestartOnUpgrade: false},
	// dh_installsystemduser in compat 13 has no restart: both switches
	// of RestartOnUpgrade give the same scripts.
	"user-enable":   {Unit: "demo.service", Scope: "user", Enable: true, RestartOnUpgrade: true},
	"user-noenable": {Unit: "demo.service", Scope: "user", Enable: false, RestartOnUpgrade: true},
}

var markerRE = regexp.MustCompile(`(?m)^# Automatically added by .*$`)

// TestDebEqualsDebhelper compares every script Deb writes with the one
// debhelper 13.11.4 wrote for the same unit and switches, byte for byte
// but for the marker comment's tool name.
func TestDebEqualsDebhelper(t *testing.T) {
	for name, s := range variants {
		for _, restart := range []bool{true, false} {
			if s.Scope == "system" && restart != s.RestartOnUpgrade {
				continue
			}
			s.RestartOnUpgrade = restart
			got, err := Deb(s)
			if err != nil {
				t.Fatal(err)
			}
			for file, body := range map[string]string{"preinst": got.PreInstall, "postinst": got.PostInstall, "prerm": got.PreRemove, "postrm": got.PostRemove} {
				want, err := os.ReadFile(filepath.Join("testdata", "dh", name, file))
				if os.IsNotExist(err) {
					if body != "" {
						t.Errorf("%s %s: debhelper writes no such script, relpack wrote:\n%s", name, file, body)
					}
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				g := markerRE.ReplaceAllString(body, "# Automatically added by X")
				w := markerRE.ReplaceAllString(string(want), "# Automatically added by X")
				if g != w {
					t.Errorf("%s %s differs from debhelper's:\n--- relpack\n%s\n--- debhelper\n%s", name, file, g, w)
				}
			}
		}
	}
}

func TestCheck(t *testing.T) {
	for _, s := range []Service{
		{Unit: "demo", Scope: "system"},
		{Unit: "a b.service", Scope: "system"},
		{Unit: "x'.service", Scope: "system"},
		{Unit: "demo.service", Scope: "global"},
		{Unit: "demo.service"},
	} {
		if _, err := Deb(s); err == nil {
			t.Errorf("Deb(%+v) gave no error", s)
		}
		if _, err := RPM(s); err == nil {
			t.Errorf("RPM(%+v) gave no error", s)
		}
	}
	if got := quote("it's"); got != `'it'\''s'` {
		t.Errorf("quote: %s", got)
	}
}

// runScript runs body with sh as a package manager would (with args),
// with stand-ins for systemctl, deb-systemd-helper and deb-systemd-invoke
// that log their arguments, and /run/systemd/system replaced by a folder
// that exists when running is true. It returns the logged calls.
func runScript(t *testing.T, body string, running bool, args ...string) []string {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(dir, "calls")
	for _, p := range []string{"systemctl", "deb-systemd-helper", "deb-systemd-invoke"} {
		stub := "#!/bin/sh\necho \"" + p + " $*\" >>'" + log + "'\n"
		if p == "deb-systemd-helper" {
			// was-enabled: true (a first install); debian-installed: false.
			stub += "case \"$*\" in *was-enabled*) exit 0;; *debian-installed*) exit 1;; esac\n"
		}
		if err := os.WriteFile(filepath.Join(bin, p), []byte(stub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	run := filepath.Join(dir, "run-systemd-system")
	if running {
		if err := os.Mkdir(run, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	body = strings.ReplaceAll(body, "/run/systemd/system", run)
	body = strings.ReplaceAll(body, "/usr/bin/deb-systemd-helper", filepath.Join(bin, "deb-systemd-helper"))
	script := filepath.Join(dir, "script")
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(testdeps.Tool(t, "sh"), append([]string{script}, args...)...)
	cmd.Env = []string{"PATH=" + bin + ":/usr/bin:/bin"}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("script %v: %v\n%s\n%s", args, err, out, body)
	}
	data, err := os.ReadFile(log)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(data)), "\n")
}

func eq(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\ngot  %q\nwant %q", what, got, want)
	}
}

// TestDebCalls runs the system-scope scripts through dpkg's calling
// conventions and checks what they call.
func TestDebCalls(t *testing.T) {
	s := Service{Unit: "demo.service", Scope: "system", Enable: true, RestartOnUpgrade: true}
	d, err := Deb(s)
	if err != nil {
		t.Fatal(err)
	}
	enable := []string{"deb-systemd-helper unmask demo.service", "deb-systemd-helper --quiet was-enabled demo.service", "deb-systemd-helper enable demo.service"}
	eq(t, "postinst configure (no systemd)", runScript(t, d.PostInstall, false, "configure"), enable...)
	eq(t, "postinst configure (first install)", runScript(t, d.PostInstall, true, "configure"),
		append(enable, "systemctl --system daemon-reload", "deb-systemd-invoke start demo.service")...)
	eq(t, "postinst configure 0.0.63-1 (upgrade)", runScript(t, d.PostInstall, true, "configure", "0.0.63-1"),
		append(enable, "systemctl --system daemon-reload", "deb-systemd-invoke restart demo.service")...)
	eq(t, "prerm upgrade", runScript(t, d.PreRemove, true, "upgrade", "0.1.0-1"))
	eq(t, "prerm remove", runScript(t, d.PreRemove, true, "remove"), "deb-systemd-invoke stop demo.service")
	eq(t, "prerm remove (no systemd)", runScript(t, d.PreRemove, false, "remove"))
	eq(t, "postrm remove", runScript(t, d.PostRemove, true, "remove"), "systemctl --system daemon-reload")
	eq(t, "postrm purge", runScript(t, d.PostRemove, false, "purge"), "deb-systemd-helper purge demo.service")
	eq(t, "postrm upgrade", runScript(t, d.PostRemove, true, "upgrade", "0.1.0-1"))

	s.RestartOnUpgrade = false
	d, _ = Deb(s)
	eq(t, "postinst configure (upgrade, no restart)", runScript(t, d.PostInstall, true, "configure", "0.0.63-1"),
		append(enable, "systemctl --system daemon-reload", "deb-systemd-invoke start demo.service")...)
}

// TestRPMCalls runs the rpm scriptlets with rpm's $1 for install (1),
// upgrade (2: %post of the new, %preun and %postun of the old package
// with 1 left) and erase (0), and checks the systemctl calls against
// the %systemd_* macros' behaviour.
func TestRPMCalls(t *testing.T) {
	s := Service{Unit: "demo.service", Scope: "system", Enable: true, RestartOnUpgrade: true}
	r, err := RPM(s)
	if err != nil {
		t.Fatal(err)
	}
	if r.PreInstall != "" || strings.HasPrefix(r.PostInstall, "#!") {
		t.Errorf("rpm scriptlets are bodies without #! and there is no %%pre: %+v", r)
	}
	eq(t, "%post install", runScript(t, r.PostInstall, true, "1"), "systemctl --no-reload enable demo.service")
	eq(t, "%post upgrade", runScript(t, r.PostInstall, true, "2"))
	eq(t, "%preun upgrade", runScript(t, r.PreRemove, true, "1"))
	eq(t, "%postun upgrade", runScript(t, r.PostRemove, true, "1"), "systemctl daemon-reload", "systemctl try-restart demo.service")
	eq(t, "%postun upgrade (no systemd)", runScript(t, r.PostRemove, false, "1"))
	eq(t, "%preun erase", runScript(t, r.PreRemove, true, "0"), "systemctl --no-reload disable --now demo.service")
	eq(t, "%preun erase (no systemd)", runScript(t, r.PreRemove, false, "0"), "systemctl --no-reload disable demo.service")
	eq(t, "%postun erase", runScript(t, r.PostRemove, true, "0"), "systemctl daemon-reload")

	s.Enable, s.RestartOnUpgrade = false, false
	r, _ = RPM(s)
	eq(t, "%post install (preset)", runScript(t, r.PostInstall, true, "1"), "systemctl --no-reload preset demo.service")
	eq(t, "%postun upgrade (no restart)", runScript(t, r.PostRemove, true, "1"), "systemctl daemon-reload")

	u, _ := RPM(Service{Unit: "demo.service", Scope: "user", Enable: true, RestartOnUpgrade: true})
	eq(t, "user %post install", runScript(t, u.PostInstall, true, "1"), "systemctl --no-reload enable --global demo.service")
	eq(t, "user %preun erase", runScript(t, u.PreRemove, true, "0"), "systemctl --global disable demo.service")
	if u.PostRemove != "" {
		t.Errorf("user %%postun: %q", u.PostRemove)
	}
}

// TestShellcheck lints every script of every variant.
func TestShellcheck(t *testing.T) {
	sc := testdeps.Tool(t, "shellcheck")
	dir := t.TempDir()
	var files []string
	for name, s := range variants {
		d, _ := Deb(s)
		r, _ := RPM(s)
		for k, body := range map[string]string{
			"deb-postinst": d.PostInstall, "deb-prerm": d.PreRemove, "deb-postrm": d.PostRemove,
			"rpm-post": r.PostInstall, "rpm-preun": r.PreRemove, "rpm-postun": r.PostRemove,
		} {
			if body == "" {
				continue
			}
			if !strings.HasPrefix(body, "#!") {
				body = "#!/bin/sh\n" + body
			}
			f := filepath.Join(dir, name+"-"+k)
			if err := os.WriteFile(f, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
			files = append(files, f)
		}
	}
	if out, err := exec.Command(sc, append([]string{"-s", "sh"}, files...)...).CombinedOutput(); err != nil {
		t.Errorf("shellcheck: %v\n%s", err, out)
	}
}
