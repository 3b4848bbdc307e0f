package config

import "relpack/templates"

// Systemd describes the unit packages install.
type Systemd struct {
	Unit        string `yaml:"unit"`  // file name, e.g. openshell-gateway.service
	Scope       string `yaml:"scope"` // "user" or "system"
	Args        string `yaml:"args"`  // arguments after the binary in ExecStart
	Description string `yaml:"description"`
	// Enable enables the unit on install (system scope: for the system;
	// user scope: globally for every user, systemctl --global). Default:
	// true for system units, false for user units (issue 11).
	Enable *bool `yaml:"enable"`
	// RestartOnUpgrade restarts a running service when the package is
	// upgraded (default true), as dh_installsystemd and
	// %systemd_postun_with_restart do.
	RestartOnUpgrade *bool `yaml:"restart_on_upgrade"`
}

// Enabled reports whether the unit is enabled on install.
func (s Systemd) Enabled() bool {
	if s.Enable != nil {
		return *s.Enable
	}
	return s.Scope == "system"
}

// RestartsOnUpgrade reports whether an upgrade restarts the service.
func (s Systemd) RestartsOnUpgrade() bool {
	return s.RestartOnUpgrade == nil || *s.RestartOnUpgrade
}

// UnitPath is where the unit is installed.
func (s Systemd) UnitPath() string {
	if s.Scope == "system" {
		return "/usr/lib/systemd/system/" + s.Unit
	}
	return "/usr/lib/systemd/user/" + s.Unit
}

type rawSystemd struct {
	Systemd *Systemd `yaml:"systemd"`
}

// systemd loads systemd: (unit, scope, args, description) and holds it,
// and the binary it starts, to the unit renderer's rules. It reads
// Config.Summary and Config.Binary and adds Config.Systemd with its
// defaults (scope user, description the summary).
func (l *loader) systemd() {
	c := l.c
	c.Systemd = l.r.Systemd
	s := c.Systemd
	if s == nil {
		return
	}
	if !unitNameRE.MatchString(s.Unit) || len(s.Unit) > 255 {
		l.fail("systemd.unit", "systemd.unit %q must be a file name ending in .service (letters, digits, : _ . @ -)", s.Unit)
	}
	if s.Scope == "" {
		s.Scope = "user"
	}
	if s.Scope != "user" && s.Scope != "system" {
		l.fail("systemd.scope", "systemd.scope %q: use user or system", s.Scope)
	}
	if s.Description == "" {
		s.Description = c.Summary
	}
	for _, f := range []struct{ key, val string }{{"systemd.description", s.Description}, {"systemd.args", s.Args}} {
		if r, bad := controlChar(f.val, ""); bad {
			l.fail(f.key, "%s holds %s; a unit setting is one line (a newline would add settings of its own, such as ExecStartPre= or User=)", f.key, describeRune(r))
		}
	}
	// The unit renderer's own rules (quoting, specifiers, line
	// continuations), reported here with the line.
	if _, err := templates.UnitText(s.Description); err != nil {
		l.fail("systemd.description", "systemd.description: %v", err)
	}
	if _, err := templates.UnitArgs(s.Args); err != nil {
		l.fail("systemd.args", "systemd.args: %v", err)
	}
	if checkInstallPath(c.Binary) == "" {
		if _, err := templates.UnitExec(c.Binary); err != nil {
			l.fail("binary", "binary: %v", err)
		}
	}
}
