package docs

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"relpack/internal/testdeps"
	"relpack/pkg/manifest"
)

// The committed fixture is the demo build's manifest: a fresh build must
// give the same bytes (the build is reproducible), so the goldens describe
// what `make demo` really produces.
func TestFixtureIsTheDemoBuild(t *testing.T) {
	_, m := demoDist(t)
	got, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	golden(t, fixture, got)
}

func TestMarkdownGolden(t *testing.T) {
	m := loadFixture(t)
	got, err := Markdown(m, "")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "testdata/golden/INSTALL.md", got)
	again, err := Markdown(clone(t, m), "")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, again) {
		t.Error("two renders of the same manifest differ")
	}
	md := string(got)
	for _, want := range []string{
		"**glibc 2.28 or newer**",
		"- RHEL/Rocky/Alma/Oracle Linux 8+",
		"### Debian 11 (bullseye)",
		"sudo apt install ./openshell-gateway_0.1.0-1~deb11_amd64.deb",
		"sudo apt install ./openshell-gateway_0.1.0-1~deb11_arm64.deb",
		"sudo dnf install ./openshell-gateway-0.1.0-1.el8.x86_64.rpm",
		"sudo dnf install ./openshell-gateway-0.1.0-1.el9.aarch64.rpm",
		"Pulls in `libz3-4` from the distro",
		"Pulls in `z3-libs` from the distro",
		"sha256sum --ignore-missing -c SHA256SUMS",
		"x86_64, musl static.",
		"| `openshell-gateway-x86_64-unknown-linux-musl.tar.gz` | tarball | x86_64 | - | 15397 | `43213760751e7aeb12c5917b63c7965f61a78729f79f6346f8ad354266a24ca7` |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q", want)
		}
	}
	// Every artifact is in the table with its size and sum.
	for _, a := range m.Artifacts {
		row := "| `" + a.File + "` | " + a.Kind + " |"
		if !strings.Contains(md, row) || !strings.Contains(md, a.SHA256) {
			t.Errorf("table lacks %s", a.File)
		}
	}
	if !strings.Contains(md, "- **gnu+sidecar** (`-z3.tar.gz`)") {
		t.Error("the demo's sidecar tarballs are not explained")
	}
}

func TestInstallerGolden(t *testing.T) {
	got, err := Installer(loadFixture(t), goldenBaseURL)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "testdata/golden/install.sh", got)
}

func TestInstallerShellcheck(t *testing.T) {
	testdeps.Tools(t, "shellcheck")
	for _, base := range []string{goldenBaseURL, ""} {
		script, err := Installer(loadFixture(t), base)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(t.TempDir(), "install.sh")
		if err := os.WriteFile(p, script, 0o755); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("shellcheck", "-s", "sh", p).CombinedOutput()
		if err != nil {
			t.Errorf("shellcheck -s sh (base URL %q): %v\n%s", base, err, out)
		}
	}
}

// docs/INSTALL.md is the Markdown of the demo build (`make demo`, version
// 0.1.0). This is the CI check: rebuild the demo and run
// `relpack docs --check docs/INSTALL.md` on its manifest.
func TestInstallMDMatchesDemoBuild(t *testing.T) {
	dir, m := demoDist(t)
	if *update {
		md, err := Markdown(m, "")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(installMD, md, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, errOut, code := runCLI(t, "docs", "--manifest", filepath.Join(dir, "manifest.json"), "--check", installMD)
	if code != 0 {
		t.Fatalf("relpack docs --check %s: exit %d (go test ./pkg/docs -update regenerates it)\n%s%s", installMD, code, out, errOut)
	}
	if out != "" || errOut != "" {
		t.Errorf("a passing check printed:\n%s%s", out, errOut)
	}
}

func TestCheckCLI(t *testing.T) {
	dir, dm := demoDist(t)
	man := filepath.Join(dir, "manifest.json")
	tmp := t.TempDir()
	stale := filepath.Join(tmp, "INSTALL.md")
	good, _, code := runCLI(t, "docs", "--manifest", man)
	if code != 0 {
		t.Fatalf("relpack docs: exit %d", code)
	}
	edited := strings.Replace(good, "sudo apt install ./openshell-gateway_0.1.0-1~deb12_amd64.deb", "sudo apt install ./openshell-gateway_0.0.9-1~deb12_amd64.deb", 1)
	if edited == good {
		t.Fatal("the deb12 install line is missing")
	}
	if err := os.WriteFile(stale, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runCLI(t, "docs", "--manifest", man, "--check", stale)
	if code != 1 {
		t.Fatalf("stale docs: exit %d, want 1\n%s%s", code, out, errOut)
	}
	for _, want := range []string{
		"--- " + stale + " (committed)\n",
		"+++ " + stale + " (from " + man + ")\n",
		"-sudo apt install ./openshell-gateway_0.0.9-1~deb12_amd64.deb\n",
		"+sudo apt install ./openshell-gateway_0.1.0-1~deb12_amd64.deb\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("diff lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "regenerate it: relpack docs --manifest "+man+" -o "+stale) {
		t.Errorf("stderr does not say how to regenerate:\n%s", errOut)
	}
	// The printed diff is a real patch: applied to the stale file it gives
	// the rendered docs.
	testdeps.Tools(t, "patch")
	pf := filepath.Join(tmp, "fix.patch")
	if err := os.WriteFile(pf, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	if o, err := exec.Command("patch", "-s", stale, pf).CombinedOutput(); err != nil {
		t.Fatalf("patch: %v\n%s", err, o)
	}
	if _, _, code := runCLI(t, "docs", "--manifest", man, "--check", stale); code != 0 {
		t.Errorf("after applying the diff: exit %d, want 0", code)
	}

	// -o writes, then --check agrees; the installer is checked the same way.
	sh := filepath.Join(tmp, "install.sh")
	if _, e, code := runCLI(t, "docs", "--manifest", man, "--installer", "--base-url", goldenBaseURL, "-o", sh); code != 0 {
		t.Fatalf("--installer -o: exit %d\n%s", code, e)
	}
	if fi, err := os.Stat(sh); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("install.sh: %v, mode %v, want 0755", err, fi)
	}
	if _, e, code := runCLI(t, "docs", "--manifest", man, "--installer", "--base-url", goldenBaseURL, "--check", sh); code != 0 {
		t.Errorf("--installer --check: exit %d\n%s", code, e)
	}
	if _, _, code := runCLI(t, "docs", "--manifest", man, "--installer", "--base-url", "https://example.com/other", "--check", sh); code != 1 {
		t.Errorf("--installer --check with another base URL: exit %d, want 1", code)
	}

	// --template renders another template with the same data.
	tp := filepath.Join(tmp, "files.tmpl")
	if err := os.WriteFile(tp, []byte("{{range .Artifacts}}{{.File}} {{.Size}}\n{{end}}"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, e, code := runCLI(t, "docs", "--manifest", man, "--template", tp)
	if code != 0 || !strings.HasPrefix(out, fmt.Sprintf("%s %d\n", dm.Artifacts[0].File, dm.Artifacts[0].Size)) || strings.Count(out, "\n") != len(dm.Artifacts) {
		t.Errorf("--template: exit %d\n%s%s", code, out, e)
	}

	// Exit 2: the input cannot be read.
	if _, e, code := runCLI(t, "docs", "--manifest", filepath.Join(tmp, "missing.json")); code != 2 || !strings.Contains(e, "cannot read the manifest") {
		t.Errorf("missing manifest: exit %d, want 2\n%s", code, e)
	}
	if _, e, code := runCLI(t, "docs", "--manifest", man, "--check", filepath.Join(tmp, "missing.md")); code != 2 {
		t.Errorf("missing --check file: exit %d, want 2\n%s", code, e)
	}
	if _, e, code := runCLI(t, "docs", "--manifest", man, "--template", filepath.Join(tmp, "missing.tmpl")); code != 2 {
		t.Errorf("missing --template: exit %d, want 2\n%s", code, e)
	}
}

func TestCheck(t *testing.T) {
	p := filepath.Join(t.TempDir(), "INSTALL.md")
	if err := os.WriteFile(p, []byte("a\nb\nc\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if d, err := Check(p, "m.json", []byte("a\nb\nc\n")); err != nil || d != "" {
		t.Errorf("identical: %q, %v", d, err)
	}
	d, err := Check(p, "m.json", []byte("a\nB\nc\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := "--- " + p + " (committed)\n+++ " + p + " (from m.json)\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n"
	if d != want {
		t.Errorf("diff:\n%s\nwant:\n%s", d, want)
	}
	if _, err := Check(p+".missing", "m.json", nil); err == nil {
		t.Error("a missing file is not an error")
	}
}

// UnifiedDiff's output is checked against the real `patch`: applying it to
// a gives b, for edits at the start, middle and end, with and without a
// final newline, and hunks far apart.
func TestUnifiedDiffAppliesWithPatch(t *testing.T) {
	testdeps.Tools(t, "patch")
	var long []string
	for i := 0; i < 40; i++ {
		long = append(long, "line "+string(rune('a'+i%26))+strings.Repeat("x", i))
	}
	base := strings.Join(long, "\n") + "\n"
	cases := map[string][2]string{
		"middle":     {base, strings.Replace(base, long[20], "changed", 1)},
		"start":      {base, "new first\n" + base},
		"end":        {base, base + "new last\n"},
		"far apart":  {base, strings.Replace(strings.Replace(base, long[2], "two", 1), long[35], "thirty-five", 1)},
		"delete all": {base, ""},
		"from empty": {"", base},
		"no newline": {base, strings.TrimSuffix(base, "\n")},
		"add nl":     {"x\ny", "x\ny\n"},
		"near":       {base, strings.Replace(strings.Replace(base, long[10], "ten", 1), long[16], "sixteen", 1)},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			a := filepath.Join(dir, "a")
			if err := os.WriteFile(a, []byte(c[0]), 0o644); err != nil {
				t.Fatal(err)
			}
			d := UnifiedDiff("a", "b", []byte(c[0]), []byte(c[1]))
			if d == "" {
				t.Fatal("no diff")
			}
			pf := filepath.Join(dir, "p")
			if err := os.WriteFile(pf, []byte(d), 0o644); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command("patch", "-s", "--posix", a, pf).CombinedOutput(); err != nil {
				t.Fatalf("patch: %v\n%s\n%s", err, out, d)
			}
			got, _ := os.ReadFile(a)
			if string(got) != c[1] {
				t.Errorf("patched file differs:\n%q\nwant\n%q\ndiff:\n%s", got, c[1], d)
			}
		})
	}
	if UnifiedDiff("a", "b", []byte("same\n"), []byte("same\n")) != "" {
		t.Error("equal inputs give a diff")
	}
}

// The demo's sidecar tarballs (kind tarball, *-z3.tar.gz, a manifest
// sidecar entry), one recognised by its name alone, and a release with Z3
// bundled: the docs say which tarball to choose and what packages pull in.
func TestMarkdownSidecarAndBundled(t *testing.T) {
	m := loadFixture(t)
	md, err := Markdown(m, "")
	if err != nil {
		t.Fatal(err)
	}
	s := string(md)
	sidecar := "### `openshell-gateway-x86_64-unknown-linux-gnu-z3.tar.gz`\n\nx86_64, gnu+sidecar. Needs glibc 2.28 or newer and nothing else: it carries `libz3.so.4` as `lib/libz3.so.4`, which the binary finds through its RUNPATH `$ORIGIN/../lib`."
	for _, want := range []string{
		"- **gnu+sidecar** (`-z3.tar.gz`)",
		sidecar,
		"```\nLICENSE\nREADME.md\nbin/\nbin/openshell-gateway\nlib/\nlib/libz3.so.4\n```",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("sidecar docs lack %q", want)
		}
	}
	// Tarballs of one architecture: gnu, gnu+sidecar, musl static.
	g := strings.Index(s, "### `openshell-gateway-x86_64-unknown-linux-gnu.tar.gz`")
	sc := strings.Index(s, "### `openshell-gateway-x86_64-unknown-linux-gnu-z3.tar.gz`")
	mu := strings.Index(s, "### `openshell-gateway-x86_64-unknown-linux-musl.tar.gz`")
	if g < 0 || g >= sc || sc >= mu {
		t.Errorf("tarball order: gnu at %d, sidecar at %d, musl at %d", g, sc, mu)
	}

	// Recognised by its name when the manifest has no sidecar entry.
	n := loadFixture(t)
	for i := range n.Artifacts {
		if strings.HasSuffix(n.Artifacts[i].File, "-z3.tar.gz") {
			n.Artifacts[i].Sidecar, n.Artifacts[i].Z3, n.Artifacts[i].Runpath = nil, "unbundled", ""
			n.Artifacts[i].Contents = []string{"openshell-gateway"}
		}
	}
	md, err = Markdown(n, "")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "x86_64, gnu+sidecar. Needs glibc 2.28 or newer and nothing else: it carries `libz3.so.4` as `lib/libz3.so.4`.") {
		t.Errorf("a -z3.tar.gz without a sidecar entry is not a sidecar tarball:\n%s", md)
	}

	b := loadFixture(t)
	for i := range b.Artifacts {
		a := &b.Artifacts[i]
		if a.Kind != "tarball" { // a package's private Z3 (el8) is bundled too
			a.Sidecar, a.Runpath = nil, ""
		}
		if a.Sidecar == nil {
			a.Z3, a.Z3So, a.Z3Package = "bundled", "", ""
		}
		var rels []string
		for _, r := range a.Relations {
			if !strings.Contains(r, "z3") {
				rels = append(rels, r)
			}
		}
		a.Relations = rels
	}
	md, err = Markdown(b, "")
	if err != nil {
		t.Fatal(err)
	}
	s = string(md)
	if n := strings.Count(s, "Pulls in nothing for Z3: it is linked into the binary."); n != len(b.Distros) {
		t.Errorf("bundled: %d distros say they pull in nothing, want %d", n, len(b.Distros))
	}
	if strings.Contains(s, "Pulls in `") || !strings.Contains(s, "x86_64, gnu. Needs glibc 2.28 or newer. Z3 is linked into the binary.") {
		t.Errorf("bundled docs still name a Z3 package:\n%s", s)
	}
}

func TestInstallerRefusesUnsafeValues(t *testing.T) {
	for name, edit := range map[string]func(m *manifest.Manifest){
		"quote in file": func(m *manifest.Manifest) { m.Artifacts[0].File = "x'; rm -rf /; '.rpm" },
		"space in file": func(m *manifest.Manifest) { m.Artifacts[0].File = "a b.rpm" },
		"short sha":     func(m *manifest.Manifest) { m.Artifacts[0].SHA256 = "abc" },
		"bad floor":     func(m *manifest.Manifest) { m.Floor.Glibc = "2.28$(id)" },
		"bad distro":    func(m *manifest.Manifest) { m.Artifacts[0].Distro = "el7" },
	} {
		m := loadFixture(t)
		edit(m)
		if _, err := Installer(m, goldenBaseURL); err == nil {
			t.Errorf("%s: rendered", name)
		}
	}
	for _, u := range []string{"https://x/'", "https://x/$(id)", "not a url", "https://x/a b"} {
		if _, err := Installer(loadFixture(t), u); err == nil {
			t.Errorf("base URL %q accepted", u)
		}
	}
}

func TestMarkdownTemplateOverride(t *testing.T) {
	got, err := Markdown(loadFixture(t), "{{.Product}} {{.Version}} floor {{.Floor}}\n")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "openshell-gateway 0.1.0 floor 2.28\n" {
		t.Errorf("got %q", got)
	}
	if _, err := Markdown(loadFixture(t), "{{.NoSuchField}}"); err == nil {
		t.Error("a template naming a missing field rendered")
	}
	if _, err := Markdown(loadFixture(t), "{{"); err == nil {
		t.Error("a broken template rendered")
	}
}
