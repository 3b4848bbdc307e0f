package smoke

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"relpack/internal/testdeps"
	"relpack/pkg/abi"
	"relpack/pkg/pack"
)

// The search order: a tarball's sidecar library, found through the
// binary's RUNPATH, is what the loader takes, even when the root has a
// library of the same soname in its own folders (ld.so: RUNPATH before the
// cache and the default folders). Here the sidecar is the stub libz3 (it
// exports only Z3_get_version) and the root has Debian bullseye's real
// libz3-4: a program that imports Z3_mk_int must fail in both modes with
// the loader's "undefined symbol: Z3_mk_int". Loader mode used to put the
// root's folders on --library-path, searched before RUNPATH, so it loaded
// the root's real libz3 and passed.

var (
	z3SysrootOnce sync.Once
	z3SysrootDir  string
	z3SysrootErr  error
)

// z3Sysroot returns a folder of Debian bullseye amd64 packages: the C
// toolchain's libc files plus the real libz3-4 (4.8.10), unpacked by testdata/sysroot.sh (cached; idempotent).
func z3Sysroot(t *testing.T) string {
	t.Helper()
	script := testdeps.Script(t, "testdata/sysroot.sh")
	z3SysrootOnce.Do(func() {
		cache := testdeps.CacheDir()
		dest := filepath.Join(cache, "sysroots", "bullseye-amd64-z3")
		out, err := exec.Command(script, "amd64", dest,
			"libc6", "libc6-dev", "linux-libc-dev", "libgcc-s1", "libstdc++6", "libgcc-10-dev", "libstdc++-10-dev",
			"libz3-4").CombinedOutput()
		if err != nil {
			z3SysrootErr = errors.New(strings.TrimSpace(string(out)) + ": " + err.Error())
			return
		}
		z3SysrootDir = dest
	})
	if z3SysrootErr != nil {
		t.Fatalf("testdata/sysroot.sh amd64 (with libz3-4) failed (needs apt-get, dpkg and the Debian mirror): %v", z3SysrootErr)
	}
	return z3SysrootDir
}

// z3MkIntSource imports Z3_mk_int, which the stub lacks; it is never
// called (LD_BIND_NOW binds it at start-up all the same).
const z3MkIntSource = `#include <stdio.h>
void Z3_get_version(unsigned *, unsigned *, unsigned *, unsigned *);
void *Z3_mk_int(void *, int, void *);

int main(int argc, char **argv)
{
	unsigned a, b, c, d;
	Z3_get_version(&a, &b, &c, &d);
	printf("z3 %u.%u.%u.%u\n", a, b, c, d);
	if (argc > 99)
		return Z3_mk_int(0, argc, 0) != 0;
	return 0;
}
`

// buildZ3MkInt links z3MkIntSource against bullseye's glibc 2.31 and real
// libz3.so.4, with RUNPATH runpath (default $ORIGIN/../lib, the sidecar
// layout; "" for none).
func buildZ3MkInt(t *testing.T, s string, runpath ...string) string {
	rp := "$ORIGIN/../lib"
	if len(runpath) > 0 {
		rp = runpath[0]
	}
	t.Helper()
	gcc := testdeps.Tool(t, "gcc")
	dir := t.TempDir()
	src := filepath.Join(dir, "z3-mkint.c")
	if err := os.WriteFile(src, []byte(z3MkIntSource), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "z3-mkint")
	lib := s + "/usr/lib/x86_64-linux-gnu"
	args := []string{"--sysroot=" + s, "-B" + lib, "-L" + lib, "-L" + s + "/lib/x86_64-linux-gnu",
		"-Wl,-rpath-link=" + s + "/lib/x86_64-linux-gnu:" + lib,
		"-Os", "-o", bin, src, lib + "/libz3.so.4"}
	if rp != "" { // "": no RUNPATH, the root's folders alone
		args = append(args, "-Wl,-rpath,"+rp, "-Wl,--enable-new-dtags")
	}
	cmd := exec.Command(gcc, args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%q: %v\n%s", cmd.Args, err, out)
	}
	return bin
}

// rootWithZ3 returns a copy of the bullseye root (hard links: the cached
// root is never written) with bullseye's real libz3.so.4 installed in
// usr/lib/x86_64-linux-gnu, where libz3-4 puts it (its other NEEDED,
// libstdc++6 and libgcc-s1, are in the root already).
func rootWithZ3(t *testing.T, s string) string {
	t.Helper()
	copyRoot := privateBullseye(t, "bullseye-z3")
	cp := testdeps.Tool(t, "cp")
	args := []string{"-a", s + "/usr/lib/x86_64-linux-gnu/libz3.so.4", copyRoot + "/usr/lib/x86_64-linux-gnu/"}
	if out, err := exec.Command(cp, args...).CombinedOutput(); err != nil {
		t.Fatalf("cp %q: %v\n%s", args, err, out)
	}
	return copyRoot
}

func TestRunpathBeforeRootFolders(t *testing.T) {
	testdeps.Tools(t, "unshare", "mount", "chroot", "sh")
	s := z3Sysroot(t)
	bin := buildZ3MkInt(t, s)
	root := rootWithZ3(t, s)

	tarball := func(withStub bool) string {
		p := filepath.Join(t.TempDir(), "openshell-gateway-x86_64-unknown-linux-gnu.tar.gz")
		entries := []pack.TarEntry{{Name: "bin/openshell-gateway", Src: bin, Mode: 0o755}}
		if withStub {
			entries = append(entries, pack.TarEntry{Name: "lib/libz3.so.4", Src: fx + "x86_64/libz3.so.4", Mode: 0o644})
		}
		if err := pack.WriteTarGz(p, entries, time.Unix(0, 0)); err != nil {
			t.Fatal(err)
		}
		return p
	}
	stub, plain := tarball(true), tarball(false)

	for _, m := range modes {
		t.Run(string(m), func(t *testing.T) {
			// Control: without a sidecar the root's real libz3 answers.
			res := run(t, Options{Root: root, File: plain, Mode: m})
			wantPass(t, res, "z3 4.8.10")

			// The sidecar stub comes first and lacks Z3_mk_int.
			res = run(t, Options{Root: root, File: stub, Mode: m})
			wantFail(t, res, "undefined symbol: Z3_mk_int")
			if m == ModeChroot {
				noLeftovers(t, root)
			}
		})
	}
}

// The private-library layout (a package that ships its own libz3 in
// /usr/lib/NAME and points the binary's RUNPATH there): an absolute RUNPATH
// folder is the root's, not this host's, and comes before the root's own
// libz3. Loader mode used to look for /usr/lib/openshell-gateway on the
// host, then took the root's real libz3 from --library-path and passed.
func TestAbsoluteRunpathInsideRoot(t *testing.T) {
	testdeps.Tools(t, "unshare", "mount", "chroot", "sh")
	s := z3Sysroot(t)
	bin := buildZ3MkInt(t, s, "/usr/lib/openshell-gateway")
	root := rootWithZ3(t, s)
	private := filepath.Join(root, "usr/lib/openshell-gateway")
	if err := os.Mkdir(private, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := copyFile(fx+"x86_64/libz3.so.4", filepath.Join(private, "libz3.so.4"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, m := range modes {
		t.Run(string(m), func(t *testing.T) {
			res := run(t, Options{Root: root, File: bin, Mode: m})
			wantFail(t, res, "undefined symbol: Z3_mk_int")
		})
	}
}

// DT_RPATH $ORIGIN/../lib (the rpath fixture) is searched before
// --library-path by the loader itself: it reaches the same sidecar file the
// search found, which loader mode accepts.
func TestRpathSidecar(t *testing.T) {
	root := bullseye(t)
	p := filepath.Join(t.TempDir(), "openshell-gateway-x86_64-unknown-linux-gnu.tar.gz")
	entries := []pack.TarEntry{
		{Name: "bin/openshell-gateway", Src: fx + "x86_64/rpath", Mode: 0o755},
		{Name: "lib/libz3.so.4", Src: fx + "x86_64/libz3.so.4", Mode: 0o644},
	}
	if err := pack.WriteTarGz(p, entries, time.Unix(0, 0)); err != nil {
		t.Fatal(err)
	}
	for _, m := range modes {
		t.Run(string(m), func(t *testing.T) {
			wantPass(t, run(t, Options{Root: root, File: p, Mode: m}), "z3 4.99.1.0\n")
		})
	}
}

// $ORIGIN is the folder the program really is in (the kernel resolves the
// path it starts), not the folder of a link to it.
func TestOriginOfALink(t *testing.T) {
	root := bullseye(t)
	dir := t.TempDir()
	for _, d := range []string{"real/bin", "real/lib", "links"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := copyFile(fx+"x86_64/runpath", filepath.Join(dir, "real/bin/openshell-gateway"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := copyFile(fx+"x86_64/libz3.so.4", filepath.Join(dir, "real/lib/libz3.so.4"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "links/openshell-gateway")
	if err := os.Symlink("../real/bin/openshell-gateway", link); err != nil {
		t.Fatal(err)
	}
	wantPass(t, run(t, Options{Root: root, File: link, Mode: ModeLoader}), "z3 4.99.1.0\n")
}

// The search itself, without starting anything: breadth-first, first
// name wins, RUNPATH only for the object that has it, missing names
// reported with where they were looked for.
func TestSearchTree(t *testing.T) {
	s := z3Sysroot(t)
	root := rootWithZ3(t, s)
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "lib"), 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "bin/z3-mkint")
	if err := copyFile(buildZ3MkInt(t, s), bin, 0o755); err != nil {
		t.Fatal(err)
	}
	// A libstdc++.so.6 beside the sidecar: the real libz3 needs one, but
	// its search does not read the program's RUNPATH, so the root's wins.
	if err := copyFile(fx+"x86_64/libz3.so.4", filepath.Join(dir, "lib/libstdc++.so.6"), 0o644); err != nil {
		t.Fatal(err)
	}
	f := inspect(t, bin)
	ld, err := findLoader(root, "x86_64", f.Interpreter)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := searchTree(root, bin, f, ld)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	var order []string
	for _, l := range tr.libs {
		got[l.name] = l.host
		order = append(order, l.name)
	}
	if len(tr.missing) != 0 {
		t.Errorf("missing %+v", tr.missing)
	}
	if want := []string{"libz3.so.4", "libc.so.6"}; len(order) < 2 || order[0] != want[0] || order[1] != want[1] {
		t.Errorf("order %q: want the program's NEEDED first, in file order (%q), then theirs", order, want)
	}
	if !strings.HasPrefix(got["libz3.so.4"], root+"/") {
		t.Errorf("libz3.so.4 = %s, want the root's (the sidecar folder holds none)", got["libz3.so.4"])
	}
	if !strings.HasPrefix(got["libstdc++.so.6"], root+"/") {
		t.Errorf("libstdc++.so.6 = %s, want the root's: the program's RUNPATH does not serve libz3's NEEDED", got["libstdc++.so.6"])
	}
	if got["ld-linux-x86-64.so.2"] != "" {
		t.Errorf("ld-linux-x86-64.so.2 (libz3's NEEDED) was searched for: the loader itself answers to it")
	}

	// Without the root's libz3: missing, with the places searched.
	tr, err = searchTree(bullseye(t), bin, f, mustLoader(t, bullseye(t), f))
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.missing) != 1 || tr.missing[0].name != "libz3.so.4" ||
		!strings.Contains(strings.Join(tr.missing[0].searched, ","), dir+"/bin/../lib") {
		t.Errorf("missing = %+v, want libz3.so.4 searched in %s/bin/../lib first", tr.missing, dir)
	}
}

func mustLoader(t *testing.T, root string, f *abi.Facts) loader {
	t.Helper()
	ld, err := findLoader(root, f.Machine, f.Interpreter)
	if err != nil {
		t.Fatal(err)
	}
	return ld
}

func inspect(t *testing.T, p string) *abi.Facts {
	t.Helper()
	f, err := abi.Inspect(p)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestDstAt(t *testing.T) {
	for _, c := range []struct {
		in   string
		name string
		n    int
	}{
		{"ORIGIN/../lib", "ORIGIN", 6},
		{"{ORIGIN}/lib", "ORIGIN", 8},
		{"ORIGINAL", "", 0},
		{"ORIGIN", "ORIGIN", 6},
		{"LIB", "LIB", 3},
		{"{PLATFORM}", "PLATFORM", 10},
		{"HOME", "", 0},
	} {
		if name, n := dstAt(c.in); name != c.name || n != c.n {
			t.Errorf("dstAt(%q) = %q, %d; want %q, %d", c.in, name, n, c.name, c.n)
		}
	}
}
