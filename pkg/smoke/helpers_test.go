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
	"relpack/pkg/pack"
)

// These tests start real binaries against real roots: a debootstrapped
// Debian bullseye (glibc 2.31) and a folder of bullseye arm64 libc files run
// under qemu. CI runs them as root on Debian 12; a missing tool or privilege
// is a failure that says what to install, never a skip.

const fx = "../../testdata/fixtures/"

var (
	bullseyeOnce sync.Once
	bullseyeDir  string
	bullseyeErr  error
	arm64Once    sync.Once
	arm64Dir     string
	arm64Err     error
)

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatalf("this test needs root (debootstrap, unshare, mount, chroot): run `go test ./pkg/smoke/` as root, as CI does")
	}
}

// bullseye returns the cached debootstrapped Debian bullseye amd64 root.
func bullseye(t *testing.T) string {
	t.Helper()
	needRoot(t)
	script := testdeps.Script(t, "scripts/bullseye-root.sh")
	bullseyeOnce.Do(func() {
		out, err := exec.Command(script, "amd64").CombinedOutput()
		if err != nil {
			bullseyeErr = errors.New(strings.TrimSpace(string(out)) + ": " + err.Error())
			return
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		bullseyeDir = lines[len(lines)-1]
	})
	if bullseyeErr != nil {
		t.Fatalf("scripts/bullseye-root.sh amd64 failed (needs root, debootstrap and the Debian mirror): %v", bullseyeErr)
	}
	return bullseyeDir
}

// arm64Sysroot returns a folder of Debian bullseye arm64 libc files (cached
// next to the bullseye roots; testdata/sysroot.sh is idempotent).
func arm64Sysroot(t *testing.T) string {
	t.Helper()
	script := testdeps.Script(t, "testdata/sysroot.sh")
	arm64Once.Do(func() {
		cache := testdeps.CacheDir()
		dest := filepath.Join(cache, "sysroots", "bullseye-arm64")
		out, err := exec.Command(script, "arm64", dest).CombinedOutput()
		if err != nil {
			arm64Err = errors.New(strings.TrimSpace(string(out)) + ": " + err.Error())
			return
		}
		arm64Dir = dest
	})
	if arm64Err != nil {
		t.Fatalf("testdata/sysroot.sh arm64 failed (needs apt-get, dpkg and the Debian mirror): %v", arm64Err)
	}
	return arm64Dir
}

func run(t *testing.T, o Options) Result {
	t.Helper()
	if o.Timeout == 0 {
		o.Timeout = 2 * time.Minute
	}
	res, err := Run(o)
	if err != nil {
		t.Fatalf("Run(%s on %s, %s): %v", o.File, o.Root, o.Mode, err)
	}
	return res
}

func wantPass(t *testing.T, res Result, stdout string) {
	t.Helper()
	if !res.OK || res.ExitCode != 0 || res.LoaderError != "" {
		t.Errorf("%s on %s (%s): want a pass, got ok=%v exit=%d loader_error=%q\ncommand: %q\nstdout: %s\nstderr: %s",
			res.File, res.Root, res.Mode, res.OK, res.ExitCode, res.LoaderError, res.Command, res.Stdout, res.Stderr)
	}
	if !strings.Contains(res.Stdout, stdout) {
		t.Errorf("%s (%s): stdout lacks %q:\n%s", res.File, res.Mode, stdout, res.Stdout)
	}
}

func wantFail(t *testing.T, res Result, loaderError string) {
	t.Helper()
	if res.OK || res.ExitCode == 0 {
		t.Errorf("%s on %s (%s): want a failure, got ok=%v exit=%d\nstdout: %s", res.File, res.Root, res.Mode, res.OK, res.ExitCode, res.Stdout)
	}
	if !strings.Contains(res.LoaderError, loaderError) {
		t.Errorf("%s (%s): loader_error %q lacks %q\ncommand: %q\nstderr: %s", res.File, res.Mode, res.LoaderError, loaderError, res.Command, res.Stderr)
	}
}

// noLeftovers checks that a chroot run took its temporary folder and its
// /proc mount away.
// privateCopy is a copy of a shared root (hard links, so it costs no
// disk) in the test's own folder, for tests that look for what a run left
// in the root: other test processes (pkg/release's sidecar tests) run
// relpack smoke in chroot mode on the shared roots at the same time, and a
// copy taken then would hold their scratch folder, which is removed from
// the copy.
func privateCopy(t *testing.T, root, name string) string {
	t.Helper()
	cp := testdeps.Tool(t, "cp")
	dir := filepath.Join(t.TempDir(), name)
	if out, err := exec.Command(cp, "-al", root, dir).CombinedOutput(); err != nil {
		t.Fatalf("cp -al %s: %v\n%s", root, err, out)
	}
	others, _ := filepath.Glob(filepath.Join(dir, "tmp", "relpack-smoke-*"))
	for _, o := range others {
		if err := os.RemoveAll(o); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// privateBullseye is privateCopy of the bullseye root.
func privateBullseye(t *testing.T, name string) string {
	t.Helper()
	return privateCopy(t, bullseye(t), name)
}

func noLeftovers(t *testing.T, root string) {
	t.Helper()
	left, _ := filepath.Glob(filepath.Join(root, "tmp", "relpack-smoke-*"))
	if len(left) > 0 {
		t.Errorf("temporary folders left in the root: %v", left)
	}
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(mi), " "+filepath.Join(root, "proc")+" ") {
		t.Errorf("%s/proc is still mounted in relpack's namespace", root)
	}
}

// sidecarTarball writes a relpack-style tarball: bin/openshell-gateway (the
// RUNPATH $ORIGIN/../lib fixture) and, with lib, lib/libz3.so.4 (the stub).
func sidecarTarball(t *testing.T, lib bool) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "openshell-gateway-x86_64-unknown-linux-gnu.tar.gz")
	entries := []pack.TarEntry{{Name: "bin/openshell-gateway", Src: fx + "x86_64/runpath", Mode: 0o755}}
	if lib {
		entries = append(entries, pack.TarEntry{Name: "lib/libz3.so.4", Src: fx + "x86_64/libz3.so.4", Mode: 0o644})
	}
	if err := pack.WriteTarGz(p, entries, time.Unix(0, 0)); err != nil {
		t.Fatal(err)
	}
	return p
}
