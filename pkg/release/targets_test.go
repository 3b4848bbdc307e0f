package release

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"relpack/internal/testdeps"
	"relpack/pkg/config"
	"relpack/pkg/deps"
	"relpack/pkg/distro"
)

// catalogConfig is the demo's configuration cut to its x86_64 builds, with
// every catalogue target (x86_64 only) and, when private, the fixtures'
// libz3.so.4 shipped by every package (so every target can take the
// Debian-linked gateway).
func catalogConfig(t *testing.T, ids []string, private bool) string {
	t.Helper()
	return hostileDemo(t, func(s string) string {
		s = s[:strings.Index(s, "\ntargets:\n")+1]
		for _, drop := range []string{"aarch64-unknown-linux-gnu", "aarch64-unknown-linux-musl"} {
			var kept []string
			for _, l := range strings.Split(s, "\n") {
				if !strings.Contains(l, drop+":") {
					kept = append(kept, l)
				}
			}
			s = strings.Join(kept, "\n")
		}
		s = strings.Replace(s, "      aarch64: ", "      # aarch64: ", -1)
		if private {
			fixtures, _ := filepath.Abs("../../testdata/fixtures")
			s += "libraries:\n  libz3:\n    files:\n      x86_64: " + fixtures + "/x86_64/libz3.so.4\n    private: [\"*\"]\n"
		}
		s += "targets:\n"
		for _, id := range ids {
			s += "  - id: " + id + "\n    arches: [x86_64]\n"
		}
		return s
	})
}

// TestEveryCatalogTargetBuilds builds the gateway for every target of the
// catalogue (the new el10, fedora42, fedora43, amzn2023 and ubuntu2604
// among them) and holds each package to its target's facts, read back
// with the real dpkg-deb and rpm: the format, the payload compression,
// the release suffix, the floor stamped on the C library; and the build
// warns for exactly the targets whose support has ended.
func TestEveryCatalogTargetBuilds(t *testing.T) {
	testdeps.Tools(t, "dpkg-deb", "rpm", "ar")
	var ids []string
	for _, d := range distro.Catalog() {
		ids = append(ids, d.ID)
	}
	c, err := config.Load(catalogConfig(t, ids, true))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "dist")
	var warn bytes.Buffer
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	m, err := Run(Options{Config: c, Version: demoVer, OutDir: out, Epoch: DefaultEpoch, Warn: &warn, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	built := map[string]bool{}
	for _, a := range m.Artifacts {
		if a.Kind == "tarball" {
			continue
		}
		built[a.Distro] = true
		d, _ := distro.Lookup(a.Distro)
		path := filepath.Join(out, a.File)
		if a.Kind != d.Format {
			t.Errorf("%s: %s package for a %s target", a.File, a.Kind, d.Format)
		}
		if !strings.Contains(a.PackageVersion, d.ReleaseSuffix) {
			t.Errorf("%s: version %s lacks the release suffix %s", a.File, a.PackageVersion, d.ReleaseSuffix)
		}
		switch a.Kind {
		case "deb":
			members := sh(t, "", "ar", "t", path)
			ext := map[string]string{"xz": ".xz", "zstd": ".zst", "gzip": ".gz"}[d.Compression]
			if !strings.Contains(members, "data.tar"+ext+"\n") {
				t.Errorf("%s: %s compression, members:\n%s", a.File, d.Compression, members)
			}
			// This machine's dpkg is Debian 12's 1.21.23: it must read every
			// deb but Debian 11's (xz) whatever the compression.
			sh(t, "", "dpkg-deb", "--contents", path)
			if dep := sh(t, "", "dpkg-deb", "-f", path, "Depends"); !strings.Contains(dep, "libc6 (>= 2.28)") || strings.Contains(dep, "libz3") {
				t.Errorf("%s: Depends %q (libc6 floor, and no libz3: it is private)", a.File, dep)
			}
		case "rpm":
			got := strings.TrimSpace(sh(t, "", "rpm", "-qp", "--nosignature", "--qf", "%{PAYLOADCOMPRESSOR}", path))
			if got != d.Compression {
				t.Errorf("%s: payload %s, the catalogue says %s", a.File, got, d.Compression)
			}
			req := sh(t, "", "rpm", "-qp", "--nosignature", "--requires", path)
			if !strings.Contains(req, "glibc >= 2.28\n") || strings.Contains(req, "z3") {
				t.Errorf("%s: Requires:\n%s", a.File, req)
			}
		}
	}
	for _, id := range ids {
		if !built[id] {
			t.Errorf("no package was built for %s", id)
		}
	}
	for _, d := range distro.Catalog() {
		says := strings.Contains(warn.String(), "target "+d.ID+" (")
		if ended := d.Support.Ended(now); ended != says {
			t.Errorf("%s: support ended %v, warned %v:\n%s", d.ID, ended, says, warn.String())
		}
		if d.Support.End != "" && says && !strings.Contains(warn.String(), "ended on "+d.Support.End) {
			t.Errorf("%s: the warning does not give the date %s:\n%s", d.ID, d.Support.End, warn.String())
		}
	}
	if !strings.Contains(warn.String(), "target debian11 (") {
		t.Errorf("Debian 11's LTS ended on 2026-08-31, and the build did not say so:\n%s", warn.String())
	}
}

// TestUnbundledZ3PerTarget: the gateway with Z3 unbundled, on every
// target: a target that maps the binary's libz3 soname depends on its
// package (and names the add-on repository where it comes from one); a
// target that records it ships no Z3 (el8) is refused with the source and
// the ways out; a target whose Z3 is unknown (el10, ubuntu2604) is refused
// as unmapped. Nothing is written either way.
func TestUnbundledZ3PerTarget(t *testing.T) {
	for _, d := range distro.Catalog() {
		t.Run(d.ID, func(t *testing.T) {
			c, err := config.Load(catalogConfig(t, []string{d.ID}, false))
			if err != nil {
				t.Fatal(err)
			}
			if d.Format == "rpm" {
				// The build linked against an RPM distro's libz3.so.4.8.
				fixtures, _ := filepath.Abs("../../testdata/fixtures")
				c.Targets[0].Inputs = map[string]string{"x86_64-unknown-linux-gnu": fixtures + "/demo/x86_64-unknown-linux-gnu-el8/openshell-gateway"}
			}
			so := "libz3.so.4"
			if d.Format == "rpm" {
				so = "libz3.so.4.8"
			}
			out := filepath.Join(t.TempDir(), "dist")
			m, err := Run(Options{Config: c, Version: demoVer, OutDir: out, Epoch: DefaultEpoch})
			pkg, mapped := d.Sonames[so]
			if !mapped {
				var se *deps.SonameError
				if !errors.As(err, &se) {
					t.Fatalf("%s does not map %s: want a SonameError, got %v", d.ID, so, err)
				}
				if src, none := d.NotShippedSource("libz3"); none && (se.NotShipped != src || !strings.Contains(err.Error(), "no repository of distro target "+d.ID+" ships libz3")) {
					t.Errorf("%s ships no Z3; the message should say so with its source:\n%v", d.ID, err)
				}
				if !strings.Contains(err.Error(), fmt.Sprintf("private: [%s]", d.ID)) {
					t.Errorf("the message lacks the private-copy way out:\n%v", err)
				}
				if _, statErr := os.Stat(out); m != nil || !os.IsNotExist(statErr) {
					t.Errorf("a refused build returned a manifest or left %s: %v", out, statErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range m.Artifacts {
				if a.Distro != d.ID {
					continue
				}
				if !contains(a.Relations, pkg) && !strings.Contains(strings.Join(a.Relations, ","), pkg+" ") {
					t.Errorf("%s: relations %q lack %s", a.File, a.Relations, pkg)
				}
				addOn := d.AddOnFor(so)
				switch {
				case addOn == nil && len(a.Repositories) != 0:
					t.Errorf("%s: %s comes from the base repositories, the manifest names %+v", a.File, pkg, a.Repositories)
				case addOn != nil && (len(a.Repositories) != 1 || a.Repositories[0].Name != addOn.Name || a.Repositories[0].Enable != addOn.Enable || !contains(a.Repositories[0].Packages, pkg)):
					t.Errorf("%s: %s comes from %s, the manifest names %+v", a.File, pkg, addOn.Name, a.Repositories)
				}
			}
		})
	}
}
