package config

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestHostileFields feeds each one-line field a value that would write a
// second line into a deb control file, conffiles/md5sums or the systemd
// unit, or that no package manager installs: every one must be refused at
// load time with the line it came from.
func TestHostileFields(t *testing.T) {
	cases := []struct {
		name, edit, with, want string
	}{
		{"maintainer newline", "maintainer: OpenShell maintainers <maintainers@example.org>",
			`maintainer: "A <a@b>\nPre-Depends: evil\nEssential: yes"`, `packaging.yaml:5: maintainer holds a newline (\n); it must be one line`},
		{"maintainer block scalar", "maintainer: OpenShell maintainers <maintainers@example.org>",
			"maintainer: |\n  OpenShell maintainers <maintainers@example.org>", `packaging.yaml:5: maintainer holds a newline`},
		{"maintainer no address", "maintainer: OpenShell maintainers <maintainers@example.org>",
			"maintainer: OpenShell maintainers", `packaging.yaml:5: maintainer "OpenShell maintainers" must be "Name <address>"`},
		{"maintainer two", "maintainer: OpenShell maintainers <maintainers@example.org>",
			"maintainer: A <a@b.org>, B <b@b.org>", `must be "Name <address>"`},
		{"homepage newline", "homepage: https://example.org/openshell", `homepage: "https://example.org/\nX: y"`, `packaging.yaml:6: homepage holds a newline`},
		{"homepage not url", "homepage: https://example.org/openshell", `homepage: "javascript:alert(1)"`, `packaging.yaml:6: homepage "javascript:alert(1)" must be an http(s) URL`},
		{"license newline", "license: Apache-2.0", `license: "MIT\nEssential: yes"`, `packaging.yaml:7: license holds a newline`},
		{"license junk", "license: Apache-2.0", `license: "MIT; rm -rf"`, `is not an SPDX license expression`},
		{"copyright cr", "copyright: 2025 The OpenShell authors", `copyright: "2025 X\rY"`, `copyright holds a carriage return`},
		{"vendor newline", "z3: unbundled", "z3: unbundled\nvendor: \"V\\nX: y\"", `packaging.yaml:11: vendor holds a newline`},
		{"section newline", "z3: unbundled", "z3: unbundled\nsection: \"net\\nEssential: yes\"", `section holds a newline`},
		{"section bad", "z3: unbundled", "z3: unbundled\nsection: Net Tools", `section "Net Tools" is not a Debian section`},
		{"priority bad", "z3: unbundled", "z3: unbundled\npriority: urgent", `priority "urgent": use one of required, important, standard, optional, extra`},
		{"group newline", "z3: unbundled", "z3: unbundled\ngroup: \"A\\nB\"", `group holds a newline`},
		{"summary cr", "summary: OpenShell gateway server", `summary: "OpenShell\rgateway"`, `packaging.yaml:2: summary must be one line`},
		{"description cr", "description: |\n  The gateway.", `description: "a\rb"`, `description holds a carriage return`},
		{"description nul", "description: |\n  The gateway.", `description: "a\u0000b"`, `description holds the control character U+0000`},
		{"unit args newline", "  unit: openshell-gateway.service", "  unit: openshell-gateway.service\n  args: \"serve\\nExecStartPre=/bin/sh -c id\\nUser=root\"", `packaging.yaml:19: systemd.args holds a newline`},
		{"unit description newline", "  unit: openshell-gateway.service", "  unit: openshell-gateway.service\n  description: \"a\\nUser=root\"", `systemd.description holds a newline`},
		{"unit args continuation", "  unit: openshell-gateway.service", "  unit: openshell-gateway.service\n  args: 'serve \\'", `systemd.args: `},
		{"unit name", "  unit: openshell-gateway.service", "  unit: \"gw service.service\"", `systemd.unit "gw service.service" must be a file name`},
		{"binary space", "z3: unbundled", "z3: unbundled\nbinary: /usr/bin/open shell", `binary: "/usr/bin/open shell": the part "open shell" may hold only`},
		{"binary percent", "z3: unbundled", "z3: unbundled\nbinary: /usr/bin/gw%n", `the part "gw%n" may hold only`},
		{"binary dir", "z3: unbundled", "z3: unbundled\nbinary: /usr/bin", `"/usr/bin" is a directory the base system owns`},
		{"dst newline", "    dst: /usr/share/doc/openshell-gateway/README", "    dst: \"/etc/gw.conf\\n/etc/passwd\"\n    config: true", `packaging.yaml:16: files[0].dst: "/etc/gw.conf\n/etc/passwd" holds a newline`},
		{"dst system dir", "    dst: /usr/share/doc/openshell-gateway/README", "    dst: /usr/bin", `files[0].dst: "/usr/bin" is a directory the base system owns`},
		{"dst merged usr", "    dst: /usr/share/doc/openshell-gateway/README", "    dst: /bin/gw", `is under /bin, a link to /usr/bin on merged-/usr systems; install to /usr/bin/gw`},
		{"dst usr local", "    dst: /usr/share/doc/openshell-gateway/README", "    dst: /usr/local/bin/gw", `is under /usr/local, which a package must not own`},
		{"dst dot", "    dst: /usr/share/doc/openshell-gateway/README", "    dst: /usr/share/./x", `must be a clean path`},
		{"dst is binary", "    dst: /usr/share/doc/openshell-gateway/README", "    dst: /usr/bin/openshell-gateway", `files[0].dst: /usr/bin/openshell-gateway is already binary`},
		{"dst is unit", "    dst: /usr/share/doc/openshell-gateway/README", "    dst: /usr/lib/systemd/user/openshell-gateway.service", `is already the systemd unit`},
		{"dst duplicate", "    dst: /usr/share/doc/openshell-gateway/README", "    dst: /etc/gw/a\n  - src: LICENSE\n    dst: /etc/gw/a", `packaging.yaml:18: files[1].dst: /etc/gw/a is already files[0].dst`},
		{"dst parent", "    dst: /usr/share/doc/openshell-gateway/README", "    dst: /etc/gw\n  - src: LICENSE\n    dst: /etc/gw/a.conf", `/etc/gw (files[0].dst) is a file, but /etc/gw/a.conf (files[1].dst) is inside it`},
		{"dst parent of binary", "    dst: /usr/share/doc/openshell-gateway/README", "    dst: /usr/bin/openshell-gateway/x", `/usr/bin/openshell-gateway (binary) is a file, but /usr/bin/openshell-gateway/x (files[0].dst) is inside it`},
		{"mode zero", "    dst: /usr/share/doc/openshell-gateway/README", "    dst: /etc/gw.conf\n    mode: \"0\"", `packaging.yaml:17: files[0].mode "0" gives the owner no read permission`},
		{"src newline", "  - src: LICENSE", "  - src: \"LIC\\nENSE\"", `packaging.yaml:15: files[0].src holds a newline`},
		{"tarball file name", "  files: [LICENSE]", "  files: [\"docs/$(id).md\"]", `the file name "$(id).md" goes into the tarball`},
		{"target name newline", "    name: EL8 with a local Z3 build", "    name: \"EL8\\n# injected\"", `packaging.yaml:25: target el8-z3fix: name "EL8\n# injected" goes into install docs`},
		{"release suffix", "    compression: xz", "    compression: xz\n    release_suffix: \"el8\\nX\"", `release_suffix "el8\nX": use letters`},
		{"soname", "      libz3.so.4: z3-local", "      \"libz3.so.4\\nx\": z3-local", `is not a soname`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := strings.Replace(good, c.edit, c.with, 1)
			if src == good {
				t.Fatalf("edit %q did not apply", c.edit)
			}
			_, err := Parse("packaging.yaml", "/cfg", []byte(src))
			if err == nil {
				t.Fatalf("accepted:\n%s", src)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error = %v\nwant it to contain %q", err, c.want)
			}
		})
	}
}

// TestFriendlyFields: what the checks must keep accepting.
func TestFriendlyFields(t *testing.T) {
	src := strings.NewReplacer(
		"maintainer: OpenShell maintainers <maintainers@example.org>", "maintainer: Zoë Ünïcode-O'Brien <zoe+pkg@example.org>",
		"license: Apache-2.0", `license: "MIT OR Apache-2.0"`,
		"z3: unbundled", "z3: unbundled\nsection: contrib/net\npriority: optional\nbinary: /usr/libexec/openshell/gw+v2@x86_64\n",
		"  The gateway.", "  The gateway.\n\n  .\n  Second paragraph: 100% of it.",
	).Replace(good)
	c, err := Parse("packaging.yaml", "/cfg", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if c.Maintainer != "Zoë Ünïcode-O'Brien <zoe+pkg@example.org>" || c.Binary != "/usr/libexec/openshell/gw+v2@x86_64" {
		t.Errorf("%q %q", c.Maintainer, c.Binary)
	}
}

// TestLoadSpecialFiles: a FIFO, a device or a huge file as -c must be an
// error at once, never a hang or an out-of-memory death.
func TestLoadSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.yaml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, []byte(strings.Repeat("# x\n", MaxConfigSize/4+1)), 0o644); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		fifo:        "is a named pipe, not a regular file",
		"/dev/zero": "is a device, not a regular file",
		dir:         "is a directory, not a regular file",
		big:         "is larger than 1 MiB",
	} {
		_, err := Load(path)
		if err == nil || !strings.Contains(err.Error(), path+": ") || !strings.Contains(err.Error(), want) {
			t.Errorf("Load(%s) = %v, want %q", path, err, want)
		}
	}
}

func TestLibraries(t *testing.T) {
	src := strings.Replace(good, "z3: unbundled", `z3: unbundled
libraries:
  libz3:
    min_version: "4.8.17"
    why: z3 crate 0.20 needs Z3 4.8.17
    files:
      x86_64: lib/libz3.so.4
    private: [debian12]`, 1)
	c, err := Parse("packaging.yaml", "/cfg", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	lib, stem, ok := c.LibraryFor("libz3.so.4.8")
	if !ok || stem != "libz3" || lib.MinVersion != "4.8.17" || lib.Files["x86_64"] != "/cfg/lib/libz3.so.4" {
		t.Errorf("LibraryFor = %+v %q %v", lib, stem, ok)
	}
	if !c.PrivateFor("debian12", "libz3") || c.PrivateFor("el8", "libz3") {
		t.Error("PrivateFor")
	}
	for edit, want := range map[string]string{
		`min_version: "4.8.17"`:  `libraries.libz3.min_version "4..8" is not a version`,
		`private: [debian12]`:    `libraries.libz3.private names target "debian13x"`,
		`x86_64: lib/libz3.so.4`: `libraries.libz3.files: unknown architecture "riscv64"`,
	} {
		one := strings.Replace(src, edit, map[string]string{
			`min_version: "4.8.17"`:  `min_version: "4..8"`,
			`private: [debian12]`:    `private: [debian13x]`,
			`x86_64: lib/libz3.so.4`: `riscv64: lib/libz3.so.4`,
		}[edit], 1)
		if _, err := Parse("packaging.yaml", "/cfg", []byte(one)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", edit, err, want)
		}
	}
}
