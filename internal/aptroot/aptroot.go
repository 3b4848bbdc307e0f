// Package aptroot is test support for the tests that run the real apt of a
// Debian 11 (bullseye) root against relpack's debs and repositories: a
// fresh copy of the cached root scripts/bullseye-root.sh makes, commands
// run in it with chroot, and what those tests share around apt: files
// (a key in /etc/apt/keyrings, a source) written into the root, apt-get
// against a repository served on the host's loopback and its warnings
// about it, the installed version of a package. Nothing in relpack itself
// imports it.
package aptroot

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"relpack/internal/testdeps"
)

// env is what every command in the root runs with: no debconf questions,
// untranslated messages (tests match apt's English), and the root's own
// PATH rather than the host's.
var env = []string{"DEBIAN_FRONTEND=noninteractive", "LC_ALL=C", "PATH=/usr/sbin:/usr/bin:/sbin:/bin"}

// Direct is the apt-get option that fetches from a server on the host's
// loopback, which the chroot shares, never through a proxy.
const Direct = "-oAcquire::http::Proxy::127.0.0.1=DIRECT"

// Bullseye returns a fresh copy, in t's temporary folder, of the cached
// Debian 11 root scripts/bullseye-root.sh makes (amd64; the cache stays
// pristine), with the host's /etc/resolv.conf so that apt reaches the
// Debian mirror. It needs root (debootstrap, chroot).
func Bullseye(t testing.TB) string {
	t.Helper()
	if os.Getuid() != 0 {
		t.Fatal("this test needs root (debootstrap and chroot into a Debian 11 root): run it as root; CI runs as root")
	}
	testdeps.Tools(t, "chroot", "cp")
	cmd := exec.Command(testdeps.Script(t, "scripts/bullseye-root.sh"), "amd64")
	var errb bytes.Buffer
	cmd.Stderr = &errb
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("scripts/bullseye-root.sh amd64: %v\n%s", err, errb.String())
	}
	root := filepath.Join(t.TempDir(), "root")
	if o, err := exec.Command("cp", "-a", strings.TrimSpace(string(out)), root).CombinedOutput(); err != nil {
		t.Fatalf("cp -a the bullseye root: %v\n%s", err, o)
	}
	if o, err := exec.Command("cp", "/etc/resolv.conf", filepath.Join(root, "etc/resolv.conf")).CombinedOutput(); err != nil {
		t.Fatalf("cp /etc/resolv.conf into the bullseye root: %v\n%s", err, o)
	}
	return root
}

// Run runs args in root (chroot root args...) and returns what it wrote to
// standard output and standard error.
func Run(root string, args ...string) (stdout, stderr string, err error) {
	cmd := chroot(root, args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

// MustRun is Run that fails t, with the command's output, unless the
// command exits 0; it returns the standard output.
func MustRun(t testing.TB, root string, args ...string) string {
	t.Helper()
	o, e, err := Run(root, args...)
	if err != nil {
		t.Fatalf("chroot %s %s: %v\n%s%s", root, strings.Join(args, " "), err, o, e)
	}
	return o
}

// Output runs args in root and returns standard output and standard error
// interleaved as apt prints them, and the exit status: for the tests that
// expect apt to refuse something. It fails t only when the command cannot
// be run at all.
func Output(t testing.TB, root string, args ...string) (string, int) {
	t.Helper()
	cmd := chroot(root, args...)
	var o bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &o
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return o.String(), ee.ExitCode()
	} else if err != nil {
		t.Fatalf("chroot %s %s: %v", root, strings.Join(args, " "), err)
	}
	return o.String(), 0
}

func chroot(root string, args ...string) *exec.Cmd {
	cmd := exec.Command("chroot", append([]string{root}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	return cmd
}

// Installed is the version of pkg dpkg has installed in root; it fails t
// when pkg is not installed.
func Installed(t testing.TB, root, pkg string) string {
	t.Helper()
	o, code := Output(t, root, "dpkg-query", "-W", "-f", "${Version}", pkg)
	if code != 0 {
		t.Fatalf("dpkg-query -W %s in %s (exit %d): %s", pkg, root, code, o)
	}
	return o
}

// Warnings are apt's W: and E: lines in out about a repository on the
// loopback (127.0.0.1): the Debian mirror's own warnings do not count.
func Warnings(out string) []string {
	var w []string
	for _, l := range strings.Split(out, "\n") {
		if (strings.HasPrefix(l, "W:") || strings.HasPrefix(l, "E:")) && strings.Contains(l, "127.0.0.1") {
			w = append(w, l)
		}
	}
	return w
}

// WriteFile writes data to p, a path inside root (/etc/apt/...), making
// its parent folders.
func WriteFile(t testing.TB, root, p string, data []byte) {
	t.Helper()
	full := filepath.Join(root, p)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(full, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// AptGet runs apt-get with Direct and args in root and returns its output
// (standard output and error interleaved); it fails t, with the output,
// unless apt-get exits 0.
func AptGet(t testing.TB, root string, args ...string) string {
	t.Helper()
	o, code := Output(t, root, append([]string{"apt-get", Direct}, args...)...)
	if code != 0 {
		t.Fatalf("apt-get %s (exit %d):\n%s", strings.Join(args, " "), code, o)
	}
	return o
}

// Update is apt-get update (AptGet) that also fails t when apt warns about
// the repository on the loopback (Warnings): apt took it as it is.
func Update(t testing.TB, root string) string {
	t.Helper()
	o := AptGet(t, root, "update")
	if w := Warnings(o); len(w) > 0 {
		t.Fatalf("apt-get update warned about the test repository:\n%s", o)
	}
	return o
}
