package release

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"relpack/internal/testdeps"
	"relpack/pkg/config"
	"relpack/pkg/pack"
	"relpack/pkg/smoke"
)

func bullseyeRoot(t *testing.T) string {
	t.Helper()
	out, err := exec.Command(testdeps.Script(t, "scripts/bullseye-root.sh"), "amd64").Output()
	if err != nil {
		t.Fatalf("scripts/bullseye-root.sh (needs root, debootstrap and the Debian mirror): %v", err)
	}
	root := strings.TrimSpace(string(out))
	if _, err := os.Stat(filepath.Join(root, "usr/lib/x86_64-linux-gnu/libz3.so.4")); err == nil {
		t.Fatalf("%s has a system libz3: the sidecar test needs a root without one", root)
	}
	return root
}

func arm64Sysroot(t *testing.T) string { return bullseyeSysroot(t, "arm64") }

// bullseyeSysroot returns testdata/sysroot.sh's Debian bullseye sysroot
// for arch (amd64, arm64: glibc 2.31, libstdc++ 10), made once and cached.
func bullseyeSysroot(t *testing.T, arch string) string {
	t.Helper()
	dest := filepath.Join(testdeps.CacheDir(), "sysroots", "bullseye-"+arch)
	if out, err := exec.Command(testdeps.Script(t, "testdata/sysroot.sh"), arch, dest).CombinedOutput(); err != nil {
		t.Fatalf("testdata/sysroot.sh %s: %v\n%s", arch, err, out)
	}
	return dest
}

// TestSidecarStartsWithoutSystemZ3 extracts each sidecar tarball onto a
// bullseye root that has no libz3 and starts its binary with
// LD_BIND_NOW=1: it must report the sidecar's Z3 (the stub answers
// 4.99.1.0 and names the file it was loaded from).
func TestSidecarStartsWithoutSystemZ3(t *testing.T) {
	if os.Getuid() != 0 {
		t.Fatal("needs root (chroot); CI runs as root")
	}
	dist := demoDist(t)
	cases := []struct {
		tarball, root string
		mode          smoke.Mode
	}{
		{"openshell-gateway-x86_64-unknown-linux-gnu-z3.tar.gz", bullseyeRoot(t), smoke.ModeChroot},
		{"openshell-gateway-x86_64-unknown-linux-gnu-z3.tar.gz", bullseyeRoot(t), smoke.ModeLoader},
		{"openshell-gateway-aarch64-unknown-linux-gnu-z3.tar.gz", arm64Sysroot(t), smoke.ModeLoader},
		{"openshell-gateway-aarch64-unknown-linux-gnu-z3.tar.gz", arm64Sysroot(t), smoke.ModeChroot},
	}
	for _, c := range cases {
		t.Run(c.tarball+"/"+string(c.mode), func(t *testing.T) {
			res, err := smoke.Run(smoke.Options{Root: c.root, File: filepath.Join(dist, c.tarball), Mode: c.mode})
			if err != nil {
				t.Fatal(err)
			}
			if !res.OK || !strings.Contains(res.Stdout, "z3 4.99.1.0 from ") || !strings.Contains(res.Stdout, "/lib/libz3.so.4") {
				t.Errorf("sidecar binary: ok=%v\nstdout %s\nstderr %s", res.OK, res.Stdout, res.Stderr)
			}
		})
	}
	// Negative controls: the plain gnu tarball (no sidecar), and the
	// sidecar layout with the unedited binary (no RUNPATH), both fail
	// with the loader's own message.
	plain := filepath.Join(dist, "openshell-gateway-x86_64-unknown-linux-gnu.tar.gz")
	noRunpath := filepath.Join(t.TempDir(), "openshell-gateway-x86_64-unknown-linux-gnu-z3.tar.gz")
	if err := pack.WriteTarGz(noRunpath, []pack.TarEntry{
		{Name: "bin/openshell-gateway", Src: "../../testdata/fixtures/demo/x86_64-unknown-linux-gnu/openshell-gateway", Mode: 0o755},
		{Name: "lib/libz3.so.4", Src: "../../testdata/fixtures/x86_64/libz3.so.4", Mode: 0o644},
	}, time.Unix(DefaultEpoch, 0)); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{plain, noRunpath} {
		res, err := smoke.Run(smoke.Options{Root: bullseyeRoot(t), File: f, Mode: smoke.ModeChroot})
		if err != nil {
			t.Fatal(err)
		}
		if res.OK || !strings.Contains(res.Stderr+res.LoaderError, "libz3.so.4: cannot open shared object file") {
			t.Errorf("%s should fail to load libz3: ok=%v stderr %s", filepath.Base(f), res.OK, res.Stderr)
		}
	}
}

func sidecarConfig(t *testing.T, lib string) *config.Config {
	t.Helper()
	c := loadDemo(t)
	c.Targets = nil
	c.Tarball.Sidecar.Libraries = map[string]string{"x86_64": lib}
	delete(c.Inputs, "aarch64-unknown-linux-gnu")
	return c
}

func TestSidecarRefusals(t *testing.T) {
	cases := []struct {
		name, lib string
		want      []string
	}{
		{"bookworm libz3 under floor 2.28", "/usr/lib/x86_64-linux-gnu/libz3.so.4",
			[]string{"breaks the promised floor", "GLIBC_2.32:", "GLIBC_2.34:", "GLIBCXX_3.4.29:", "GLIBCXX_3.4.30:", "Bundle a libz3 built against glibc 2.28"}},
		{"soname mismatch", "../../testdata/fixtures/x86_64/libz3.so.4.8",
			[]string{`has SONAME "libz3.so.4.8", but`, "needs libz3.so.4"}},
		{"wrong machine", "../../testdata/fixtures/aarch64/libz3.so.4",
			[]string{"is built for aarch64; input x86_64-unknown-linux-gnu needs an x86_64 library"}},
		{"not a library", "../../testdata/fixtures/x86_64/hello-2.28",
			[]string{"is a pie-executable, not a shared library"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if filepath.IsAbs(c.lib) {
				testdeps.File(t, c.lib)
			} else if _, err := os.Stat(c.lib); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(t.TempDir(), "dist")
			_, err := Run(Options{Config: sidecarConfig(t, c.lib), Version: "1.0.0", OutDir: out, Epoch: DefaultEpoch})
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			if entries, _ := os.ReadDir(out); len(entries) > 0 {
				t.Errorf("a refused build left files: %v", entries)
			}
		})
	}
}
