package docs

import (
	"fmt"
	"strings"
	"testing"

	"relpack/internal/testdeps"
	"relpack/pkg/manifest"
)

// without returns the fixture manifest minus the artifacts drop matches.
func without(t *testing.T, drop func(manifest.Artifact) bool) *manifest.Manifest {
	t.Helper()
	m := loadFixture(t)
	var kept []manifest.Artifact
	for _, a := range m.Artifacts {
		if !drop(a) {
			kept = append(kept, a)
		}
	}
	if len(kept) == len(m.Artifacts) {
		t.Fatal("the fixture has no artifact to drop")
	}
	m.Artifacts = kept
	return m
}

// The install docs and the installer speak only of artifacts the manifest
// lists (issue 10, item 8): a release without musl tarballs, without
// aarch64 builds, or with a musl tarball for one architecture only.
func TestDocsMentionOnlyWhatWasBuilt(t *testing.T) {
	testdeps.Tools(t, "dash", "busybox")
	noMusl := without(t, func(a manifest.Artifact) bool { return a.Libc == "musl" })
	noArm := without(t, func(a manifest.Artifact) bool { return a.Arch == "aarch64" })
	armMusl := without(t, func(a manifest.Artifact) bool { return a.Libc == "musl" && a.Arch == "aarch64" })

	md := func(m *manifest.Manifest) string {
		b, err := Markdown(m, "")
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	inst := func(m *manifest.Manifest) string {
		b, err := Installer(m, goldenBaseURL)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}

	s := md(noMusl)
	if strings.Contains(s, "musl static") || strings.Contains(s, "use the static musl") {
		t.Errorf("the docs of a release without musl offer a musl tarball:\n%s", s)
	}
	if !strings.Contains(s, "this release has nothing\nto install: it has no static musl tarball.") {
		t.Errorf("the docs do not say the release has no musl tarball:\n%s", s)
	}
	sh := inst(noMusl)
	if !strings.Contains(sh, "-> nothing: this release has no static musl tarball (exit 4)") || strings.Contains(sh, "-> the static musl tarball") {
		t.Errorf("installer header of a release without musl:\n%s", sh[:1500])
	}

	s = md(noArm)
	if strings.Contains(s, "aarch64") || strings.Contains(s, "arm64") {
		t.Errorf("the docs of an x86_64-only release mention aarch64:\n%s", s)
	}
	if !strings.Contains(s, "use the static musl\ntarball: it needs no C library at all.") {
		t.Errorf("x86_64-only docs lost the musl advice:\n%s", s)
	}
	if sh := inst(noArm); !strings.Contains(sh, "ARCHES='x86_64'\n") {
		t.Errorf("installer of an x86_64-only release: no ARCHES='x86_64'")
	}

	if s := md(armMusl); !strings.Contains(s, "use the static musl\ntarball (built for x86_64 only): it needs no C library at all.") {
		t.Errorf("docs with an x86_64 musl tarball only:\n%s", s)
	}

	// The installers run: an aarch64 host gets exit 3 naming the one
	// architecture built; an old-glibc host with no musl tarball, exit 4.
	arm := host{machine: "aarch64", ldd: fmt.Sprintf(debLdd, "2.36", "2.36"), osRelease: osRel("debian", "12"), tools: []string{"dpkg", "apt-get"}}
	centos7 := host{machine: "x86_64", ldd: fmt.Sprintf(glibcLdd, "2.17"), osRelease: osRel("centos", "7")}
	for _, shell := range shells {
		t.Run(shell.name, func(t *testing.T) {
			env, _, _ := arm.sandbox(t)
			r := runScript(t, shell.argv, writeInstaller(t, noArm, goldenBaseURL), env, "--dry-run")
			if r.code != 3 || !strings.Contains(r.err, "unsupported architecture 'aarch64': openshell-gateway 0.1.0 is built for x86_64 only") {
				t.Errorf("aarch64 host, x86_64-only release: exit %d, want 3\n%s%s", r.code, r.out, r.err)
			}
			env, _, _ = centos7.sandbox(t)
			r = runScript(t, shell.argv, writeInstaller(t, noMusl, goldenBaseURL), env, "--dry-run")
			if r.code != 4 || !strings.Contains(r.err, "has no static musl tarball for x86_64") {
				t.Errorf("glibc 2.17 host, release without musl: exit %d, want 4\n%s%s", r.code, r.out, r.err)
			}
		})
	}
}
