package docs

import (
	"strings"
	"testing"

	"relpack/pkg/manifest"
)

// TestServiceSection: the install docs say, per package family, what
// installing, upgrading and removing do to the service, as the packages'
// maintainer scripts (pkg/lifecycle) do it.
func TestServiceSection(t *testing.T) {
	cases := []struct {
		sv   manifest.Service
		want []string
		not  []string
	}{
		{manifest.Service{Unit: "gw.service", Scope: "system", Enable: true, RestartOnUpgrade: true},
			[]string{"system unit `gw.service` in `/usr/lib/systemd/system`",
				"**Debian and Ubuntu (deb).** Installing enables and starts it. An upgrade restarts it when it is running. Removing stops it",
				"(rpm).** Installing enables it but does not start it, as Fedora and EL packages do: run `sudo systemctl start gw.service`. An upgrade restarts it if it is running (`systemctl try-restart`). Removing stops and disables it."},
			nil},
		{manifest.Service{Unit: "gw.service", Scope: "system", Enable: false, RestartOnUpgrade: false},
			[]string{"neither enables nor starts it: run `sudo systemctl enable --now gw.service`",
				"leaves the running service on the old binary until you run `sudo systemctl restart gw.service`",
				"applies the distro's presets (`systemctl preset`)"},
			[]string{"enables and starts"}},
		{manifest.Service{Unit: "gw.service", Scope: "user", Enable: true, RestartOnUpgrade: true},
			[]string{"user unit `gw.service` in `/usr/lib/systemd/user`", "enables it for every user (`systemctl --global enable`)"},
			[]string{"sudo systemctl start"}},
	}
	for _, c := range cases {
		m := loadFixture(t)
		sv := c.sv
		m.Service = &sv
		md, err := Markdown(m, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range c.want {
			if !strings.Contains(string(md), w) {
				t.Errorf("%+v: lacks %q", c.sv, w)
			}
		}
		for _, w := range c.not {
			if strings.Contains(string(md), w) {
				t.Errorf("%+v: says %q", c.sv, w)
			}
		}
	}
	m := loadFixture(t)
	m.Service = &manifest.Service{Unit: "gw.service\n# x", Scope: "system"}
	if _, err := Markdown(m, ""); err == nil || !strings.Contains(err.Error(), "service.unit") {
		t.Errorf("a hostile unit name: %v", err)
	}
}

// TestPartialManifestRefused: docs of part of a release would name
// artifacts that are not there; a partial manifest is refused.
func TestPartialManifestRefused(t *testing.T) {
	m := loadFixture(t)
	m.Partial = true
	m.Selectors = []string{"x86_64"}
	for _, a := range m.Artifacts {
		m.Planned = append(m.Planned, manifest.Planned{File: a.File})
	}
	if _, err := Markdown(m, ""); err == nil || !strings.Contains(err.Error(), "partial release (relpack build --only x86_64)") {
		t.Errorf("Markdown: %v", err)
	}
	if _, err := InstallerData(m, ""); err == nil || !strings.Contains(err.Error(), "relpack merge") {
		t.Errorf("InstallerData: %v", err)
	}
}
