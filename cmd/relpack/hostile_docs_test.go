package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"relpack/pkg/manifest"
)

// The demo build's manifest, committed for the docs tests: valid, with
// every kind of artifact.
const demoManifest = "../../pkg/docs/testdata/manifest.json"

// hostileManifest writes the demo manifest with edit applied into a
// fresh folder and returns its path.
func hostileManifest(t *testing.T, edit func(*manifest.Manifest)) string {
	t.Helper()
	m, err := manifest.Read(demoManifest)
	if err != nil {
		t.Fatal(err)
	}
	edit(m)
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "manifest.json")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// docsRefuses runs relpack docs (Markdown, installer, and --check) on a
// manifest and wants exit 2, every phrase of want on stderr, and the -o
// file untouched.
func docsRefuses(t *testing.T, name, man string, want ...string) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "INSTALL.md")
	const before = "untouched\n"
	if err := os.WriteFile(out, []byte(before), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"docs", "--manifest", man, "-o", out},
		{"docs", "--manifest", man, "--installer", "-o", out},
		{"docs", "--manifest", man, "--check", out},
		{"docs", "--manifest", man},
	} {
		stdout, stderr, code := cli(t, args...)
		if code != 2 {
			t.Errorf("%s: relpack %s: exit %d, want 2\nstderr: %s", name, strings.Join(args, " "), code, stderr)
		}
		for _, w := range want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%s: relpack %s: stderr lacks %q:\n%s", name, strings.Join(args, " "), w, stderr)
			}
		}
		if stdout != "" {
			t.Errorf("%s: relpack %s printed docs for a refused manifest:\n%.300s", name, strings.Join(args, " "), stdout)
		}
	}
	if b, err := os.ReadFile(out); err != nil || string(b) != before {
		t.Errorf("%s: -o file changed: %q, %v", name, b, err)
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(out), ".*")); len(left) > 0 {
		t.Errorf("%s: temporary files left: %v", name, left)
	}
}

// Issue 9, case 1: an artifact named $(touch ...).deb would be a command in
// the Markdown's sh block; it is refused, naming manifest.json, the field
// and what is wrong, and it never runs.
func TestDocsRefusesCommandInFileName(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "pwned")
	evil := "$(touch " + marker + ").deb"
	man := hostileManifest(t, func(m *manifest.Manifest) { m.Artifacts[3].File = evil })
	docsRefuses(t, "$(touch) in a file name", man,
		man+": artifacts[3].file ",
		`"`+evil+`"`,
		"not a plain file name ([A-Za-z0-9._+~-], no leading dot or dash, no path)",
	)
	if _, err := os.Stat(marker); err == nil {
		t.Error("the marker file was created")
	}
}

// Issue 9, case 1: every field docs render is held to its grammar; the
// error names the field.
func TestDocsRefusesHostileFields(t *testing.T) {
	cases := []struct {
		name string
		edit func(*manifest.Manifest)
		want []string
	}{
		{"newline in a target name injects a heading", func(m *manifest.Manifest) { m.Distros[2].Name = "Debian 11\n# Pwned" },
			[]string{`distros[2].name "Debian 11\n# Pwned": holds the control character U+000A`}},
		{"newline in a distro id", func(m *manifest.Manifest) { m.Distros[0].ID = "el8\n# x" },
			[]string{`distros[0].id "el8\n# x": not a distro target id`}},
		{"newline in the summary", func(m *manifest.Manifest) { m.Summary = "Gateway\n\n```sh\nrm -rf ~\n```" },
			[]string{`summary "Gateway\n\n`, "holds the control character U+000A"}},
		{"quote in the product", func(m *manifest.Manifest) { m.Product = "gw'; rm -rf ~; '" },
			[]string{`product "gw'; rm -rf ~; '": not a name`}},
		{"path in a file name", func(m *manifest.Manifest) { m.Artifacts[0].File = "../../etc/passwd" },
			[]string{`artifacts[0].file "../../etc/passwd": not a plain file name`}},
		{"leading dash in a file name", func(m *manifest.Manifest) { m.Artifacts[1].File = "-rf.deb" },
			[]string{`artifacts[1].file "-rf.deb": not a plain file name`}},
		{"space in a file name", func(m *manifest.Manifest) { m.Artifacts[2].File = "a b.rpm" },
			[]string{`artifacts[2].file "a b.rpm": not a plain file name`}},
		{"short sha256", func(m *manifest.Manifest) { m.Artifacts[4].SHA256 = "abc" },
			[]string{`artifacts[4].sha256 "abc": not 64 lowercase hex digits`}},
		{"arch with a command", func(m *manifest.Manifest) { m.Artifacts[5].Arch = "x86_64;id" },
			[]string{`artifacts[5].arch "x86_64;id": not an architecture`}},
		{"bad triple", func(m *manifest.Manifest) { m.Artifacts[5].Triple = "x86_64 linux" },
			[]string{`artifacts[5].triple "x86_64 linux": not a target triple`}},
		{"version not semver", func(m *manifest.Manifest) { m.Version = "1.0`id`" },
			[]string{"version \"1.0`id`\": not a semver version"}},
		{"homepage leaves the autolink", func(m *manifest.Manifest) { m.Homepage = "https://x.org/> <img src=x>" },
			[]string{`homepage "https://x.org/> <img src=x>": not an http(s) URL`}},
		{"backtick in a relation", func(m *manifest.Manifest) { m.Artifacts[0].Relations[0] = "glibc` $(id) `" },
			[]string{"artifacts[0].relations[0] \"glibc` $(id) `\": not a package relation"}},
		{"fence in tarball contents", func(m *manifest.Manifest) { m.Artifacts[firstTarball(m)].Contents[0] = "```" },
			[]string{"contents[0] \"```\": not a relative path"}},
		{"floor with a command", func(m *manifest.Manifest) { m.Floor.Glibc = "2.28$(id)" },
			[]string{`floor.glibc "2.28$(id)": not a dotted version`}},
		{"command in an add-on repository's enable", func(m *manifest.Manifest) {
			m.Artifacts[0].Repositories = []manifest.Repository{{Name: "EPEL 9", Enable: "sudo dnf install epel-release; id", Packages: []string{"z3-libs"}}}
		}, []string{`artifacts[0].repositories[0].enable "sudo dnf install epel-release; id": not one command`}},
		{"newline in an add-on repository's enable", func(m *manifest.Manifest) {
			m.Artifacts[0].Repositories = []manifest.Repository{{Name: "universe", Enable: "true\nid", Packages: []string{"libz3-4"}}}
		}, []string{`artifacts[0].repositories[0].enable "true\nid": not one command`}},
		{"support end not a date", func(m *manifest.Manifest) { m.Distros[0].Support = &manifest.Support{End: "soon`id`"} },
			[]string{"distros[0].support.end \"soon`id`\": not a date YYYY-MM-DD"}},
		{"unknown distro", func(m *manifest.Manifest) { m.Artifacts[0].Distro = "el7" },
			[]string{`artifacts[0].distro "el7": not one of the manifest's distros[].id`}},
		// A debug artifact's fields reach the install docs' Debug symbols
		// section (docs/debug-symbols.md).
		{"command in a debug artifact's debug_for", func(m *manifest.Manifest) {
			m.Artifacts = append(m.Artifacts, hostileDebug(m, func(d *manifest.Artifact) { d.DebugFor = "$(id).deb" }))
		}, []string{`debug_for "$(id).deb": not a plain file name`}},
		{"newline in a debug artifact's build-id", func(m *manifest.Manifest) {
			m.Artifacts = append(m.Artifacts, hostileDebug(m, func(d *manifest.Artifact) { d.BuildID = "abcd\n# Pwned" }))
		}, []string{`build_id "abcd\n# Pwned": not a GNU build-id`}},
		{"path out of the build-id tree in a debug_file", func(m *manifest.Manifest) {
			m.Artifacts = append(m.Artifacts, hostileDebug(m, func(d *manifest.Artifact) { d.DebugFile = "/usr/lib/debug/../../etc/passwd" }))
		}, []string{`debug_file "/usr/lib/debug/../../etc/passwd": not a build-id path`}},
	}
	for _, c := range cases {
		man := hostileManifest(t, c.edit)
		want := append([]string{man + ": "}, c.want...)
		docsRefuses(t, c.name, man, want...)
	}
}

// Issue 9, case 2: an empty manifest is refused with a clear message, not
// rendered into docs that list nothing.
func TestDocsRefusesEmptyManifest(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	empty := write("empty.json", "{}\n")
	docsRefuses(t, "{}", empty, empty+": empty manifest: no schema, product, version or artifacts")
	blank := write("blank.json", "\n")
	docsRefuses(t, "blank file", blank, blank+": the file is empty")
	bare := write("schema-only.json", `{"schema": 1}`)
	docsRefuses(t, `{"schema": 1}`, bare, bare+": artifacts: the manifest lists no artifacts", bare+": product: missing")
	none := hostileManifest(t, func(m *manifest.Manifest) { m.Artifacts = nil })
	docsRefuses(t, "no artifacts", none, none+": artifacts: the manifest lists no artifacts: there is nothing to document or install")
}

// The demo manifest itself passes, so the checks above refuse the edit,
// not the manifest.
func TestDocsAcceptsDemoManifest(t *testing.T) {
	for _, args := range [][]string{
		{"docs", "--manifest", demoManifest},
		{"docs", "--manifest", demoManifest, "--installer"},
	} {
		out, stderr, code := cli(t, args...)
		if code != 0 || out == "" {
			t.Errorf("relpack %s: exit %d\n%s", strings.Join(args, " "), code, stderr)
		}
	}
}

// firstTarball is the index of the manifest's first tarball.
func firstTarball(m *manifest.Manifest) int {
	for i, a := range m.Artifacts {
		if a.Kind == "tarball" {
			return i
		}
	}
	return -1
}

// hostileDebug is a debug tarball of m's first tarball, as relpack build
// writes it with debug_symbols, changed by edit.
func hostileDebug(m *manifest.Manifest, edit func(*manifest.Artifact)) manifest.Artifact {
	tb := m.Artifacts[firstTarball(m)]
	const id = "e05db583ccf1138210b40b597cf83c11cee5596a"
	d := manifest.Artifact{File: strings.TrimSuffix(tb.File, ".tar.gz") + "-debug.tar.gz", Kind: manifest.KindDebugTarball, Size: 1, SHA256: strings.Repeat("0", 64),
		Triple: tb.Triple, Arch: tb.Arch, Libc: tb.Libc, BuildID: id, DebugFor: tb.File, DebugFile: ".build-id/e0/" + id[2:] + ".debug"}
	edit(&d)
	return d
}
