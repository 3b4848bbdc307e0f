package pack

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"relpack/internal/testdeps"
)

// The fixture time: 2026-01-01T00:00:00Z, as from SOURCE_DATE_EPOCH.
var fixtureMTime = time.Unix(1767225600, 0)

const fixtureName = "relpack-hello"

// Environment of the child process of TestReproducible (see TestMain).
const (
	envChildOut   = "RELPACK_PACK_CHILD_OUT"
	envChildELF   = "RELPACK_PACK_CHILD_ELF"
	envChildUmask = "RELPACK_PACK_CHILD_UMASK"
)

// TestMain doubles as the child process of TestReproducible: with
// RELPACK_PACK_CHILD_OUT set, the test binary writes every fixture artifact
// into that directory under the umask and TZ its parent chose, then exits.
func TestMain(m *testing.M) {
	if out := os.Getenv(envChildOut); out != "" {
		if err := childWrite(out); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func childWrite(out string) error {
	mask, err := strconv.ParseUint(os.Getenv(envChildUmask), 8, 32)
	if err != nil {
		return fmt.Errorf("%s: %w", envChildUmask, err)
	}
	syscall.Umask(int(mask))
	in, err := os.MkdirTemp("", "relpack-child-in-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(in)
	if err := writeFixtureInputs(in, os.Getenv(envChildELF)); err != nil {
		return err
	}
	// Input files with another mtime than the parent's: only the given
	// mtime may reach the artifacts.
	old := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	entries, _ := os.ReadDir(in)
	for _, e := range entries {
		os.Chtimes(filepath.Join(in, e.Name()), old, old)
	}
	_, offset := time.Now().Zone()
	note := fmt.Sprintf("tz_offset=%d umask=%o\n", offset, mask)
	if err := os.WriteFile(filepath.Join(out, "child-env.txt"), []byte(note), 0o644); err != nil {
		return err
	}
	return writeFixtures(in, out)
}

// run runs a command and returns its stdout; it fails the test with the
// command's output when the command fails.
func run(t *testing.T, env []string, name string, args ...string) string {
	t.Helper()
	out, err := runErr(env, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

func runErr(env []string, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		return stdout.String() + stderr.String(), err
	}
	return stdout.String(), nil
}

// buildELF compiles a small hardened, stripped executable: a real ELF file
// for the package content, as lintian and rpm see in a release.
func buildELF(t *testing.T) string {
	t.Helper()
	testdeps.Tools(t, "gcc")
	testdeps.File(t, "/usr/include/stdio.h") // libc6-dev: gcc cannot link without it
	dir := t.TempDir()
	src := filepath.Join(dir, "hello.c")
	if err := os.WriteFile(src, []byte("#include <stdio.h>\nint main(void) { puts(\"hello from relpack\"); return 0; }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "hello")
	run(t, nil, "gcc", "-O2", "-s", "-fPIE", "-pie", "-Wl,-z,relro,-z,now", "-o", bin, src)
	return bin
}

// writeFixtureInputs writes the input files of the fixtures into dir with
// the process's umask and the current time: the binary (a copy of elf), a
// README and a stand-in shared library.
func writeFixtureInputs(dir, elf string) error {
	b, err := os.ReadFile(elf)
	if err != nil {
		return err
	}
	files := map[string][]byte{
		"hello":       b,
		"README.md":   []byte("# relpack-hello\n\nRun `relpack-hello`.\n"),
		"libstub.so":  []byte("not really a library\n"),
		"LICENSE.txt": []byte("Apache License 2.0 (stand-in text for the tests)\n"),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o666); err != nil {
			return err
		}
	}
	return nil
}

// fixtureTarEntries is a tarball like the release's: the binary at the top,
// docs next to it, a sidecar library in lib/.
func fixtureTarEntries(in string) []TarEntry {
	return []TarEntry{
		{Name: fixtureName, Src: filepath.Join(in, "hello"), Mode: 0o755},
		{Name: "README.md", Src: filepath.Join(in, "README.md"), Mode: 0o644},
		{Name: "lib/libz3.so.4", Src: filepath.Join(in, "libstub.so"), Mode: 0o644},
		{Name: "share/doc/NOTICE", Data: []byte("inline notice\n"), Mode: 0o644},
		{Name: "share/empty", IsDir: true, Mode: 0o750},
		{Name: "share/doc/" + strings.Repeat("long-name-", 12) + ".txt", Data: []byte("a name longer than ustar's 100 bytes\n"), Mode: 0o600},
	}
}

const fixtureCopyright = `Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: relpack-hello
Source: https://example.com/relpack-hello

Files: *
Copyright: 2026 The relpack authors
License: Apache-2.0
 On Debian systems, the full text of the Apache License 2.0 can be found
 in /usr/share/common-licenses/Apache-2.0.
`

const fixtureUnit = `[Unit]
Description=relpack hello
Documentation=https://example.com/relpack-hello

[Service]
ExecStart=/usr/bin/relpack-hello

[Install]
WantedBy=multi-user.target
`

// fixtureSpec is a package of the fixture binary in the shape the build
// step produces: binary, copyright, a config file and a systemd unit.
func fixtureSpec(format, in string) PackageSpec {
	s := PackageSpec{
		Format: format, Name: fixtureName, Arch: "amd64",
		Version: "0.0.38", Prerelease: "dev.108", VersionMetadata: "g152d059", Release: "1",
		Maintainer: "Relpack Tests <relpack-tests@example.com>", Vendor: "The relpack authors",
		Homepage: "https://example.com/relpack-hello", License: "Apache-2.0",
		Summary: "Greeting server used by the relpack tests",
		Description: "relpack-hello prints a greeting. It exists so that relpack's package writers are tested with a real ELF executable, a config file, a systemd unit and documentation.\n\n" +
			"Requires glibc 2.34 or later (Debian 12, Ubuntu 22.04, EL9); relpack verified the binary needs at most GLIBC_2.34.",
		Section: "net", Priority: "optional", Group: "Applications/Internet",
		Compression: "xz", MTime: fixtureMTime,
		Files: []PackageFile{
			{Src: filepath.Join(in, "hello"), Dst: "/usr/bin/" + fixtureName, Mode: 0o755},
			{Data: []byte(fixtureCopyright), Dst: "/usr/share/doc/" + fixtureName + "/copyright", Mode: 0o644},
			{Data: []byte("listen: 127.0.0.1:8080\n"), Dst: "/etc/" + fixtureName + "/config.yaml", Mode: 0o644, Config: true},
			{Data: []byte(fixtureUnit), Dst: "/usr/lib/systemd/system/" + fixtureName + ".service", Mode: 0o644},
		},
	}
	switch format {
	case "deb":
		s.Depends = []string{"libc6 (>= 2.34)", "libz3-4"}
		s.Provides = []string{"relpack-greeter"}
		s.ExtraFields = map[string]string{"X-Relpack-Glibc-Floor": "2.34"}
	case "rpm":
		s.Depends = []string{"libc.so.6(GLIBC_2.34)(64bit)", "glibc >= 2.34", "z3-libs"}
		s.Provides = []string{"relpack-greeter = 0.0.38"}
	}
	return s
}

// writeFixtures writes every fixture artifact into out: the tarball and the
// packages in every compression, for both architectures.
func writeFixtures(in, out string) error {
	if err := WriteTarGz(filepath.Join(out, fixtureName+"-x86_64-unknown-linux-gnu.tar.gz"), fixtureTarEntries(in), fixtureMTime); err != nil {
		return err
	}
	for format, comps := range compressions {
		for _, c := range comps {
			for _, arch := range []string{"amd64", "arm64"} {
				s := fixtureSpec(format, in)
				s.Compression, s.Arch = c, arch
				// One directory per variant: the file name does not
				// carry the compression.
				dir := filepath.Join(out, format+"-"+c+"-"+arch)
				if err := os.MkdirAll(dir, 0o755); err != nil {
					return err
				}
				if _, err := WritePackage(s, dir); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
