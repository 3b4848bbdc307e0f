package version

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/goreleaser/nfpm/v2"
	_ "github.com/goreleaser/nfpm/v2/deb" // registers the "deb" packager
	_ "github.com/goreleaser/nfpm/v2/rpm" // registers the "rpm" packager

	"relpack/internal/testdeps"
)

// TestNFPMPackages proves that the NFPM fields make nfpm v2.45.2 write
// exactly the converted versions: it builds a real deb and rpm for every
// conversion, through the same calls relpack makes (WithDefaults,
// PrepareForPackager, Package), and reads the version back with dpkg-deb
// and rpm. It does so with Info.VersionSchema "none" (nfpm uses the fields
// verbatim) and "" (nfpm's default, which re-parses Version as semver), so a
// caller that forgets the schema still gets the right version.
func TestNFPMPackages(t *testing.T) {
	testdeps.Tools(t, "dpkg-deb", "rpm")
	const name = "relpack-version-test"
	dir := t.TempDir()
	for _, c := range conversions {
		v, err := Parse(c.in)
		if err != nil {
			t.Fatal(err)
		}
		for _, format := range []string{"deb", "rpm"} {
			for _, release := range []string{"1", map[string]string{"deb": "2~deb12", "rpm": "2.el8"}[format]} {
				for _, schema := range []string{"none", ""} {
					t.Run(strings.Join([]string{c.in, format, release, "schema=" + schema}, "/"), func(t *testing.T) {
						f := v.NFPM(format, release)
						wantFull := c.rpm + "-" + release // deb: upstream-revision; rpm: V-R
						if got := f.Full(format); got != wantFull {
							t.Fatalf("Full = %q, want %q", got, wantFull)
						}
						info := nfpm.WithDefaults(&nfpm.Info{
							Name: name, Arch: "amd64", Platform: "linux",
							Maintainer:  "relpack tests <tests@example.invalid>",
							Description: "version mapping test package",
							Version:     f.Version, Release: f.Release, Prerelease: f.Prerelease,
							VersionMetadata: f.VersionMetadata, Epoch: f.Epoch,
							VersionSchema: schema,
							MTime:         time.Unix(1700000000, 0).UTC(),
							Overridables:  nfpm.Overridables{RPM: nfpm.RPM{BuildHost: "relpack"}},
						})
						if err := nfpm.PrepareForPackager(info, format); err != nil {
							t.Fatal(err)
						}
						p, err := nfpm.Get(format)
						if err != nil {
							t.Fatal(err)
						}

						// ConventionalFileName adjusts the Info it is given
						// (arch names), so it gets a copy.
						nameInfo := *info
						wantFile := name + "_" + wantFull + "_amd64.deb"
						if format == "rpm" {
							wantFile = name + "-" + wantFull + ".x86_64.rpm"
						}
						if got := p.ConventionalFileName(&nameInfo); got != wantFile {
							t.Errorf("ConventionalFileName = %q, want %q", got, wantFile)
						}

						path := filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "_")+"."+format)
						out, err := os.Create(path)
						if err != nil {
							t.Fatal(err)
						}
						if err := p.Package(info, out); err != nil {
							out.Close()
							t.Fatalf("nfpm %s Package: %v", format, err)
						}
						if err := out.Close(); err != nil {
							t.Fatal(err)
						}

						var got string
						if format == "deb" {
							got = run(t, "dpkg-deb", "-f", path, "Version")
						} else {
							// EPOCH prints "(none)" when no epoch is set.
							got = run(t, "rpm", "-qp", "--qf", "%{EPOCH}:%{VERSION}-%{RELEASE}", path)
							got = strings.TrimPrefix(got, "(none):")
						}
						if got != wantFull {
							t.Errorf("the %s says its version is %q, want %q", format, got, wantFull)
						}
					})
				}
			}
		}
	}
}

// run returns cmd's trimmed stdout, failing the test on an error or on
// anything written to stderr (dpkg-deb and rpm report malformed fields there).
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out))
}
