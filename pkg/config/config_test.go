package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const good = `name: openshell-gateway
summary: OpenShell gateway server
description: |
  The gateway.
maintainer: OpenShell maintainers <maintainers@example.org>
homepage: https://example.org/openshell
license: Apache-2.0
floor:
  glibc: "2.28"
z3: unbundled
inputs:
  x86_64-unknown-linux-gnu: bin/gw
  x86_64-unknown-linux-musl: /abs/gw-musl
files:
  - src: LICENSE
    dst: /usr/share/doc/openshell-gateway/README
systemd:
  unit: openshell-gateway.service
tarball:
  files: [LICENSE]
targets:
  - el8
  - debian12
  - id: el8-z3fix
    name: EL8 with a local Z3 build
    format: rpm
    glibc: "2.28"
    compression: xz
    arches: [x86_64]
    libc_package: glibc
    sonames:
      libz3.so.4: z3-local
  - id: debian11
    sonames:
      libfoo.so.1: libfoo1
license_file: LICENSE
copyright: 2025 The OpenShell authors
`

func TestParseGood(t *testing.T) {
	c, err := Parse("packaging.yaml", "/cfg", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if c.Inputs["x86_64-unknown-linux-gnu"] != "/cfg/bin/gw" || c.Inputs["x86_64-unknown-linux-musl"] != "/abs/gw-musl" {
		t.Errorf("inputs = %v", c.Inputs)
	}
	if c.Binary != "/usr/bin/openshell-gateway" || c.Files[0].Mode != "0644" || c.Files[0].Src != "/cfg/LICENSE" {
		t.Errorf("defaults: binary %q files %+v", c.Binary, c.Files)
	}
	if c.Systemd.UnitPath() != "/usr/lib/systemd/user/openshell-gateway.service" {
		t.Errorf("unit path %s", c.Systemd.UnitPath())
	}
	var ids []string
	for _, d := range c.Targets {
		ids = append(ids, d.ID)
	}
	if strings.Join(ids, ",") != "el8,debian12,el8-z3fix,debian11" {
		t.Errorf("targets %v", ids)
	}
	d11 := c.Targets[3]
	if d11.Sonames["libfoo.so.1"] != "libfoo1" || d11.Sonames["libz3.so.4"] != "libz3-4" || d11.Glibc != "2.31" {
		t.Errorf("override of debian11 should merge into the catalogue entry: %+v", d11)
	}
	// The override must not leak into the catalogue.
	c2, _ := Parse("p.yaml", "/", []byte(good))
	if _, ok := c2.Targets[1].Sonames["libfoo.so.1"]; ok {
		t.Error("override leaked into another target")
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		name, edit, want string
	}{
		{"unknown key", "z3: unbundled", "z3: unbundled\nbogus: 1"},
		{"wrong type", "z3: unbundled", "z3: unbundled\nbinary: [1, 2]"},
		{"bad z3", "z3: unbundled", "z3: maybe"},
		{"bad triple", "  x86_64-unknown-linux-gnu: bin/gw", "  x86_64-unknown-linux-gnu: bin/gw\n  riscv64-unknown-linux-gnu: x"},
		{"floor unsupported", `  glibc: "2.28"`, `  glibc: "2.99"`},
		{"floor below the catalog", `  glibc: "2.28"`, `  glibc: "2.27"`},
		{"target below floor", "  - debian12", "  - debian12\n  - id: old\n    name: Old\n    format: deb\n    glibc: \"2.27\"\n    compression: xz\n    arches: [x86_64]\n    libc_package: libc6"},
		{"unknown target", "  - debian12", "  - debian13x"},
		{"bad dst", "    dst: /usr/share/doc/openshell-gateway/README", "    dst: ../etc/x"},
		{"tmp dst", "    dst: /usr/share/doc/openshell-gateway/README", "    dst: /tmp/x"},
		{"proc dst", "    dst: /usr/share/doc/openshell-gateway/README", "    dst: /proc/self/x"},
		{"sys dst", "    dst: /usr/share/doc/openshell-gateway/README", "    dst: /sys/x"},
		{"dev dst", "    dst: /usr/share/doc/openshell-gateway/README", "    dst: /dev/x"},
		{"relative dst", "    dst: /usr/share/doc/openshell-gateway/README", "    dst: usr/share/x"},
		{"unknown distro field", "    compression: xz", "    compresion: xz"},
		{"bad compression", "    compression: xz", "    compression: brotli"},
	}
	wants := map[string]string{
		"unknown key":             "packaging.yaml:11: unknown field bogus",
		"wrong type":              "packaging.yaml:11: cannot unmarshal !!seq into string",
		"bad z3":                  `packaging.yaml:10: z3 "maybe": use bundled or unbundled`,
		"bad triple":              `packaging.yaml:13: unknown target triple "riscv64-unknown-linux-gnu"`,
		"floor unsupported":       `packaging.yaml:8: no target in the catalog ships glibc 2.99 or newer`,
		"floor below the catalog": `packaging.yaml:8: glibc floor 2.27 is below every catalog target's glibc`,
		"target below floor":      "target old ships glibc 2.27, below the promised floor 2.28",
		"unknown target":          `packaging.yaml:23: unknown distro target "debian13x"`,
		"bad dst":                 `must be an absolute path`,
		"tmp dst":                 `is under /tmp, which a package must not own`,
		"proc dst":                `is under /proc, which a package must not own`,
		"sys dst":                 `is under /sys, which a package must not own`,
		"dev dst":                 `is under /dev, which a package must not own`,
		"relative dst":            `files[0].dst: "usr/share/x" must be an absolute path`,
		"unknown distro field":    `packaging.yaml:28: unknown field "compresion" in a distro target`,
		"bad compression":         `packaging.yaml:28: target el8-z3fix: compression "brotli"`,
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := strings.Replace(good, c.edit, c.want, 1)
			if src == good {
				t.Fatalf("edit %q did not apply", c.edit)
			}
			_, err := Parse("packaging.yaml", "/cfg", []byte(src))
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), wants[c.name]) {
				t.Errorf("error = %v\nwant it to contain %q", err, wants[c.name])
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if err == nil || !strings.Contains(err.Error(), "nope.yaml: cannot read the configuration") {
		t.Errorf("err = %v", err)
	}
	empty := filepath.Join(t.TempDir(), "empty.yaml")
	os.WriteFile(empty, nil, 0o644)
	if _, err := Load(empty); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("empty file: %v", err)
	}
}

func TestSigningSection(t *testing.T) {
	cases := map[string]string{
		"signing:\n  key_file: k.asc\n  key_env: K\n": "give key_file or key_env, not both",
		"signing: {}\n": "give key_file (path of the private key) or key_env",
		"signing:\n  key_env: \"-----BEGIN PGP PRIVATE KEY BLOCK-----\"\n": "key material does not belong in packaging.yaml",
		"signing:\n  key_env: 1BAD\n":                                      "must be the name of an environment variable",
	}
	for add, want := range cases {
		_, err := Parse("packaging.yaml", "/cfg", []byte(good+add))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", add, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "BEGIN PGP") {
			t.Errorf("the error echoes key material: %v", err)
		}
	}
	c, err := Parse("packaging.yaml", "/cfg", []byte(good+"signing:\n  key_file: keys/release.asc\n"))
	if err != nil || c.Signing == nil || c.Signing.KeyFile != "/cfg/keys/release.asc" {
		t.Errorf("key_file: %v %+v", err, c)
	}
}
