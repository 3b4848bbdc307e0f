package docs

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"relpack/pkg/manifest"
	"relpack/templates"
)

// withDebug returns the fixture with a debug artifact beside every deb,
// rpm and gnu tarball, as relpack build writes them with
// debug_symbols: {split: true} (docs/debug-symbols.md): a ddeb, a
// debuginfo rpm, a debug tarball, each naming its artifact and build-id;
// constructed here when the fixture (the demo build) has none.
func withDebug(t *testing.T) *manifest.Manifest {
	t.Helper()
	m := clone(t, loadFixture(t))
	if slices.ContainsFunc(m.Artifacts, func(a manifest.Artifact) bool { return manifest.IsDebug(a.Kind) }) {
		return m // the demo builds them (debug_symbols in its configuration)
	}
	var extra []manifest.Artifact
	for i := range m.Artifacts {
		a := &m.Artifacts[i]
		id := fmt.Sprintf("%02x%038x", i+1, i+0xabc)
		d := manifest.Artifact{Kind: "", Size: 1000 + int64(i), SHA256: strings.Repeat(fmt.Sprintf("%x", i%16), 64),
			Triple: a.Triple, Arch: a.Arch, Libc: a.Libc, Distro: a.Distro, PackageVersion: a.PackageVersion,
			BuildID: id, DebugFor: a.File, DebugFile: "/usr/lib/debug/.build-id/" + id[:2] + "/" + id[2:] + ".debug"}
		switch {
		case a.Kind == "deb":
			d.Kind = manifest.KindDdeb
			d.File = strings.Replace(a.File, m.Product+"_", m.Product+"-dbgsym_", 1)
			d.File = strings.TrimSuffix(d.File, ".deb") + ".ddeb"
		case a.Kind == "rpm":
			d.Kind = manifest.KindDebuginfo
			d.File = strings.Replace(a.File, m.Product+"-", m.Product+"-debuginfo-", 1)
		case a.Kind == "tarball" && a.Libc != "musl":
			d.Kind = manifest.KindDebugTarball
			d.File = strings.TrimSuffix(a.File, ".tar.gz") + "-debug.tar.gz"
			d.DebugFile = strings.TrimPrefix(d.DebugFile, "/usr/lib/debug/")
		default:
			continue
		}
		a.BuildID, a.Debug = id, d.File
		extra = append(extra, d)
	}
	m.Artifacts = append(m.Artifacts, extra...)
	if err := m.Validate(); err != nil {
		t.Fatalf("the fixture with debug artifacts: %v", err)
	}
	return m
}

// withoutDebug returns the fixture without debug artifacts, as a release
// built without debug_symbols is.
func withoutDebug(t *testing.T) *manifest.Manifest {
	t.Helper()
	m := clone(t, loadFixture(t))
	m.Artifacts = slices.DeleteFunc(m.Artifacts, func(a manifest.Artifact) bool { return manifest.IsDebug(a.Kind) })
	for i := range m.Artifacts {
		m.Artifacts[i].BuildID, m.Artifacts[i].Debug = "", ""
	}
	return m
}

// INSTALL.md tells how to get the symbols of an installed version: its
// build-id, apt's debug suite, dnf's debuginfo repository, the files, and
// a debug tarball into /usr/lib/debug; the debug packages are not
// offered as the distros' packages.
func TestDebugSymbolsInInstallMD(t *testing.T) {
	m := withDebug(t)
	b, err := Markdown(m, "")
	if err != nil {
		t.Fatal(err)
	}
	md := string(b)
	head, debug, ok := strings.Cut(md, "\n## Debug symbols\n")
	if !ok {
		t.Fatalf("no Debug symbols section:\n%s", md)
	}
	debug, _, _ = strings.Cut(debug, "\n## ")
	for _, want := range []string{
		`readelf -n "$(command -v openshell-gateway)" | grep 'Build ID'`,
		`file -L "$(command -v openshell-gateway)"`,
		"add the debug suite, `SUITE-debug`",
		"sudo apt-get install openshell-gateway-dbgsym",
		"sudo dnf --enablerepo=openshell-gateway-debuginfo install openshell-gateway-debuginfo",
		"sudo apt install ./openshell-gateway-dbgsym_0.1.0-1~deb12_amd64.ddeb",
		"sudo dnf install ./openshell-gateway-debuginfo-0.1.0-1.el8.x86_64.rpm",
		"sudo install -d /usr/lib/debug",
		"`install.sh` never installs debug symbols.",
	} {
		if !strings.Contains(debug, want) {
			t.Errorf("the Debug symbols section lacks %q:\n%s", want, debug)
		}
	}
	n := 0
	for _, a := range m.Artifacts {
		if !manifest.IsDebug(a.Kind) {
			continue
		}
		n++
		row := fmt.Sprintf("| `%s` | %s | %s |", a.File, a.Kind, a.Arch)
		if !strings.Contains(debug, row) || !strings.Contains(debug, "`"+a.BuildID+"`") || !strings.Contains(debug, "`"+a.DebugFor+"`") {
			t.Errorf("the Debug symbols table lacks %s (%s, for %s)", a.File, a.BuildID, a.DebugFor)
		}
		if a.Kind == manifest.KindDebugTarball && !strings.Contains(debug, "sudo tar -xzf ./"+a.File+" -C /usr/lib/debug") {
			t.Errorf("no extraction of %s into /usr/lib/debug", a.File)
		}
		if strings.Contains(head, a.File) {
			t.Errorf("%s is offered before the Debug symbols section, among what to install", a.File)
		}
	}
	if n < 10 {
		t.Fatalf("only %d debug artifacts in the constructed manifest", n)
	}
	// Without debug artifacts there is no such section.
	plain, err := Markdown(withoutDebug(t), "")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(plain), "## Debug symbols") {
		t.Error("a release without debug artifacts documents debug symbols")
	}
}

// install.sh never installs a debug artifact: none is among its choices
// or sums, on any host.
func TestInstallerSkipsDebugArtifacts(t *testing.T) {
	m := withDebug(t)
	b, err := Installer(m, goldenBaseURL)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := Installer(withoutDebug(t), goldenBaseURL)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range m.Artifacts {
		if manifest.IsDebug(a.Kind) && strings.Contains(string(b), a.File) {
			t.Errorf("install.sh names the debug artifact %s", a.File)
		}
	}
	if string(b) != string(plain) {
		t.Error("debug artifacts changed install.sh")
	}
}

// Hostile debug artifact names (past Validate) stay one word in every sh
// line of the Debug symbols section, and the section's fences and
// headings stay the template's.
func TestHostileDebugNamesStayWords(t *testing.T) {
	dir := t.TempDir()
	m := withDebug(t)
	marker := filepath.Join(dir, "ran")
	for i := range m.Artifacts {
		a := &m.Artifacts[i]
		if manifest.IsDebug(a.Kind) {
			a.File = fmt.Sprintf("$(touch %s)'`touch %s`\n```\n## Pwned %d", marker, marker, i)
			a.DebugFor = "x\n# Pwned"
		}
	}
	if _, err := Markdown(m, ""); err == nil {
		t.Fatal("Markdown rendered debug artifacts with hostile names")
	}
	d, err := doc(m)
	if err != nil {
		t.Fatal(err)
	}
	md, err := templates.Render(MarkdownTemplate, d)
	if err != nil {
		t.Fatal(err)
	}
	good, err := Markdown(withDebug(t), "")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(fenceRE.FindAllIndex(md, -1)), len(fenceRE.FindAllIndex(good, -1)); got != want {
		t.Errorf("%d fence lines, the valid manifest renders %d", got, want)
	}
	_, sec, _ := strings.Cut(string(md), "\n## Debug symbols\n")
	sec, _, _ = strings.Cut(sec, "\n## ")
	if strings.Contains(sec, "\n## Pwned") || strings.Contains(sec, "\n# Pwned") {
		t.Errorf("an injected heading in the Debug symbols section:\n%s", sec)
	}
	stub := filepath.Join(dir, "bin")
	if err := os.MkdirAll(stub, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tool := range []string{"sudo", "readelf", "file", "grep"} {
		if err := os.WriteFile(filepath.Join(stub, tool), []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	blocks := 0
	lines := strings.Split(sec, "\n")
	for i := 0; i < len(lines); i++ {
		if lines[i] != "```sh" {
			continue
		}
		var body []string
		for i++; i < len(lines) && lines[i] != "```"; i++ {
			body = append(body, lines[i])
		}
		blocks++
		cmd := exec.Command("sh", "-c", strings.Join(body, "\n"))
		cmd.Dir = dir
		cmd.Env = []string{"PATH=" + stub + ":/usr/bin:/bin"}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("sh: %v\n%s\n%s", err, out, strings.Join(body, "\n"))
		}
	}
	if blocks < 4 {
		t.Fatalf("%d sh blocks in the Debug symbols section, want the build-id, apt, dnf, files and tarball ones", blocks)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("a debug artifact's name ran as a command")
	}
}
