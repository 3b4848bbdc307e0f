package docs

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"relpack/pkg/manifest"
	"relpack/templates"
)

// The tests below skip manifest.Validate (doc and installerData are the
// relaxed paths): they prove that the templates' escaping alone keeps a
// hostile manifest from running commands or changing the documents'
// structure, should a value ever slip past the grammar.

// hostile returns the fixture with commands in file names, a heading in a
// distro name, a fence in the summary and the tarball contents, and
// quotes everywhere, all writing marker files under dir when run.
func hostile(t *testing.T, dir string) (*manifest.Manifest, []string) {
	t.Helper()
	m := clone(t, loadFixture(t))
	markers := []string{filepath.Join(dir, "m1"), filepath.Join(dir, "m2"), filepath.Join(dir, "m3"), filepath.Join(dir, "m4")}
	m.Summary = "Gateway\n\n```sh\ntouch " + markers[0] + "\n```\n# Pwned summary"
	m.Product = "gw'\ntouch " + markers[0] + " #"
	m.Version = "1.0'; touch " + markers[0] + "; '"
	m.Homepage = "https://x.org/> <img src=x onerror=alert(1)>"
	for i := range m.Distros {
		m.Distros[i].Name = "Debian\n# Pwned heading " + m.Distros[i].ID
	}
	for i := range m.Artifacts {
		a := &m.Artifacts[i]
		switch i % 3 {
		case 0:
			a.File = "$(touch " + markers[1] + ")." + a.Kind
		case 1:
			a.File = "x'; touch " + markers[2] + "; '." + a.Kind
		default:
			a.File = "`touch${IFS}" + markers[3] + "`." + a.Kind
		}
		a.File += fmt.Sprintf("-%d", i) // unique (a letter runs out past 26 artifacts)
		a.Relations = append(a.Relations, "evil` $(touch "+markers[1]+") `")
		if len(a.Contents) > 0 {
			a.Contents = append(a.Contents, "```", "# Pwned contents")
		}
	}
	return m, markers
}

func noMarkers(t *testing.T, markers []string) {
	t.Helper()
	for _, mk := range markers {
		if _, err := os.Stat(mk); err == nil {
			t.Errorf("%s was created: a manifest value ran as a command", mk)
		}
	}
}

var fenceRE = regexp.MustCompile("(?m)^```(sh)?$")

func TestHostileMarkdownStaysText(t *testing.T) {
	dir := t.TempDir()
	m, markers := hostile(t, dir)
	if err := m.Validate(); err == nil {
		t.Fatal("the hostile manifest passes Validate")
	}
	if _, err := Markdown(m, ""); err == nil {
		t.Fatal("Markdown rendered a manifest that fails Validate")
	}
	d, err := doc(m)
	if err != nil {
		t.Fatal(err)
	}
	md, err := templates.Render(MarkdownTemplate, d)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(md), "\n")
	// Structure: no injected heading, every fence the template's own.
	good, err := Markdown(loadFixture(t), "")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(fenceRE.FindAllIndex(md, -1)), len(fenceRE.FindAllIndex(good, -1)); got != want {
		t.Errorf("%d fence lines, the valid manifest renders %d:\n%s", got, want, md)
	}
	// Headings outside fenced blocks (a # line inside one is code).
	headingsOf := func(text string) []string {
		var hs []string
		fenced := false
		for _, l := range strings.Split(text, "\n") {
			switch {
			case strings.HasPrefix(l, "```"):
				fenced = !fenced
			case !fenced && strings.HasPrefix(strings.TrimLeft(l, " "), "#"):
				hs = append(hs, l)
			}
		}
		return hs
	}
	headings := headingsOf(string(md))
	if want := headingsOf(string(good)); len(headings) != len(want) {
		t.Errorf("%d headings, the valid manifest renders %d: %q", len(headings), len(want), headings)
	}
	for _, h := range headings {
		if strings.Contains(h, "Pwned") && !strings.HasPrefix(h, "### ") {
			t.Errorf("injected heading: %q", h)
		}
	}
	if regexp.MustCompile(`(^|[^\\])<img`).Match(md) {
		t.Error("raw HTML from the homepage reached the Markdown unescaped")
	}

	// Every sh block parses, and run (sudo is a stub that records its
	// arguments) it passes each file name as one literal word.
	stub := filepath.Join(dir, "bin")
	if err := os.MkdirAll(stub, 0o755); err != nil {
		t.Fatal(err)
	}
	args := filepath.Join(dir, "sudo-args")
	if err := os.WriteFile(filepath.Join(stub, "sudo"), []byte("#!/bin/sh\nprintf '%s\\n' \"$*\" >> '"+args+"'\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	blocks := 0
	for i := 0; i < len(lines); i++ {
		if lines[i] != "```sh" {
			continue
		}
		var body []string
		for i++; i < len(lines) && lines[i] != "```"; i++ {
			body = append(body, lines[i])
		}
		script := strings.Join(body, "\n") + "\n"
		if !strings.Contains(script, "sudo ") {
			continue // the SHA256SUMS block: curl, not the manifest's names
		}
		blocks++
		p := filepath.Join(dir, "block.sh")
		if err := os.WriteFile(p, []byte(script), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("sh", "-n", p).CombinedOutput(); err != nil {
			t.Errorf("sh -n: %v\n%s\n%s", err, out, script)
		}
		cmd := exec.Command("sh", p)
		cmd.Dir = dir
		cmd.Env = []string{"PATH=" + stub + ":/usr/bin:/bin", "IFS= "}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("sh: %v\n%s\n%s", err, out, script)
		}
	}
	if blocks == 0 {
		t.Fatal("no install block found")
	}
	noMarkers(t, markers)
	got, _ := os.ReadFile(args)
	for _, a := range m.Artifacts {
		if a.Kind == "tarball" {
			continue
		}
		// A ddeb installs as a deb, a debuginfo rpm as an rpm; a debug
		// tarball is extracted into /usr/lib/debug.
		line := map[string]string{"deb": "apt install", "rpm": "dnf install", "tarball": "tar -xzf"}[manifest.Format(a.Kind)] + " ./" + a.File
		if a.Kind == manifest.KindDebugTarball {
			line += " -C /usr/lib/debug"
		}
		if !bytes.Contains(got, []byte(line+"\n")) {
			t.Errorf("sudo did not get %q as one word:\n%s", "./"+a.File, got)
		}
	}
}

func TestHostileInstallerStaysData(t *testing.T) {
	dir := t.TempDir()
	m, markers := hostile(t, dir)
	if _, err := Installer(m, ""); err == nil {
		t.Fatal("Installer rendered a manifest that fails Validate")
	}
	// Distro ids are in the script too.
	for i := range m.Distros {
		m.Distros[i].ID += "'; touch " + markers[0] + "; '"
	}
	for i := range m.Artifacts {
		if m.Artifacts[i].Distro != "" {
			m.Artifacts[i].Distro += "'; touch " + markers[0] + "; '"
		}
	}
	d, err := installerData(m, "https://example.com/r")
	if err != nil {
		t.Fatal(err)
	}
	script, err := templates.Render(InstallerTemplate, d)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "install.sh")
	if err := os.WriteFile(p, script, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("sh", "-n", p).CombinedOutput(); err != nil {
		t.Fatalf("sh -n: %v\n%s", err, out)
	}
	osr := filepath.Join(dir, "os-release")
	if err := os.WriteFile(osr, []byte("ID=debian\nVERSION_ID=\"12\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"--dry-run"}, {"--dry-run", "--static"}, {"--dry-run", "--tarball"}, {"--help"}} {
		cmd := exec.Command("sh", append([]string{p}, args...)...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "RELPACK_OS_RELEASE="+osr)
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); err != nil && !(ok && ee.ExitCode() == 4) {
			t.Errorf("sh install.sh %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		if args[0] == "--help" && !strings.Contains(string(out), "Installs gw'\ntouch "+markers[0]+" # 1.0'; touch ") {
			t.Errorf("--help does not print the product and version as given:\n%s", out)
		}
	}
	noMarkers(t, markers)
	// The header comment keeps the product on its line.
	if !strings.Contains(string(script), "# Installer for gw'?touch "+markers[0]+" # 1.0'; touch ") {
		t.Errorf("header comment:\n%.400s", script)
	}
}

// The grammars accept what real releases hold: pre-release and build
// metadata, ~ in deb names, epochs, signing records.
func TestValidateAcceptsRealShapes(t *testing.T) {
	m := clone(t, loadFixture(t))
	m.Version = "0.0.38-dev.108+g152d059"
	m.DebVersion = "0.0.38~dev.108+g152d059-1"
	m.RPMVersion = "0.0.38~dev.108+g152d059-1"
	m.Summary = "OpenShell gateway: 100% *fast* <server> | [beta] & more"
	m.License = "Apache-2.0 OR MIT"
	m.Homepage = "https://github.com/example/openshell?tab=readme#install"
	for i := range m.Artifacts {
		a := &m.Artifacts[i]
		if a.Kind == "deb" {
			a.File = strings.Replace(a.File, "0.1.0-1", "0.0.38~dev.108+g152d059-1", 1)
			a.PackageVersion = "1:0.0.38~dev.108+g152d059-1~deb12"
			for j := range a.SBOMs { // named after their artifact
				a.SBOMs[j].File = strings.Replace(a.SBOMs[j].File, "0.1.0-1", "0.0.38~dev.108+g152d059-1", 1)
			}
		}
	}
	m.Signing = &manifest.Signing{Fingerprint: strings.Repeat("AB12", 10), KeyID: strings.Repeat("CD34", 4), UserID: "OpenShell Release <release@example.com>", Signature: "SHA256SUMS.asc", PublicKey: "KEY.asc"}
	m.Provenance = &manifest.Provenance{File: "provenance.intoto.json", Signature: "provenance.intoto.json.asc"} // a signed release signs it
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	md, err := Markdown(m, "")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), `OpenShell gateway: 100% \*fast\* \<server\> \| \[beta\] & more.`) {
		t.Errorf("summary not escaped as Markdown text:\n%.600s", md)
	}
	if _, err := Installer(m, ""); err != nil {
		t.Fatal(err)
	}
}

// Every bad field is listed, each on its line, up to 20.
func TestValidateListsEveryProblem(t *testing.T) {
	m := clone(t, loadFixture(t))
	const bad = 12 // under the cap of 20
	for i := range m.Artifacts[:bad] {
		m.Artifacts[i].SHA256 = "x"
	}
	err := m.Validate()
	ie, ok := err.(*manifest.InvalidError)
	if !ok {
		t.Fatalf("%T %v", err, err)
	}
	if len(ie.Problems) != bad || ie.Problems[3].Field != "artifacts[3].sha256" {
		t.Errorf("problems: %+v", ie.Problems)
	}
	if n := strings.Count(err.Error(), "\n"); n != bad-1 {
		t.Errorf("%d lines:\n%v", n+1, err)
	}
	for i := range m.Artifacts {
		m.Artifacts[i].File = "a b"
	}
	ie = m.Validate().(*manifest.InvalidError)
	if len(ie.Problems) != 20 || ie.More == 0 || !strings.HasSuffix(ie.Error(), "more problems") {
		t.Errorf("cap: %d problems, %d more", len(ie.Problems), ie.More)
	}
}
