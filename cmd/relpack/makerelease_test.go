package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"relpack/internal/clitest"
	"relpack/internal/rpmroot"
	"relpack/internal/testdeps"
)

// TestMakeRelease runs `make release` (relpack releasing itself, issue 23)
// twice, signed with the committed demo key, into two folders, the
// binaries built afresh each time: the releases are equal
// byte for byte, verify-release (run by make, and here again) accepts
// them, and each tarball's relpack runs `relpack version` and prints the
// version it was stamped with: natively on x86_64, under qemu on aarch64.
// The packages of the static binaries (debian12, el8) have no libc
// relation; the deb installs in a bookworm root and the rpm in an
// EL8-like one, and the installed relpack runs there.
// make writes nothing into the repository.
func TestMakeRelease(t *testing.T) {
	if testing.Short() {
		t.Skip("builds relpack twice for two arches")
	}
	testdeps.Tools(t, "make", "git", "go", "tar", "sha256sum")
	qemu := testdeps.Tool(t, "qemu-aarch64-static")
	root, err := testdeps.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	before := gitStatus(t, root)
	const version = "0.0.0-test"
	tmp := t.TempDir()
	var outs []string
	for _, run := range []string{"1", "2"} {
		out := filepath.Join(tmp, "dist"+run)
		// The same scratch folder both times (the provenance names the
		// inputs by path), emptied: the second run builds afresh.
		bin := filepath.Join(tmp, "bin")
		if err := os.RemoveAll(bin); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("make", "-C", root, "release", "VERSION="+version,
			"RELEASE_OUT="+out, "RELEASE_BIN="+bin,
			"RELEASE_KEY=testdata/demo/demo-signing-key.asc",
			"RELEASE_PUBKEY=testdata/demo/demo-signing-key.pub.asc")
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("make release (run %s): %v\n%s", run, err, b)
		}
		if !strings.Contains(string(b), "relpack "+version+" verified: SHA256SUMS.asc signed by") {
			t.Fatalf("make release (run %s) did not verify the release:\n%s", run, b)
		}
		outs = append(outs, out)
	}
	if after := gitStatus(t, root); after != before {
		t.Errorf("make release changed the repository:\nbefore:\n%s\nafter:\n%s", before, after)
	}

	// Byte for byte the same release.
	names := dirFiles(t, outs[0])
	if got := dirFiles(t, outs[1]); !slices.Equal(got, names) {
		t.Fatalf("the two releases hold different files:\n%v\n%v", names, got)
	}
	for _, n := range names {
		a, _ := os.ReadFile(filepath.Join(outs[0], n))
		b, _ := os.ReadFile(filepath.Join(outs[1], n))
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between the two runs of make release", n)
		}
	}
	for _, want := range []string{
		"relpack-x86_64-unknown-linux-musl.tar.gz", "relpack-aarch64-unknown-linux-musl.tar.gz",
		"relpack-x86_64-unknown-linux-musl-debug.tar.gz", "relpack-aarch64-unknown-linux-musl-debug.tar.gz",
		"manifest.json", "SHA256SUMS", "SHA256SUMS.asc", "KEY.asc",
	} {
		if !slices.Contains(names, want) {
			t.Errorf("the release lacks %s; it holds %v", want, names)
		}
	}

	checkReleaseManifest(t, outs[0], version)
	checkReleasePackages(t, outs[0], version)

	// verify-release through the CLI, as a user with the publisher's key.
	stdout, stderr, code := clitest.Run(t, "verify-release", outs[1], "--key", filepath.Join(root, "testdata/demo/demo-signing-key.pub.asc"))
	if code != 0 {
		t.Fatalf("verify-release: exit %d\n%s%s", code, stdout, stderr)
	}

	runTarballs(t, tmp, outs[0], version, qemu)
}

// gitStatus is the repository's `git status --porcelain --ignored`.
func gitStatus(t *testing.T, root string) string {
	t.Helper()
	b, err := exec.Command("git", "-C", root, "status", "--porcelain", "--ignored").CombinedOutput()
	if err != nil {
		t.Fatalf("git status: %v\n%s", err, b)
	}
	return string(b)
}

// dirFiles lists dir's file names, sorted.
func dirFiles(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	slices.Sort(out)
	return out
}

// checkReleasePackages finds the release's packages in dir (a deb and an
// rpm per arch, with their debug packages), checks that none relates to a
// C library, and installs the x86_64 ones: the deb with dpkg in a copy of
// the cached bookworm root, the rpm with rpm into an EL8-like root;
// `relpack version` then runs inside each (chroot).
func checkReleasePackages(t *testing.T, dir, version string) {
	t.Helper()
	testdeps.Tools(t, "dpkg-deb", "rpm", "chroot", "cp")
	for glob, n := range map[string]int{"relpack_*~deb12_*.deb": 2, "relpack-dbgsym_*~deb12_*.ddeb": 2, "relpack-[0-9]*.el8.*.rpm": 2, "relpack-debuginfo-*.el8.*.rpm": 2} {
		if m, _ := filepath.Glob(filepath.Join(dir, glob)); len(m) != n {
			t.Errorf("%d files match %s, want %d", len(m), glob, n)
		}
	}
	deb := globOne(t, dir, "relpack_*~deb12_amd64.deb")
	rpm := globOne(t, dir, "relpack-[0-9]*.el8.x86_64.rpm")
	if b, err := exec.Command("dpkg-deb", "-f", deb, "Depends").CombinedOutput(); err != nil || strings.TrimSpace(string(b)) != "" {
		t.Errorf("%s Depends: %q (%v); a static binary needs none", filepath.Base(deb), b, err)
	}
	b, err := exec.Command("rpm", "-qp", "--requires", rpm).Output() // stderr: rpm's NOKEY warning
	if err != nil {
		t.Fatalf("rpm -qp --requires %s: %v", rpm, err)
	}
	for _, r := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if !strings.HasPrefix(r, "rpmlib(") {
			t.Errorf("%s requires %q; a static binary needs only rpmlib()", filepath.Base(rpm), r)
		}
	}
	want := "relpack " + version
	// The deb in bookworm.
	o, err := exec.Command(testdeps.Script(t, "scripts/debian-root.sh"), "amd64", "bookworm").Output()
	if err != nil {
		t.Fatalf("scripts/debian-root.sh amd64 bookworm (needs root, debootstrap and the Debian mirror): %v", err)
	}
	m := filepath.Join(t.TempDir(), "m")
	releaseRun(t, "cp", "-a", strings.TrimSpace(string(o)), m)
	releaseRun(t, "cp", deb, filepath.Join(m, "tmp/relpack.deb"))
	releaseRun(t, "chroot", m, "dpkg", "-i", "/tmp/relpack.deb")
	if got := strings.TrimSpace(releaseRun(t, "chroot", m, "relpack", "version")); got != want {
		t.Errorf("bookworm: relpack version printed %q, want %q", got, want)
	}
	// The rpm in the EL8-like root: its database knows glibc 2.28, bash and
	// systemd; the rpm needs none of them.
	root := rpmroot.ShellRoot(t, false, false)
	rpmroot.SeedEL8(t, root)
	releaseRun(t, "rpm", "--root", root, "-i", rpm)
	if got := strings.TrimSpace(releaseRun(t, "chroot", root, "/usr/bin/relpack", "version")); got != want {
		t.Errorf("EL8 root: relpack version printed %q, want %q", got, want)
	}
	releaseRun(t, "rpm", "--root", root, "-V", "relpack")
}

// globOne is the one file of dir matching glob.
func globOne(t *testing.T, dir, glob string) string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, glob))
	if len(m) != 1 {
		t.Fatalf("%d files match %s in %s, want 1", len(m), glob, dir)
	}
	return m[0]
}

// releaseRun runs a command and returns its output; it fails the test on error.
func releaseRun(t *testing.T, name string, args ...string) string {
	t.Helper()
	b, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, b)
	}
	return string(b)
}

// runTarballs unpacks each arch's tarball of the release in out into tmp:
// it carries the license file, and its relpack prints the stamped version
// (natively on x86_64, under qemu on aarch64).
func runTarballs(t *testing.T, tmp, out, version, qemu string) {
	t.Helper()
	for _, c := range []struct {
		triple string
		run    []string
	}{
		{"x86_64-unknown-linux-musl", nil},
		{"aarch64-unknown-linux-musl", []string{qemu}},
	} {
		dir := filepath.Join(tmp, c.triple)
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if b, err := exec.Command("tar", "-xzf", filepath.Join(out, "relpack-"+c.triple+".tar.gz"), "-C", dir).CombinedOutput(); err != nil {
			t.Fatalf("tar: %v\n%s", err, b)
		}
		bin := filepath.Join(dir, "relpack")
		if _, err := os.Stat(filepath.Join(dir, "LICENSE-STATUS")); err != nil {
			t.Errorf("%s: the tarball lacks the license file: %v", c.triple, err)
		}
		argv := append(append([]string{}, c.run...), bin, "version")
		b, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
		if err != nil || strings.TrimSpace(string(b)) != "relpack "+version {
			t.Errorf("%s: %v printed %q (%v); want %q", c.triple, argv, b, err, "relpack "+version)
		}
	}
}

// checkReleaseManifest reads the manifest of the release in out: it says
// what was released (relpack, this version, static inputs with a
// build-id).
func checkReleaseManifest(t *testing.T, out, version string) {
	t.Helper()
	var m struct {
		Product, Version string
		Inputs           []struct {
			Triple, Linkage string
			BuildID         string `json:"build_id"`
		}
	}
	mj, err := os.ReadFile(filepath.Join(out, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(mj, &m); err != nil {
		t.Fatal(err)
	}
	if m.Product != "relpack" || m.Version != version || len(m.Inputs) != 2 {
		t.Fatalf("manifest: product %q version %q, %d inputs; want relpack %s, 2 inputs", m.Product, m.Version, len(m.Inputs), version)
	}
	for _, in := range m.Inputs {
		if in.Linkage != "static" || in.BuildID == "" {
			t.Errorf("manifest input %s: linkage %q, build-id %q; want a static binary with a build-id (-B gobuildid)", in.Triple, in.Linkage, in.BuildID)
		}
	}
}
