// Package rpmroot is test support for the tests that install relpack's rpms
// with the real rpm (and dnf) into a root of their own: stand-in packages
// that provide what an EL host's packages provide, the rpm database of an
// EL8-like host made from them, and a minimal root in which rpm can run
// /bin/sh scriptlets. Nothing in relpack itself imports it.
package rpmroot

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"relpack/internal/testdeps"
	"relpack/pkg/pack"
)

// Epoch is the build time of the stand-in packages: relpack's default
// SOURCE_DATE_EPOCH (release.DefaultEpoch, 2020-01-01; pkg/release's tests
// import this package, so it cannot import pkg/release).
const Epoch int64 = 1577836800

// StandIn writes, into dir, an rpm that only provides what the named EL8
// package provides: enough for `rpm --root R -i --justdb` to seed an
// EL8-like rpm database that resolves relpack's requires. It returns the
// rpm's path.
func StandIn(t testing.TB, dir, name, ver string, provides []string) string {
	t.Helper()
	p, err := pack.WritePackage(pack.PackageSpec{
		Format: "rpm", Name: name, Arch: "amd64", Version: ver, Release: "1.el8",
		Maintainer: "EL8 stand-in <root@localhost>", Summary: name + " stand-in", Description: "Provides what EL8's " + name + " provides.",
		License: "LGPL-2.1-or-later", Homepage: "https://example.org", Compression: "xz",
		Provides: provides, MTime: time.Unix(Epoch, 0),
		Files: []pack.PackageFile{{Data: []byte("stand-in\n"), Dst: "/usr/share/doc/" + name + "-" + ver + "-standin/README", Mode: 0o644}},
	}, dir)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// EL8GlibcProvides is what EL8's glibc provides of what the demo's el8
// binaries require.
func EL8GlibcProvides() []string {
	var out []string
	for _, v := range []string{"2.2.5", "2.3", "2.3.4", "2.4", "2.7", "2.14", "2.17", "2.28"} {
		out = append(out, fmt.Sprintf("libc.so.6(GLIBC_%s)(64bit)", v))
	}
	return append(out, "libc.so.6()(64bit)", "libdl.so.2()(64bit)", "libdl.so.2(GLIBC_2.2.5)(64bit)", "rtld(GNU_HASH)")
}

// SeedEL8 makes root's rpm database (rpm --root root --initdb) and records
// in it, without their files (--justdb --nodeps), stand-ins for what an
// EL8 host has installed that relpack's el8 rpm needs: glibc 2.28
// (EL8GlibcProvides), z3-libs 4.8.7 (libz3.so.4.8()(64bit)), bash
// (/bin/sh) and systemd, the last two for the service scriptlets.
func SeedEL8(t testing.TB, root string) {
	t.Helper()
	testdeps.Tools(t, "rpm")
	dir := t.TempDir()
	rpm := func(args ...string) {
		t.Helper()
		cmd := exec.Command("rpm", append([]string{"--root", root}, args...)...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			t.Fatalf("rpm --root %s %s: %v\n%s", root, strings.Join(args, " "), err, out.String())
		}
	}
	rpm("--initdb")
	for _, p := range []string{
		StandIn(t, dir, "glibc", "2.28", EL8GlibcProvides()),
		StandIn(t, dir, "z3-libs", "4.8.7", []string{"libz3.so.4.8()(64bit)"}),
		StandIn(t, dir, "bash", "4.4.20", []string{"/bin/sh"}),
		StandIn(t, dir, "systemd", "239", nil),
	} {
		rpm("-i", "--justdb", "--nodeps", "--ignorearch", p)
	}
}

// ShellRoot makes a root in which rpm can run /bin/sh scriptlets: dash as
// /bin/sh with the C library and loader it needs, /dev/null, and, with
// systemctl, a /usr/bin/systemctl that appends its arguments, one call a
// line, to /var/log/systemctl.log. With running, the root looks like one
// booted with systemd (/run/systemd/system, what sd_booted tests). It
// needs root (mknod).
func ShellRoot(t testing.TB, running, systemctl bool) string {
	t.Helper()
	testdeps.File(t, "/bin/sh")
	testdeps.File(t, "/lib/x86_64-linux-gnu/libc.so.6")
	testdeps.File(t, "/lib64/ld-linux-x86-64.so.2")
	dash := testdeps.Tool(t, "dash")
	root := filepath.Join(t.TempDir(), "root")
	for src, dst := range map[string]string{
		dash:                              "bin/sh",
		"/lib/x86_64-linux-gnu/libc.so.6": "lib/x86_64-linux-gnu/libc.so.6",
		"/lib64/ld-linux-x86-64.so.2":     "lib64/ld-linux-x86-64.so.2",
	} {
		data, err := os.ReadFile(src) // follows links: real files in the root
		if err != nil {
			t.Fatal(err)
		}
		WriteFile(t, filepath.Join(root, dst), string(data), 0o755)
	}
	if systemctl {
		WriteFile(t, filepath.Join(root, "usr/bin/systemctl"), "#!/bin/sh\necho \"$*\" >>/var/log/systemctl.log\n", 0o755)
	}
	if err := os.MkdirAll(filepath.Join(root, "var/log"), 0o755); err != nil {
		t.Fatal(err)
	}
	// /dev/null, which the scriptlets redirect to (without it the
	// redirection fails and the command is not run at all).
	if err := os.MkdirAll(filepath.Join(root, "dev"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mknod(filepath.Join(root, "dev/null"), syscall.S_IFCHR|0o666, 1<<8|3 /* makedev(1, 3) */); err != nil {
		t.Fatalf("mknod /dev/null in the root: %v", err)
	}
	if running {
		// What scriptlets test for "systemd is running" (sd_booted).
		if err := os.MkdirAll(filepath.Join(root, "run/systemd/system"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// WriteFile writes data to p with mode, making its parent folders.
func WriteFile(t testing.TB, p, data string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
}
