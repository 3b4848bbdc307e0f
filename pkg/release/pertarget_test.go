package release

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"relpack/internal/testdeps"
	"relpack/pkg/config"
)

// Issue 10's end-to-end case, with the captured facts of Debian 11, 12
// and 13's real libz3-4: a binary calling Z3_mk_char_sort (new in Z3 4.9,
// exported by Debian 13's 4.13.3, absent from 4.8.10 and 4.8.12) is
// refused for debian11 and debian12, naming the function, and accepted for
// debian13; with libz3 private it is packaged for debian12 and starts, with
// LD_BIND_NOW=1, in a bookworm root that has no libz3-4.

// charSortInput links, against a bullseye sysroot (floor 2.28) and a stub
// libz3.so.4 that exports Z3_get_version and Z3_mk_char_sort, a program
// calling both; it returns the program and the stub.
func charSortInput(t *testing.T) (bin, stub string) {
	t.Helper()
	testdeps.Tools(t, "gcc")
	sr := bullseyeSysroot(t, "amd64")
	tr := "x86_64-linux-gnu"
	flags := []string{"--sysroot=" + sr, "-B" + sr + "/usr/lib/" + tr, "-L" + sr + "/usr/lib/" + tr, "-L" + sr + "/lib/" + tr,
		"-Wl,-rpath-link=" + sr + "/lib/" + tr + ":" + sr + "/usr/lib/" + tr}
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	libDir := filepath.Join(dir, "lib")
	os.MkdirAll(libDir, 0o755)
	stub = filepath.Join(libDir, "libz3.so.4")
	gcc := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("gcc", append(flags, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("gcc %v: %v\n%s", args, err, out)
		}
	}
	gcc("-shared", "-fPIC", "-Wl,-soname,libz3.so.4", "-o", stub, write("z3.c", `
void Z3_get_version(unsigned *a, unsigned *b, unsigned *c, unsigned *d) { *a = 4; *b = 13; *c = 3; *d = 0; }
void *Z3_mk_char_sort(void *ctx) { return ctx; }
`))
	os.Symlink("libz3.so.4", filepath.Join(libDir, "libz3.so"))
	bin = filepath.Join(dir, "openshell-gateway")
	gcc("-o", bin, write("main.c", `#include <stdio.h>
void Z3_get_version(unsigned *, unsigned *, unsigned *, unsigned *);
void *Z3_mk_char_sort(void *);
int main(int argc, char **argv) {
	unsigned a, b, c, d;
	Z3_get_version(&a, &b, &c, &d);
	printf("z3 %u.%u.%u.%u char sort %s\n", a, b, c, d, Z3_mk_char_sort(argv) == argv ? "ok" : "wrong");
	return 0;
}
`), "-L"+libDir, "-lz3")
	return bin, stub
}

// charSortConfig is the demo cut down to this input and the given
// targets (and libraries: text).
func charSortConfig(t *testing.T, bin, targets, libraries string) *config.Config {
	t.Helper()
	cfg := hostileDemo(t, func(s string) string {
		i := strings.Index(s, "inputs:\n")
		j := strings.Index(s, "binary:")
		s = s[:i] + "inputs:\n  x86_64-unknown-linux-gnu: " + bin + "\n" + s[j:]
		i = strings.Index(s, "tarball:\n")
		return s[:i] + "tarball:\n  files: []\n" + libraries + "targets:\n" + targets
	})
	c, err := config.Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestZ3FunctionPerTarget(t *testing.T) {
	bin, _ := charSortInput(t)
	for _, c := range []struct {
		target string
		ok     bool
	}{{"debian11", false}, {"debian12", false}, {"debian13", true}} {
		t.Run(c.target, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "dist")
			cfg := charSortConfig(t, bin, "  - id: "+c.target+"\n    arches: [x86_64]\n", "")
			m, err := Run(Options{Config: cfg, Version: demoVer, OutDir: out, Epoch: DefaultEpoch})
			if c.ok {
				if err != nil {
					t.Fatal(err)
				}
				for _, a := range m.Artifacts {
					if a.Kind == "deb" && strings.Join(a.Relations, ", ") != "libc6 (>= 2.28), libz3-4 (>= 4.13.3)" {
						t.Errorf("%s relations %q", a.File, a.Relations)
					}
				}
				return
			}
			if err == nil {
				t.Fatalf("%s accepted a binary calling Z3_mk_char_sort", c.target)
			}
			for _, want := range []string{"target " + c.target, "does not export Z3_mk_char_sort, which the binary imports"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error lacks %q:\n%v", want, err)
				}
			}
			if strings.Contains(err.Error(), "Z3_get_version") {
				t.Errorf("Z3_get_version is exported everywhere; the error names it:\n%v", err)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("--out exists after a refused build")
			}
		})
	}
}

// TestZ3PrivateOnBookworm: with libz3 private for debian12, the package
// carries the library, depends on no libz3-4, installs in a bookworm root
// without libz3-4 and starts there with LD_BIND_NOW=1.
func TestZ3PrivateOnBookworm(t *testing.T) {
	if os.Getuid() != 0 {
		t.Fatal("needs root (debootstrap, chroot); CI runs as root")
	}
	testdeps.Tools(t, "chroot", "sh", "cp", "dpkg-deb")
	bin, stub := charSortInput(t)
	cfg := charSortConfig(t, bin, "  - id: debian12\n    arches: [x86_64]\n",
		"libraries:\n  libz3:\n    files:\n      x86_64: "+stub+"\n    private: [debian12]\n")
	out := filepath.Join(t.TempDir(), "dist")
	if _, err := Run(Options{Config: cfg, Version: demoVer, OutDir: out, Epoch: DefaultEpoch}); err != nil {
		t.Fatal(err)
	}
	debs := filesIn(t, out, "*~deb12_amd64.deb")
	if len(debs) != 1 {
		t.Fatalf("debs: %v", debs)
	}
	if dep := sh(t, "", "dpkg-deb", "-f", debs[0], "Depends"); strings.Contains(dep, "libz3") {
		t.Errorf("a private libz3 still depends on the distro's: %s", dep)
	}
	o, e, err := run("", nil, testdeps.Script(t, "scripts/debian-root.sh"), "amd64", "bookworm")
	if err != nil {
		t.Fatalf("bookworm root: %v\n%s", err, e)
	}
	root := strings.TrimSpace(o)
	if _, err := os.Stat(filepath.Join(root, "usr/lib/x86_64-linux-gnu/libz3.so.4")); err == nil {
		t.Fatalf("%s has a libz3 of its own", root)
	}
	work := t.TempDir()
	copyRoot(t, root, filepath.Join(work, "m"))
	sh(t, "", "cp", debs[0], filepath.Join(work, "m/tmp/gw.deb"))
	script := `set -u
R=$1 W=$2
chroot "$W/m" dpkg -i /tmp/gw.deb || exit 91
chroot "$W/m" dpkg -s libz3-4 >/dev/null 2>&1 && { echo "libz3-4 is installed"; exit 92; }
LD_BIND_NOW=1 chroot "$W/m" /usr/bin/openshell-gateway
`
	res, err := exec.Command("sh", "-c", script, "sh", root, work).CombinedOutput()
	if err != nil {
		t.Fatalf("install and start in bookworm: %v\n%s", err, res)
	}
	if !strings.Contains(string(res), "z3 4.13.3.0 char sort ok") {
		t.Errorf("the binary did not run on its private libz3:\n%s", res)
	}
}

// copyRoot copies a cached test root to dst (cp -a), so dpkg can change
// the copy and the cache stays pristine. A copy rather than an overlay
// mount: overlayfs refuses an upper folder that is itself on overlayfs,
// which is how fresh-machine CI roots (and many containers) are built.
func copyRoot(t *testing.T, root, dst string) {
	t.Helper()
	sh(t, "", "cp", "-a", root, dst)
}
