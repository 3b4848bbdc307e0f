package smoke

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"relpack/internal/testdeps"
)

var modes = []Mode{ModeLoader, ModeChroot}

func TestX86AgainstBullseye(t *testing.T) {
	root := privateBullseye(t, "bullseye")
	testdeps.Tools(t, "unshare", "mount", "chroot", "sh")
	for _, m := range modes {
		t.Run(string(m), func(t *testing.T) {
			res := run(t, Options{Root: root, File: fx + "x86_64/hello-2.28", Mode: m})
			wantPass(t, res, "(1 args)") // the default --version
			if res.Mode != m || res.Machine != "x86_64" || res.Loader == "" {
				t.Errorf("mode %q machine %q loader %q", res.Mode, res.Machine, res.Loader)
			}

			res = run(t, Options{Root: root, File: fx + "x86_64/hello-2.28", Mode: m, Args: []string{"a", "b", "c"}})
			wantPass(t, res, "(3 args)")

			res = run(t, Options{Root: root, File: fx + "x86_64/hello-bookworm", Mode: m})
			wantFail(t, res, "version `GLIBC_2.34' not found (required by ")
			if res.Stdout != "" {
				t.Errorf("hello-bookworm printed %q: it must not have started", res.Stdout)
			}

			// The demo gateway needs libz3.so.4, which the root lacks. In a
			// chroot the loader says so itself; through the loader the host's
			// libz3 (if any) must not stand in for it.
			res = run(t, Options{Root: root, File: fx + "demo/x86_64-unknown-linux-gnu/openshell-gateway", Mode: m})
			wantFail(t, res, "libz3.so.4: cannot open shared object file")
			if m == ModeChroot && !strings.Contains(res.LoaderError, "error while loading shared libraries") {
				t.Errorf("chroot: want the loader's own line, got %q", res.LoaderError)
			}
			if m == ModeChroot {
				noLeftovers(t, root)
			}
		})
	}
}

// The root's own env(1), started by smoke, shows what the program gets: a
// clean environment with LD_BIND_NOW=1, nothing of the caller's.
func TestEnvironment(t *testing.T) {
	root := bullseye(t)
	env, err := resolveIn(root, "usr/bin/env")
	if err != nil {
		t.Fatalf("the bullseye root has no usr/bin/env: %v", err)
	}
	t.Setenv("LD_LIBRARY_PATH", "/nonexistent")
	t.Setenv("LD_PRELOAD", "/nonexistent/libx.so")
	t.Setenv("RELPACK_SMOKE_CALLER", "leaked")
	for _, m := range modes {
		res := run(t, Options{Root: root, File: env, Mode: m, Args: []string{}})
		wantPass(t, res, "LD_BIND_NOW=1\n")
		for _, bad := range []string{"LD_LIBRARY_PATH", "LD_PRELOAD", "RELPACK_SMOKE_CALLER"} {
			if strings.Contains(res.Stdout, bad) || strings.Contains(res.Stderr, bad) {
				t.Errorf("%s: the caller's %s reached the program:\n%s%s", m, bad, res.Stdout, res.Stderr)
			}
		}
	}
}

// The sidecar layout: bin/openshell-gateway finds lib/libz3.so.4 through
// RUNPATH $ORIGIN/../lib, in both modes (in a chroot only because /proc is
// mounted). The stub reports 4.99.1.0: no other libz3 was loaded.
func TestSidecarArtifact(t *testing.T) {
	root := privateBullseye(t, "bullseye")
	with, without := sidecarTarball(t, true), sidecarTarball(t, false)
	for _, m := range modes {
		t.Run(string(m), func(t *testing.T) {
			res := run(t, Options{Root: root, File: with, Mode: m})
			wantPass(t, res, "z3 4.99.1.0\n")
			if res.Binary != "bin/openshell-gateway" {
				t.Errorf("binary %q, want bin/openshell-gateway", res.Binary)
			}
			// Negative control: the same tarball without lib/.
			res = run(t, Options{Root: root, File: without, Mode: m})
			wantFail(t, res, "libz3.so.4: cannot open shared object file")
			if m == ModeChroot {
				noLeftovers(t, root)
			}
		})
	}
}

// A flat artifact: the program at the archive root, named like the tarball.
func TestFlatArtifact(t *testing.T) {
	root := bullseye(t)
	dir := t.TempDir()
	p := filepath.Join(dir, "openshell-gateway-x86_64-unknown-linux-gnu.tar.gz")
	writeTar(t, p, []tarFile{
		{name: "LICENSE", body: "demo\n", mode: 0o644},
		{name: "openshell-gateway", src: fx + "demo/x86_64-unknown-linux-gnu-bundled/openshell-gateway", mode: 0o755},
	})
	for _, m := range modes {
		res := run(t, Options{Root: root, File: p, Mode: m})
		wantPass(t, res, "z3 4.99.1.0 (bundled)")
		if res.Binary != "openshell-gateway" {
			t.Errorf("binary %q", res.Binary)
		}
	}
	// --bin picks another file; a missing one is bad input.
	if _, err := Run(Options{Root: root, File: p, Binary: "bin/nope", Mode: ModeLoader}); !isBad(err, "no file \"bin/nope\"") {
		t.Errorf("--bin bin/nope: %v", err)
	}
}

func TestAarch64UnderQemu(t *testing.T) {
	testdeps.Tools(t, "qemu-aarch64-static")
	root := privateCopy(t, arm64Sysroot(t), "arm64")
	res := run(t, Options{Root: root, File: fx + "aarch64/hello-2.28", Mode: ModeLoader})
	wantPass(t, res, "hello from ")
	if res.Machine != "aarch64" || !strings.Contains(strings.Join(res.Notes, " "), "qemu-aarch64-static") {
		t.Errorf("machine %q notes %q", res.Machine, res.Notes)
	}
	res = run(t, Options{Root: root, File: fx + "aarch64/hello-bookworm", Mode: ModeLoader})
	wantFail(t, res, "version `GLIBC_2.34' not found")

	// auto on a folder of libc files (no bin/sh) is loader mode.
	res = run(t, Options{Root: root, File: fx + "aarch64/hello-2.28"})
	if res.Mode != ModeLoader {
		t.Errorf("auto on a libc folder ran %s", res.Mode)
	}

	// chroot: qemu copied into the root; the kernel's PT_INTERP resolves there.
	needRoot(t)
	res = run(t, Options{Root: root, File: fx + "aarch64/hello-2.28", Mode: ModeChroot, Args: []string{"x"}})
	wantPass(t, res, "(1 args)")
	res = run(t, Options{Root: root, File: fx + "aarch64/hello-bookworm", Mode: ModeChroot})
	wantFail(t, res, "version `GLIBC_2.34' not found")
	noLeftovers(t, root)
	for _, d := range []string{"tmp", "proc"} {
		if _, err := os.Lstat(filepath.Join(root, d)); err == nil {
			t.Errorf("chroot mode left %s/ in a root that had none", d)
		}
	}
}

func TestStatic(t *testing.T) {
	root := bullseye(t)
	for _, m := range modes {
		res := run(t, Options{Root: root, File: fx + "x86_64/hello-musl-static", Mode: m})
		wantPass(t, res, "hello from ")
		if !strings.Contains(strings.Join(res.Notes, " "), "no glibc") {
			t.Errorf("%s: no note that nothing of glibc was checked: %q", m, res.Notes)
		}
	}
}

func TestAuto(t *testing.T) {
	root := bullseye(t)
	res := run(t, Options{Root: root, File: fx + "x86_64/hello-2.28"})
	if res.Mode != ModeChroot {
		t.Errorf("auto as root on a full root ran %s, want chroot", res.Mode)
	}
}

func TestTimeout(t *testing.T) {
	root := bullseye(t)
	sleep, err := resolveIn(root, "bin/sleep")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res := run(t, Options{Root: root, File: sleep, Mode: ModeLoader, Args: []string{"30"}, Timeout: time.Second})
	if res.OK || time.Since(start) > 20*time.Second || !strings.Contains(strings.Join(res.Notes, " "), "killed after 1s") {
		t.Errorf("timeout: ok=%v after %s, notes %q", res.OK, time.Since(start), res.Notes)
	}
}

func isBad(err error, want string) bool {
	var e *Error
	return errors.As(err, &e) && strings.Contains(err.Error(), want)
}

func TestBadInput(t *testing.T) {
	root := bullseye(t)
	arm := arm64Sysroot(t)
	empty := t.TempDir()
	notELF := filepath.Join(t.TempDir(), "notes.txt")
	os.WriteFile(notELF, []byte("hello\n"), 0o755)
	for _, c := range []struct {
		o    Options
		want string
	}{
		{Options{Root: root, File: notELF}, notELF + ": not an ELF executable"},
		{Options{Root: root, File: fx + "x86_64/nope"}, "x86_64/nope: cannot read it"},
		{Options{Root: arm, File: fx + "x86_64/hello-2.28", Mode: ModeLoader}, "is an aarch64 root (it has lib/"},
		{Options{Root: arm, File: fx + "x86_64/hello-2.28", Mode: ModeChroot}, "give an x86_64 root"},
		{Options{Root: root, File: fx + "aarch64/hello-2.28", Mode: ModeLoader}, "is an x86_64 root"},
		{Options{Root: empty, File: fx + "x86_64/hello-2.28", Mode: ModeLoader}, "has no x86_64 glibc dynamic loader (looked for lib64/ld-linux-x86-64.so.2, lib/x86_64-linux-gnu/ld-*.so"},
		{Options{Root: filepath.Join(empty, "missing"), File: fx + "x86_64/hello-2.28"}, "root not found"},
		{Options{Root: "", File: fx + "x86_64/hello-2.28"}, "no root given"},
		{Options{Root: "/", File: fx + "x86_64/hello-2.28"}, "the host itself"},
		{Options{Root: root, File: fx + "x86_64/libz3.so.4"}, "is a shared-library, not an executable"},
		{Options{Root: root, File: fx + "x86_64/hello-2.28", Mode: "vm"}, `unknown mode "vm"`},
		{Options{Root: root, File: fx + "x86_64/hello-2.28", Binary: "x"}, "not a .tar.gz"},
	} {
		_, err := Run(c.o)
		if !isBad(err, c.want) {
			t.Errorf("Run(%+v): error %v, want a *smoke.Error with %q", c.o, err, c.want)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(root, "tmp", "relpack-smoke-*")); len(left) > 0 {
		t.Errorf("bad input left %v", left)
	}
}

// resolveIn keeps absolute link targets and ".." inside the root.
func TestResolveIn(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "lib/x86_64-linux-gnu"), 0o755)
	os.WriteFile(filepath.Join(root, "lib/x86_64-linux-gnu/ld-2.31.so"), nil, 0o755)
	os.Symlink("/lib/x86_64-linux-gnu/ld-2.31.so", filepath.Join(root, "lib/ld.so"))
	os.Symlink("lib", filepath.Join(root, "lib64"))
	os.Symlink("../../../../../../etc", filepath.Join(root, "etc"))
	os.Symlink("loop", filepath.Join(root, "loop"))
	want := filepath.Join(root, "lib/x86_64-linux-gnu/ld-2.31.so")
	for _, p := range []string{"/lib64/ld.so", "lib/ld.so", "/../../lib/ld.so"} {
		if got, err := resolveIn(root, p); err != nil || got != want {
			t.Errorf("resolveIn(%q) = %q, %v; want %q", p, got, err, want)
		}
	}
	if got, err := resolveIn(root, "etc/passwd"); err == nil || strings.HasPrefix(got, "/etc") {
		t.Errorf("etc/passwd escaped the root: %q %v", got, err)
	}
	if _, err := resolveIn(root, "loop"); err == nil {
		t.Error("a link loop resolved")
	}
}

type tarFile struct {
	name, body, src, link string
	typ                   byte
	mode                  int64
}

func writeTar(t *testing.T, p string, files []tarFile) {
	t.Helper()
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	zw := gzip.NewWriter(f)
	tw := tar.NewWriter(zw)
	for _, e := range files {
		body := []byte(e.body)
		if e.src != "" {
			if body, err = os.ReadFile(e.src); err != nil {
				t.Fatal(err)
			}
		}
		h := &tar.Header{Name: e.name, Mode: e.mode, Typeflag: e.typ, Linkname: e.link}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(body))
		}
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			tw.Write(body)
		}
	}
	tw.Close()
	zw.Close()
	f.Close()
}

// Hostile tarballs are refused before anything is started, and nothing is
// written outside the extraction folder.
func TestUnsafeArtifacts(t *testing.T) {
	root := privateBullseye(t, "bullseye")
	outside := t.TempDir()
	for _, c := range []struct {
		name  string
		files []tarFile
		want  string
	}{
		{"abs", []tarFile{{name: outside + "/pwned", body: "x"}}, "absolute path"},
		{"dotdot", []tarFile{{name: "bin/../../pwned", body: "x"}}, `contains ".."`},
		{"abs-link", []tarFile{{name: "lib", typ: tar.TypeSymlink, link: outside}}, "absolute link targets are refused"},
		{"up-link", []tarFile{{name: "lib", typ: tar.TypeSymlink, link: "../.."}}, "outside the archive"},
		{"chained-link", []tarFile{
			{name: "a/b/c/p", typ: tar.TypeSymlink, link: "../../.."},
			{name: "a/b/c/w", typ: tar.TypeSymlink, link: "p/../../.."},
		}, "leads outside the archive"},
		{"through-link", []tarFile{
			{name: "d", typ: tar.TypeDir, mode: 0o755},
			{name: "l", typ: tar.TypeSymlink, link: "d"},
			{name: "l/pwned", body: "x"},
		}, "is not a folder"},
		{"hardlink", []tarFile{{name: "x", typ: tar.TypeLink, link: "/etc/passwd"}}, "hard link"},
		{"device", []tarFile{{name: "null", typ: tar.TypeChar}}, "device, FIFO"},
	} {
		p := filepath.Join(t.TempDir(), "openshell-gateway-x86_64-unknown-linux-gnu.tar.gz")
		writeTar(t, p, c.files)
		for _, m := range modes {
			_, err := Run(Options{Root: root, File: p, Mode: m})
			if !isBad(err, c.want) {
				t.Errorf("%s (%s): error %v, want %q", c.name, m, err, c.want)
			}
		}
	}
	if ents, _ := os.ReadDir(outside); len(ents) > 0 {
		t.Errorf("an artifact wrote outside its folder: %v", ents)
	}
	noLeftovers(t, root)
}

func TestLoaderLine(t *testing.T) {
	for in, want := range map[string]string{
		"hello\n./x: /lib/libc.so.6: version `GLIBC_2.34' not found (required by ./x)\n":                                     "./x: /lib/libc.so.6: version `GLIBC_2.34' not found (required by ./x)",
		"./x: error while loading shared libraries: libz3.so.4: cannot open shared object file: No such file or directory\n": "./x: error while loading shared libraries: libz3.so.4: cannot open shared object file: No such file or directory",
		"panic: boom\n": "",
	} {
		if got := loaderLine(in); got != want {
			t.Errorf("loaderLine(%q) = %q, want %q", in, got, want)
		}
	}
}
