package deps

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"

	"relpack/internal/clitest"
	"relpack/internal/testdeps"
	"relpack/pkg/distro"
)

// shlibdepsPackages are what dpkg-shlibdeps needs in a root to derive the
// Depends of testdata/fixtures/x86_64/cxx-shlibdeps there: itself
// (dpkg-dev, with objdump from binutils) and the package of every library
// the binary needs.
var shlibdepsPackages = []string{"dpkg-dev", "libstdc++6", "libgcc-s1", "zlib1g", "libzstd1", "libz3-4"}

// shlibdepsRoot returns the root of Debian SUITE (amd64) with
// shlibdepsPackages installed: scripts/debian-root.sh's cached minbase root,
// copied and completed through apt in a chroot once, cached beside it
// under a lock (SUITE-amd64-shlibdeps).
func shlibdepsRoot(t *testing.T, suite string) string {
	t.Helper()
	testdeps.Tools(t, "chroot", "cp", "rm", "mv")
	script := testdeps.Script(t, "scripts/debian-root.sh")
	var errb bytes.Buffer
	cmd := exec.Command(script, "amd64", suite)
	cmd.Stderr = &errb
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("scripts/debian-root.sh amd64 %s (needs root, debootstrap and the Debian mirror): %v\n%s", suite, err, errb.String())
	}
	base := strings.TrimSpace(string(out))
	cached := base + "-shlibdeps"
	lock, err := os.OpenFile(filepath.Join(filepath.Dir(base), ".shlibdeps-"+suite+".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	stamp := filepath.Join(cached, ".relpack-shlibdeps-complete")
	if data, err := os.ReadFile(stamp); err == nil && string(data) == strings.Join(shlibdepsPackages, " ") {
		return cached
	}
	tmp := cached + ".tmp"
	for _, c := range [][]string{{"rm", "-rf", tmp}, {"cp", "-a", base, tmp}, {"cp", "/etc/resolv.conf", filepath.Join(tmp, "etc/resolv.conf")}} {
		if o, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(c, " "), err, o)
		}
	}
	env := append(os.Environ(), "DEBIAN_FRONTEND=noninteractive", "LC_ALL=C", "PATH=/usr/sbin:/usr/bin:/sbin:/bin")
	for _, args := range [][]string{
		{"apt-get", "update", "-qq"},
		append([]string{"apt-get", "install", "-y", "-qq", "--no-install-recommends"}, shlibdepsPackages...),
		{"apt-get", "clean"},
	} {
		c := exec.Command("chroot", append([]string{tmp}, args...)...)
		c.Env = env
		if o, err := c.CombinedOutput(); err != nil {
			t.Fatalf("chroot %s %s: %v\n%s", tmp, strings.Join(args, " "), err, o)
		}
	}
	if err := os.WriteFile(filepath.Join(tmp, ".relpack-shlibdeps-complete"), []byte(strings.Join(shlibdepsPackages, " ")), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range [][]string{{"rm", "-rf", cached}, {"mv", tmp, cached}} {
		if o, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(c, " "), err, o)
		}
	}
	return cached
}

// shlibdepsIn runs dpkg-shlibdeps on bin inside root, the way a package
// build on that release runs it (a source tree with debian/control), and
// returns its shlibs:Depends relations. The scratch tree is removed again:
// the cached root stays as it was.
func shlibdepsIn(t *testing.T, root, bin string) []string {
	t.Helper()
	dir, err := os.MkdirTemp(filepath.Join(root, "tmp"), "relpack-shlibdeps-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	os.MkdirAll(filepath.Join(dir, "debian"), 0o755)
	os.WriteFile(filepath.Join(dir, "debian", "control"), []byte("Source: x\n\nPackage: x\nArchitecture: any\n"), 0o644)
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bin"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	inRoot := "/" + strings.TrimPrefix(dir, root+"/")
	cmd := exec.Command("chroot", root, "sh", "-c", `cd "$1" && dpkg-shlibdeps -O bin`, "sh", inRoot)
	cmd.Env = append(os.Environ(), "LC_ALL=C", "PATH=/usr/sbin:/usr/bin:/sbin:/bin")
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Run(); err != nil {
		t.Fatalf("dpkg-shlibdeps in %s: %v\n%s%s", root, err, o.String(), e.String())
	}
	for _, line := range strings.Split(o.String(), "\n") {
		if v, ok := strings.CutPrefix(line, "shlibs:Depends="); ok {
			return strings.Split(v, ", ")
		}
	}
	t.Fatalf("dpkg-shlibdeps in %s printed no shlibs:Depends:\n%s%s", root, o.String(), e.String())
	return nil
}

// TestDependsMatchDpkgShlibdepsPerTarget builds, through `relpack build`,
// the deb of testdata/fixtures/x86_64/cxx-shlibdeps for every Debian target
// with captured facts, and holds each deb's Depends to what dpkg-shlibdeps
// derives for the same binary in a root of that release with the
// libraries' packages installed: relation for relation, versions included.
// The binary links libstdc++ and libz (symbols files: per-symbol minimal
// versions, unversioned @Base symbols, an epoch), libz3 and libzstd (no
// symbols file: the shlibs line) and libgcc_s. libc6 is the one relation
// that differs by design: relpack stamps the floor (docs/config.md, "How
// dependencies are derived"), dpkg-shlibdeps the newest symbol's version.
func TestDependsMatchDpkgShlibdepsPerTarget(t *testing.T) {
	if os.Getuid() != 0 {
		t.Fatal("this test needs root (debootstrap and chroot into Debian roots): run it as root; CI runs as root")
	}
	testdeps.Tools(t, "dpkg-deb")
	bin, err := filepath.Abs(filepath.Join(fixtures, "x86_64/cxx-shlibdeps"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "LICENSE"), []byte("test license\n"), 0o644)
	cfg := filepath.Join(dir, "packaging.yaml")
	os.WriteFile(cfg, []byte(`name: shlibdeps-probe
summary: differential test of Depends against dpkg-shlibdeps
description: |
  A binary of each library kind dpkg-shlibdeps treats differently.
maintainer: Test <test@example.org>
homepage: https://example.org
license: Apache-2.0
license_file: LICENSE
copyright: 2026 Test
floor:
  glibc: "2.31"
z3: unbundled
inputs:
  x86_64-unknown-linux-gnu: `+bin+`
binary: /usr/bin/cxx-shlibdeps
targets:
  - debian11
  - debian12
  - debian13
`), 0o644)
	out := filepath.Join(dir, "dist")
	if o, e, code := clitest.Run(t, "build", "-c", cfg, "--version", "1.0.0", "--out", out); code != 0 {
		t.Fatalf("relpack build exit %d:\n%s%s", code, o, e)
	}
	for _, c := range []struct{ suite, deb string }{
		{"bullseye", "shlibdeps-probe_1.0.0-1~deb11_amd64.deb"},
		{"bookworm", "shlibdeps-probe_1.0.0-1~deb12_amd64.deb"},
		{"trixie", "shlibdeps-probe_1.0.0-1~deb13_amd64.deb"},
	} {
		t.Run(c.suite, func(t *testing.T) {
			o, err := exec.Command("dpkg-deb", "-f", filepath.Join(out, c.deb), "Depends").Output()
			if err != nil {
				t.Fatalf("dpkg-deb -f %s Depends: %v", c.deb, err)
			}
			ours := strings.Split(strings.TrimSpace(string(o)), ", ")
			theirs := shlibdepsIn(t, shlibdepsRoot(t, c.suite), bin)
			split := func(rels []string) (libc string, rest []string) {
				for _, r := range rels {
					if strings.HasPrefix(r, "libc6 ") {
						libc = r
					} else {
						rest = append(rest, r)
					}
				}
				sort.Strings(rest)
				return libc, rest
			}
			t.Logf("%s: relpack %q, dpkg-shlibdeps %q", c.suite, ours, theirs)
			ourLibc, got := split(ours)
			theirLibc, want := split(theirs)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s Depends differ from dpkg-shlibdeps' beside libc6:\n relpack        %q\n dpkg-shlibdeps %q", c.deb, got, want)
			}
			// Every library kind is in the comparison, each versioned.
			if len(want) != 5 {
				t.Errorf("dpkg-shlibdeps gave %q: want libstdc++6, libgcc-s1, zlib1g, libzstd1 and libz3-4", want)
			}
			for _, r := range got {
				if !strings.Contains(r, "(>= ") {
					t.Errorf("relpack wrote %q without a version", r)
				}
			}
			// libc6: the floor, at or above what dpkg-shlibdeps measures.
			if ourLibc != "libc6 (>= 2.31)" || theirLibc != "libc6 (>= 2.2.5)" {
				t.Errorf("libc6: relpack %q (want the floor, libc6 (>= 2.31)), dpkg-shlibdeps %q", ourLibc, theirLibc)
			}
		})
	}
}

// TestDebVersionsAsDpkgShlibdeps holds the rules of debMinVersion to what
// dpkg-shlibdeps does with a package's symbols and shlibs files, on the
// cxx-shlibdeps fixture and the captured Debian 11 facts (the per-target
// test above compares the outcome with dpkg-shlibdeps itself).
func TestDebVersionsAsDpkgShlibdeps(t *testing.T) {
	f := inspect(t, "x86_64/cxx-shlibdeps")
	undefined := UndefinedSymbols(f)
	// Undefined symbols only, weak ones too, unversioned ones at Base: the
	// copy-relocated std::cout is defined in the binary and not looked up.
	for sym, want := range map[string]bool{
		"zlibVersion@Base": true, "compressBound@ZLIB_1.2.0": true, "__gmon_start__@Base": true,
		"__cxa_finalize@GLIBC_2.2.5": true, "_ZSt4cout@GLIBCXX_3.4": false,
	} {
		if got := slices.Contains(undefined, sym); got != want {
			t.Errorf("UndefinedSymbols has %s: %v, want %v", sym, got, want)
		}
	}
	d11 := mustDistro(t, "debian11")
	facts := d11.Libraries["x86_64"]
	for so, want := range map[string]string{
		// Five GLIBCXX_3.4.26 symbols tagged 9 (the node's highest is 9.1).
		"libstdc++.so.6": "9",
		// A symbols file wins over the shlibs line (1:1.2.3.3.dfsg-1):
		// compressBound@ZLIB_1.2.0 is 1:1.2.0, zlibVersion@Base 1:1.1.4.
		"libz.so.1": "1:1.2.0",
		// No symbols file: the shlibs line's version.
		"libzstd.so.1":  "1.4.0",
		"libz3.so.4":    "4.8.10",
		"libgcc_s.so.1": "3.0",
	} {
		if got := debMinVersion(f, so, facts, undefined); got != want {
			t.Errorf("%s: %q, want %q", so, got, want)
		}
	}
	// A binary that uses none of a symbols file's entries gets its smallest
	// minimal version, not the shlibs line's.
	if got := debMinVersion(f, "libz.so.1", facts, []string{"nothing@Base"}); got != "1:1.1.4" {
		t.Errorf("libz.so.1, no symbol used: %q, want the smallest, 1:1.1.4", got)
	}
	// A symbol is taken by the first needed library whose symbols file
	// lists it (DT_NEEDED order: libstdc++ before libz).
	lf := *facts["libz.so.1"]
	lf.Symbols = append([]string{"_ZNSt10filesystem7__cxx114path14_M_split_cmptsEv@GLIBCXX_3.4.26 9:9"}, lf.Symbols...)
	sort.Strings(lf.Symbols)
	both := map[string]*distro.LibraryFacts{"libstdc++.so.6": facts["libstdc++.so.6"], "libz.so.1": &lf}
	if got := debMinVersion(f, "libz.so.1", both, undefined); got != "1:1.2.0" {
		t.Errorf("libz.so.1 took a symbol libstdc++'s symbols file lists first: %q", got)
	}
	// No facts: no version.
	if got := debMinVersion(f, "libz.so.1", nil, undefined); got != "" {
		t.Errorf("no facts: %q", got)
	}
}

// TestMinVersionCarriesTheEpoch: a configured minimum is an upstream
// version; on a package with an epoch (zlib1g 1:1.2.13.dfsg-1) the
// relation must carry it, or dpkg would take every version as newer (epoch
// 1 > epoch 0). dpkg --compare-versions is the oracle for what the
// relation admits. Compared the Debian way, a minimum below what the
// symbols file gives leaves the symbols file's version.
func TestMinVersionCarriesTheEpoch(t *testing.T) {
	testdeps.Tools(t, "dpkg")
	f := inspect(t, "x86_64/cxx-shlibdeps")
	und := UndefinedSymbols(f)
	un := UnversionedImports(f)
	d12 := mustDistro(t, "debian12")
	zlib := d12.Library("x86_64", "libz.so.1")
	if zlib == nil || !strings.HasPrefix(zlib.PackageVersion, "1:") {
		t.Fatalf("debian12's zlib1g facts: %+v", zlib)
	}
	rel := func(min string) string {
		t.Helper()
		r, err := ResolveTarget(f, d12, Options{Floor: "2.28", Arch: "x86_64", Unversioned: un, Undefined: und,
			Needs: map[string]Need{"libz": {MinVersion: min}}})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range r.Depends {
			if strings.HasPrefix(d, "zlib1g ") {
				return d
			}
		}
		t.Fatalf("no zlib1g relation in %q", r.Depends)
		return ""
	}
	admits := func(relation, ver string) bool {
		want := strings.TrimSuffix(strings.TrimPrefix(relation, "zlib1g (>= "), ")")
		return exec.Command("dpkg", "--compare-versions", ver, "ge", want).Run() == nil
	}
	hi := rel("1.2.13")
	if hi != "zlib1g (>= 1:1.2.13)" {
		t.Errorf("min_version 1.2.13: %q, want zlib1g (>= 1:1.2.13)", hi)
	}
	if !admits(hi, zlib.PackageVersion) || admits(hi, "1:1.2.11.dfsg-2+deb11u2") {
		t.Errorf("%q must admit bookworm's %s and refuse bullseye's 1:1.2.11.dfsg-2+deb11u2", hi, zlib.PackageVersion)
	}
	// Below the symbols file's minimum: the symbols file's version stands.
	base := rel("")
	if low := rel("1.0"); low != base {
		t.Errorf("min_version 1.0: %q, want the symbols file's %q", low, base)
	}
}
