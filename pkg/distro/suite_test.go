package distro_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"relpack/pkg/config"
	"relpack/pkg/distro"
)

// Every deb target of the catalogue names its apt suite (relpack repo
// publishes under dists/SUITE/); rpm targets have none.
func TestCatalogSuites(t *testing.T) {
	want := map[string]string{"debian11": "bullseye", "debian12": "bookworm", "debian13": "trixie", "ubuntu2204": "jammy", "ubuntu2404": "noble", "ubuntu2604": "resolute"}
	for _, d := range distro.Catalog() {
		if d.Format == "deb" && want[d.ID] == "" {
			t.Errorf("deb target %s: add it to this test with its suite", d.ID)
		}
		if d.Suite != want[d.ID] {
			t.Errorf("%s: suite %q, want %q", d.ID, d.Suite, want[d.ID])
		}
	}
}

func TestSuiteValidated(t *testing.T) {
	d, _ := distro.Lookup("debian12")
	for _, bad := range []string{"Bookworm", "book worm", "../x", "bookworm\nX: y", "-x"} {
		d.Suite = bad
		if errs := d.Validate(); len(errs) != 1 || errs[0].Field != "suite" {
			t.Errorf("suite %q: %v, want one suite error", bad, errs)
		}
	}
	r, _ := distro.Lookup("el8")
	r.Suite = "bookworm"
	if errs := r.Validate(); len(errs) != 1 || !strings.Contains(errs[0].Msg, "rpm target has none") {
		t.Errorf("rpm target with a suite: %v", errs)
	}
}

// An inline target in packaging.yaml may set or override suite, and a bad
// one is refused at its line.
func TestInlineTargetSuite(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	os.WriteFile(bin, []byte("x"), 0o755)
	write := func(targets string) string {
		p := filepath.Join(dir, "packaging.yaml")
		os.WriteFile(p, []byte(`name: demo
summary: demo
maintainer: A <a@example.org>
license: MIT
license_file: bin
homepage: https://example.org
copyright: 2025 A
floor: {glibc: "2.28"}
inputs:
  x86_64-unknown-linux-gnu: bin
binary: /usr/bin/demo
targets:
`+targets), 0o644)
		return p
	}
	cfg, err := config.Load(write("  - {id: debian12, suite: bookworm-relpack}\n  - debian11\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Targets[0].Suite != "bookworm-relpack" || cfg.Targets[1].Suite != "bullseye" {
		t.Errorf("suites %q %q", cfg.Targets[0].Suite, cfg.Targets[1].Suite)
	}
	_, err = config.Load(write("  - debian11\n  - {id: debian12, suite: Bad Suite}\n"))
	if err == nil || !strings.Contains(err.Error(), "packaging.yaml:14") || !strings.Contains(err.Error(), "not an apt suite name") {
		t.Errorf("bad inline suite: %v", err)
	}
}
