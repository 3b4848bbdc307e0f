package releaseverify

import (
	"os"
	"strings"
	"testing"
	"time"

	"relpack/pkg/manifest"
	"relpack/pkg/pack"
)

// testBuildID is the build-id of the DWARF fixture hello-g
// (debugFixture), the debug file of the test debug packages.
const testBuildID = "e05db583ccf1138210b40b597cf83c11cee5596a"

// debugFixture is a DWARF fixture of pkg/debugsym's (x86_64/hello-g,
// x86_64/cxx-g): an ELF file with a build-id note, as a debug file is.
func debugFixture(name string) string { return "../../testdata/fixtures/debug/x86_64/" + name }

// debugArtifact is the manifest entry of the debug package of
// testArtifact(format) that debugPackage builds.
func debugArtifact(format string) *manifest.Artifact {
	a := &manifest.Artifact{Arch: "x86_64", PackageVersion: "1.0-1", Distro: "test", BuildID: testBuildID,
		DebugFile: "/usr/lib/debug/" + BuildIDPath(testBuildID)}
	if format == "deb" {
		a.Kind, a.File, a.DebugFor = manifest.KindDdeb, "demo-dbgsym_1.0-1_amd64.ddeb", testDebName
		a.Relations = []string{"demo (= 1.0-1)"}
	} else {
		a.Kind, a.File, a.DebugFor = manifest.KindDebuginfo, "demo-debuginfo-1.0-1.x86_64.rpm", testRPMName
	}
	return a
}

// debugPackage builds the debug package of testArtifact(format)'s
// package with pkg/pack's DebugSpec (the fields dh_strip and
// find-debuginfo write), signed with the demo key; edit changes the spec
// before it is written.
func debugPackage(t *testing.T, format string, edit func(*pack.PackageSpec)) []byte {
	return debugPackageOf(t, format, debugFixture("hello-g"), edit)
}

// debugPackageOf is debugPackage with dbg as the debug file.
func debugPackageOf(t *testing.T, format, dbg string, edit func(*pack.PackageSpec)) []byte {
	t.Helper()
	main := pack.PackageSpec{
		Format: format, Name: testProduct, Arch: "amd64", Version: "1.0", Release: "1",
		Maintainer: "Relpack Tests <t@example.com>", Summary: "demo",
		MTime: time.Unix(1700000000, 0).UTC(), TempDir: t.TempDir(),
		Files: []pack.PackageFile{{Data: []byte("#!/bin/sh\n"), Dst: "/usr/bin/demo", Mode: 0o755}},
	}
	main.Signing, _ = testKey()
	spec, err := pack.DebugSpec(main, pack.DebugPackage{BuildID: testBuildID, DebugFile: dbg, Binary: "/usr/bin/demo"})
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(&spec)
	}
	p, err := pack.WritePackage(spec, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A ddeb is held to a deb's checks and its own fields; a debuginfo rpm to
// an rpm's, named NAME-debuginfo. Each field a debugger or apt relies on,
// changed, is named.
func TestDebugPackagesChecked(t *testing.T) {
	cases := []struct {
		name, format string
		edit         func(*pack.PackageSpec)
		art          func(*manifest.Artifact)
		want         string // "" = no problem
	}{
		{"ddeb", "deb", nil, nil, ""},
		{"debuginfo rpm", "rpm", nil, nil, ""},
		{"ddeb named as the package", "deb", func(s *pack.PackageSpec) { s.Name = "demo" }, nil, "control says Package: demo, manifest.json says demo-dbgsym"},
		{"ddeb of another build-id", "deb", nil, func(a *manifest.Artifact) { a.BuildID = strings.Repeat("ab", 20) }, "control says Build-Ids: " + testBuildID + ", manifest.json says build_id abab"},
		{"ddeb not in Section debug", "deb", func(s *pack.PackageSpec) { s.Section = "misc" }, nil, "control says Section: misc; a debug package is in Section debug"},
		{"ddeb of any version", "deb", func(s *pack.PackageSpec) { s.Depends = []string{"demo"} }, nil, "control says Depends: demo; a debug package depends on exactly its package's version, demo (= 1.0-1)"},
		{"ddeb not auto-built", "deb", func(s *pack.PackageSpec) { s.ExtraFields["Auto-Built-Package"] = "no" }, nil, "control says Auto-Built-Package: no; a debug package says debug-symbols"},
		{"rpm without debuginfo(build-id)", "rpm", func(s *pack.PackageSpec) { s.Provides = nil }, nil, "does not provide debuginfo(build-id) = " + testBuildID},
		{"rpm without its debug file", "rpm", nil, func(a *manifest.Artifact) { a.DebugFile = "/usr/lib/debug/.build-id/e0/5d.debug" }, "does not hold /usr/lib/debug/.build-id/e0/5d.debug"},
		{"ddeb without its debug file", "deb", nil, func(a *manifest.Artifact) { a.DebugFile = "/usr/lib/debug/.build-id/e0/5d.debug" }, "does not hold /usr/lib/debug/.build-id/e0/5d.debug (manifest.json's debug_file)"},
		{"rpm as a debuginfo rpm", "rpm", func(s *pack.PackageSpec) { s.Name = "demo" }, nil, "header says NAME demo, manifest.json says demo-debuginfo"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := debugArtifact(c.format)
			b := debugPackage(t, c.format, c.edit)
			if c.art != nil {
				c.art(a)
			}
			if c.edit != nil && c.want != "" && strings.HasPrefix(c.want, "control says Package") {
				a.File = "demo_1.0-1_amd64.ddeb"
			}
			if c.name == "rpm as a debuginfo rpm" {
				a.File = testRPMName
			}
			ps, err := checkBytes(t, t.TempDir(), a, true, b)
			if err != nil {
				t.Fatal(err)
			}
			got := problemsText(ps)
			switch {
			case c.want == "" && len(ps) > 0:
				t.Errorf("problems with a good %s:\n%s", c.name, got)
			case c.want != "" && !strings.Contains(got, c.want):
				t.Errorf("want a problem with %q, got:\n%s", c.want, got)
			}
		})
	}
}

// A ddeb whose debug file is another build's (its Build-Ids and the
// manifest agreeing) is named by the build-id note inside it.
func TestDdebDebugFileOfAnotherBuild(t *testing.T) {
	ps, err := checkBytes(t, t.TempDir(), debugArtifact("deb"), true, debugPackageOf(t, "deb", debugFixture("cxx-g"), nil))
	if err != nil {
		t.Fatal(err)
	}
	if got := problemsText(ps); !strings.Contains(got, "its debug file /usr/lib/debug/"+BuildIDPath(testBuildID)+" has build-id ") || !strings.Contains(got, "manifest.json says "+testBuildID) {
		t.Errorf("want the debug file's own build-id named, got:\n%s", got)
	}
	a := debugArtifact("deb")
	ps, _ = checkBytes(t, t.TempDir(), a, true, debugPackage(t, "deb", nil))
	if len(ps) > 0 {
		t.Fatalf("problems with a good ddeb: %s", problemsText(ps))
	}
}

// The control fields relpack's writer cannot be made to write, crafted:
// dh_strip's Source (the product, nothing else) and a field no ddeb has.
func TestDdebCraftedControl(t *testing.T) {
	const good = "Package: demo-dbgsym\nSource: demo\nVersion: 1.0-1\nAuto-Built-Package: debug-symbols\nArchitecture: amd64\nMaintainer: Relpack Tests <t@example.com>\nInstalled-Size: 1\nDepends: demo (= 1.0-1)\nSection: debug\nPriority: optional\nDescription: debug symbols for demo\nBuild-Ids: " + testBuildID + "\n"
	elfData, err := os.ReadFile(debugFixture("hello-g"))
	if err != nil {
		t.Fatal(err)
	}
	data := gzipped(t, tarFile(t, tarEntry{name: "./usr/lib/debug/" + BuildIDPath(testBuildID), data: string(elfData)}))
	for _, c := range []struct{ name, control, want string }{
		{"as dh_strip writes it", good, ""},
		{"another source", strings.Replace(good, "Source: demo", "Source: other", 1), "control says Source: other; a debug package's source is its package, demo"},
		{"Pre-Depends", good + "Pre-Depends: x\n", "control has the field Pre-Depends: x"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ps, err := checkBytes(t, t.TempDir(), debugArtifact("deb"), false, craftedDeb(t, c.control, "data.tar.gz", data))
			if err != nil {
				t.Fatal(err)
			}
			got := problemsText(ps)
			if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
				t.Errorf("want a problem with %q, got:\n%s", c.want, got)
			}
		})
	}
}

// Every debug artifact is held to the artifact it names in debug_for.
func TestDebugLinks(t *testing.T) {
	pair := func() []manifest.Artifact {
		deb := *testArtifact("deb")
		deb.BuildID, deb.Debug = testBuildID, "demo-dbgsym_1.0-1_amd64.ddeb"
		tgz := manifest.Artifact{File: "demo-x86_64-unknown-linux-gnu.tar.gz", Kind: "tarball", Arch: "x86_64", Triple: "x86_64-unknown-linux-gnu", BuildID: testBuildID, Debug: "demo-x86_64-unknown-linux-gnu-debug.tar.gz"}
		dt := manifest.Artifact{File: "demo-x86_64-unknown-linux-gnu-debug.tar.gz", Kind: manifest.KindDebugTarball, Arch: "x86_64", Triple: "x86_64-unknown-linux-gnu", BuildID: testBuildID, DebugFor: tgz.File, DebugFile: BuildIDPath(testBuildID)}
		return []manifest.Artifact{deb, *debugArtifact("deb"), tgz, dt}
	}
	cases := []struct {
		name string
		edit func(m *manifest.Manifest)
		want string
	}{
		{"good", nil, ""},
		{"package missing", func(m *manifest.Manifest) { m.Artifacts = m.Artifacts[1:] }, "demo-dbgsym_1.0-1_amd64.ddeb: manifest.json says it holds the debug symbols of demo_1.0-1_amd64.deb, which the release does not hold"},
		{"package planned by a partial", func(m *manifest.Manifest) {
			m.Artifacts, m.Partial = m.Artifacts[1:], true
			m.Planned = []manifest.Planned{{File: testDebName}}
		}, ""},
		{"debug artifact missing", func(m *manifest.Manifest) { m.Artifacts = m.Artifacts[:3] }, "demo-x86_64-unknown-linux-gnu.tar.gz: manifest.json says its debug symbols are in demo-x86_64-unknown-linux-gnu-debug.tar.gz, which the release does not hold"},
		{"other build-id", func(m *manifest.Manifest) { m.Artifacts[0].BuildID = strings.Repeat("cd", 20) }, "has build-id " + testBuildID + ", but demo_1.0-1_amd64.deb, whose symbols it holds, has build-id cdcd"},
		{"debug tarball for a deb", func(m *manifest.Manifest) { m.Artifacts[3].DebugFor = testDebName }, "a debug-tarball holds a tarball's"},
		{"other arch", func(m *manifest.Manifest) { m.Artifacts[1].Arch = "aarch64" }, "is for test aarch64"},
		{"not named back", func(m *manifest.Manifest) { m.Artifacts[2].Debug = "" }, "names \"\" as its debug artifact"},
		{"debug file elsewhere", func(m *manifest.Manifest) { m.Artifacts[3].DebugFile = ".build-id/ab/cdef.debug" }, "puts its debug file at .build-id/ab/cdef.debug, not at the path of its build-id"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := newTestVerifier(t.TempDir(), false)
			v.m.Artifacts = pair()
			if c.edit != nil {
				c.edit(v.m)
			}
			v.checkDebugLinks()
			got := problemsText(v.r.Problems)
			switch {
			case c.want == "" && got != "":
				t.Errorf("problems:\n%s", got)
			case c.want != "" && !strings.Contains(got, c.want):
				t.Errorf("want a problem with %q, got:\n%s", c.want, got)
			}
		})
	}
}

// noteBuildID reads the fixture's build-id, and any truncation or byte
// change of its first bytes ends in an answer, never a panic or a read
// out of bounds.
func TestNoteBuildIDBounded(t *testing.T) {
	b, err := os.ReadFile(debugFixture("hello-g"))
	if err != nil {
		t.Fatal(err)
	}
	b = b[:min(len(b), 4096)]
	if id, found, err := noteBuildID(b); err != nil || !found || id != testBuildID {
		t.Fatalf("noteBuildID(hello-g) = %q %v %v, want %s", id, found, err, testBuildID)
	}
	for n := range len(b) {
		noteBuildID(b[:n])
	}
	for i := range min(len(b), 1200) {
		for _, v := range []byte{0x00, 0xff, 0x7f, 0x80} {
			c := append([]byte(nil), b...)
			c[i] = v
			noteBuildID(c)
		}
	}
	if _, _, err := noteBuildID([]byte("!<arch>\n")); err == nil {
		t.Error("an ar archive read as ELF")
	}
}
