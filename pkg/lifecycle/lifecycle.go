// Package lifecycle renders the maintainer scripts (deb) and scriptlets
// (rpm) that manage a packaged systemd service through install, upgrade,
// removal and purge, so relpack's packages behave like the distros' own:
//
//   - deb: what debhelper 13 (Debian 12's 13.11.4, compat 13) writes
//     through dh_installsystemd (system units) and dh_installsystemduser
//     (user units): deb-systemd-helper enable/update-state/purge,
//     deb-systemd-invoke start/restart/stop and systemctl daemon-reload,
//     each guarded so it does nothing where systemd is not running
//     (chroots, containers, image builds). The snippets are debhelper's
//     autoscripts with the unit name filled in; testdata/dh holds
//     debhelper's own output for every combination and the tests compare
//     them byte for byte (marker comments apart).
//   - rpm: what the %systemd_post, %systemd_preun and
//     %systemd_postun_with_restart (or %systemd_postun) macros do, with
//     their $1 semantics, written out as plain systemctl calls so that the
//     scriptlets need neither rpm's macros at build time nor systemd 249's
//     systemd-update-helper at install time (EL8 has systemd 239).
//
// Nothing here is hand-written per release: the scripts follow from the
// unit name, its scope and the two switches of packaging.yaml's systemd
// section (enable, restart_on_upgrade).
package lifecycle

import (
	"fmt"
	"regexp"
	"strings"
)

// Service is what the scripts are rendered from.
type Service struct {
	// Unit is the unit's file name, e.g. "openshell-gateway.service".
	Unit string
	// Scope is "system" (/usr/lib/systemd/system) or "user"
	// (/usr/lib/systemd/user, enabled for every user with --global).
	Scope string
	// Enable enables the unit on first install (config: systemd.enable).
	// When false the unit is installed but left as the admin (or, on rpm,
	// the preset policy) has it; an admin's own enablement is kept across
	// upgrades either way.
	Enable bool
	// RestartOnUpgrade restarts a running service after an upgrade
	// (config: systemd.restart_on_upgrade). When false an upgrade leaves
	// the running service alone (it runs the old binary until restarted).
	RestartOnUpgrade bool
}

// Scripts are the bodies of the four package scripts. Deb scripts are
// whole files (#!/bin/sh, set -e); rpm scriptlets are bodies for rpm's
// default interpreter (/bin/sh), with no #! line. An empty string means
// the package has no such script.
type Scripts struct {
	PreInstall  string // deb preinst, rpm %pre
	PostInstall string // deb postinst, rpm %post
	PreRemove   string // deb prerm, rpm %preun
	PostRemove  string // deb postrm, rpm %postun
}

// unitRE is systemd.unit(5)'s name alphabet, as pkg/config accepts it.
var unitRE = regexp.MustCompile(`^[A-Za-z0-9:_.@-]+\.service$`)

// Check tells whether s can be rendered: a unit file name ending in
// .service and a known scope.
func (s Service) Check() error {
	if !unitRE.MatchString(s.Unit) {
		return fmt.Errorf("unit %q must be a file name ending in .service (letters, digits, : _ . @ -)", s.Unit)
	}
	if s.Scope != "system" && s.Scope != "user" {
		return fmt.Errorf("scope %q must be system or user", s.Scope)
	}
	return nil
}

// DebhelperVersion is the debhelper release whose snippets Deb writes.
const DebhelperVersion = "13.11.4"

// quote writes a unit name as one shell word, as debhelper's quote()
// does: single-quoted ('\” inside, though a valid unit name has none).
func quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Deb returns the maintainer scripts dh_installsystemd (system scope) or
// dh_installsystemduser (user scope) of debhelper 13.11.4 in compat 13
// writes for one unit with an [Install] section:
//
// system scope
//   - postinst (configure, abort-*): unmask; enable on first install (or,
//     with Enable false, only re-create links of an already enabled unit:
//     dh's --no-enable); update-state; then, where systemd runs,
//     daemon-reload and start (first install) or restart (upgrade; with
//     RestartOnUpgrade false, start, which leaves a running service alone:
//     dh's --no-restart-after-upgrade --no-stop-on-upgrade).
//     deb-systemd-invoke starts only enabled or already running units.
//   - prerm (remove, not upgrade): stop, where systemd runs.
//   - postrm: remove: daemon-reload where systemd runs; purge:
//     deb-systemd-helper purge (removes the enablement links and its state).
//
// user scope (compat 13 enables user units but never starts, restarts or
// stops them in users' managers)
//   - postinst: deb-systemd-helper --user enable (global, for every user)
//     or, with Enable false, only keep an existing enablement.
//   - postrm purge: deb-systemd-helper --user purge.
//
// The --user forms need init-system-helpers 1.52 (Debian 11 has 1.60,
// Ubuntu 22.04 1.62; it is Essential on every Debian and Ubuntu release).
func Deb(s Service) (Scripts, error) {
	if err := s.Check(); err != nil {
		return Scripts{}, err
	}
	u := map[string]string{"#UNITFILE#": quote(s.Unit), "#UNITFILES#": quote(s.Unit)}
	var postinst, prerm, postrm []string
	tool := "dh_installsystemd"
	if s.Scope == "user" {
		tool = "dh_installsystemduser"
		if s.Enable {
			postinst = append(postinst, debUserEnable)
		} else {
			postinst = append(postinst, debUserDontEnable)
		}
		postrm = append(postrm, debUserPurge)
	} else {
		if s.Enable {
			postinst = append(postinst, debEnable)
		} else {
			postinst = append(postinst, debDontEnable)
		}
		if s.RestartOnUpgrade {
			postinst = append(postinst, debRestart)
			u["#RESTART_ACTION#"] = "restart"
		} else {
			postinst = append(postinst, debStart)
		}
		prerm = append(prerm, debStopOnRemove)
		// debhelper adds postrm snippets at the top, and the
		// reload-only one last ("default" order): it comes first.
		postrm = append(postrm, debReloadOnRemove, debPurge)
	}
	return Scripts{
		PostInstall: debScript(tool, postinst, u),
		PreRemove:   debScript(tool, prerm, u),
		PostRemove:  debScript(tool, postrm, u),
	}, nil
}

// debScript assembles a maintainer script as dh_installdeb does when the
// package has none of its own: #!/bin/sh, set -e, then each snippet
// between debhelper's marker comments (here naming relpack).
func debScript(tool string, snippets []string, subst map[string]string) string {
	if len(snippets) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("#!/bin/sh\nset -e\n")
	for _, sn := range snippets {
		for k, v := range subst {
			sn = strings.ReplaceAll(sn, k, v)
		}
		fmt.Fprintf(&b, "# Automatically added by relpack (as %s/%s writes it)\n", tool, DebhelperVersion)
		b.WriteString(sn)
		b.WriteString("# End automatically added section\n")
	}
	return b.String()
}

// RPM returns the scriptlet bodies that do what Fedora's and EL's
// %systemd_post, %systemd_preun and %systemd_postun_with_restart (or,
// with RestartOnUpgrade false, %systemd_postun) do for one unit, with
// rpm's $1 (the number of this package's instances installed once the
// transaction is done):
//
//   - %post, $1 = 1 (first install): with Enable, systemctl --no-reload
//     enable; without, systemctl --no-reload preset (the macro itself:
//     the distro's or admin's preset policy decides, and EL/Fedora
//     presets disable what they do not list). User scope: --global.
//     Nothing is started: rpm packages do not start services on install.
//   - %preun, $1 = 0 (erase, not upgrade): system scope: systemctl
//     --no-reload disable --now where systemd runs, disable otherwise;
//     user scope: systemctl --global disable.
//   - %postun: where systemd runs, systemctl daemon-reload (the unit file
//     changed or went away; systemd's own file triggers do this on
//     systemd ≥ 235, EL7's macro did it here, and a second reload is
//     harmless); then with RestartOnUpgrade and $1 ≥ 1 (upgrade),
//     systemctl try-restart (systemd 239's macro; systemd ≥ 249 marks the
//     unit and its file trigger restarts it at the end of the
//     transaction: the same effect). User scope: daemon-reload and
//     restarts in users' managers are left to the users (systemctl
//     --global cannot reach running user managers on EL8's systemd 239).
//
// Every call is `|| :` with its output discarded, as in the macros, so a
// scriptlet never fails the transaction. The package should carry
// Requires(post), Requires(preun) and Requires(postun) on systemd
// (%systemd_requires) so the ordering in a transaction is right.
func RPM(s Service) (Scripts, error) {
	if err := s.Check(); err != nil {
		return Scripts{}, err
	}
	u := quote(s.Unit)
	var out Scripts
	if s.Scope == "user" {
		verb := "preset"
		if s.Enable {
			verb = "enable"
		}
		out.PostInstall = "if [ \"$1\" -eq 1 ]; then\n" +
			"    # Initial installation\n" +
			"    systemctl --no-reload " + verb + " --global " + u + " >/dev/null 2>&1 || :\n" +
			"fi\n"
		out.PreRemove = "if [ \"$1\" -eq 0 ]; then\n" +
			"    # Package removal, not upgrade\n" +
			"    systemctl --global disable " + u + " >/dev/null 2>&1 || :\n" +
			"fi\n"
		return out, nil
	}
	verb := "preset"
	if s.Enable {
		verb = "enable"
	}
	out.PostInstall = "if [ \"$1\" -eq 1 ]; then\n" +
		"    # Initial installation\n" +
		"    systemctl --no-reload " + verb + " " + u + " >/dev/null 2>&1 || :\n" +
		"fi\n"
	out.PreRemove = "if [ \"$1\" -eq 0 ]; then\n" +
		"    # Package removal, not upgrade\n" +
		"    if [ -d /run/systemd/system ]; then\n" +
		"        systemctl --no-reload disable --now " + u + " >/dev/null 2>&1 || :\n" +
		"    else\n" +
		"        systemctl --no-reload disable " + u + " >/dev/null 2>&1 || :\n" +
		"    fi\n" +
		"fi\n"
	out.PostRemove = "if [ -d /run/systemd/system ]; then\n" +
		"    systemctl daemon-reload >/dev/null 2>&1 || :\n" +
		"fi\n"
	if s.RestartOnUpgrade {
		out.PostRemove += "if [ \"$1\" -ge 1 ] && [ -d /run/systemd/system ]; then\n" +
			"    # Package upgrade, not uninstall\n" +
			"    systemctl try-restart " + u + " >/dev/null 2>&1 || :\n" +
			"fi\n"
	}
	return out, nil
}
