package deps

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"relpack/internal/testdeps"
	"relpack/pkg/abi"
	"relpack/pkg/distro"
)

const fixtures = "../../testdata/fixtures"

func mustDistro(t *testing.T, id string) distro.Distro {
	t.Helper()
	d, ok := distro.Lookup(id)
	if !ok {
		t.Fatalf("no distro %s", id)
	}
	return d
}

func inspect(t *testing.T, rel string) *abi.Facts {
	t.Helper()
	f, err := abi.Inspect(filepath.Join(fixtures, rel))
	if err != nil {
		t.Fatalf("%v (run testdata/build-fixtures.sh)", err)
	}
	return f
}

func TestResolveDebAndRPM(t *testing.T) {
	f := inspect(t, "x86_64/z3-user")
	deb, err := Resolve(f, mustDistro(t, "debian12"), "2.28")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"libc6 (>= 2.28)", "libz3-4"}; !reflect.DeepEqual(deb.Depends, want) {
		t.Errorf("debian12 Depends = %q, want %q", deb.Depends, want)
	}
	if deb.Z3 != Z3Unbundled || deb.Z3Soname != "libz3.so.4" {
		t.Errorf("z3 = %s %s", deb.Z3, deb.Z3Soname)
	}

	rpmf := inspect(t, "x86_64/z3-user-rpmsoname")
	rpm, err := Resolve(rpmf, mustDistro(t, "el9"), "2.28")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"z3-libs", "libc.so.6(GLIBC_2.28)(64bit)", "glibc >= 2.28", "libz3.so.4.8()(64bit)", "libc.so.6()(64bit)"} {
		if !contains(rpm.Depends, want) {
			t.Errorf("el9 Requires lacks %q: %q", want, rpm.Depends)
		}
	}

	hello := inspect(t, "x86_64/hello-2.28")
	r, err := Resolve(hello, mustDistro(t, "ubuntu2404"), "2.28")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r.Depends, []string{"libc6 (>= 2.28)"}) || r.Z3 != Z3Bundled {
		t.Errorf("plain C binary: %q z3=%s", r.Depends, r.Z3)
	}
}

func TestSonameMismatch(t *testing.T) {
	f := inspect(t, "x86_64/z3-user") // linked on Debian: libz3.so.4
	_, err := Resolve(f, mustDistro(t, "el9"), "2.28")
	var se *SonameError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v, want a SonameError", err)
	}
	msg := err.Error()
	for _, want := range []string{"needs libz3.so.4", "el9 ships libz3 as libz3.so.4.8 (package z3-libs)", "will not load there",
		"bundle libz3", "sidecar", "link against el9's own libz3.so.4.8", "add `libz3.so.4: <package>`"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	// A target that ships no Z3 at all (EL8): refused under either
	// soname, with the source and the two ways out.
	for _, rel := range []string{"x86_64/z3-user", "x86_64/z3-user-rpmsoname"} {
		_, err := Resolve(inspect(t, rel), mustDistro(t, "el8"), "2.28")
		if !errors.As(err, &se) || se.NotShipped == "" {
			t.Fatalf("%s on el8: err = %v, want a SonameError saying el8 ships no libz3", rel, err)
		}
		for _, want := range []string{"no repository of distro target el8 ships libz3", "EPEL 9", "private: [el8]", "give el8 its own input that bundles libz3"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s on el8: message lacks %q:\n%s", rel, want, err)
			}
		}
	}
	// The other direction: an RPM-distro soname on Debian.
	_, err = Resolve(inspect(t, "x86_64/z3-user-rpmsoname"), mustDistro(t, "debian12"), "2.28")
	if err == nil || !strings.Contains(err.Error(), "debian12 ships libz3 as libz3.so.4 (package libz3-4)") {
		t.Errorf("rpm soname on debian12: %v", err)
	}
	// Nothing known at all.
	d := mustDistro(t, "debian12")
	delete(d.Sonames, "libz3.so.4")
	_, err = Resolve(f, d, "2.28")
	if err == nil || !strings.Contains(err.Error(), "has no package mapped for it") {
		t.Errorf("unmapped: %v", err)
	}
}

// TestELFRequiresMatchesElfdeps holds ELFRequires to rpm's own generator,
// the one rpmbuild runs, on every dynamic fixture executable.
func TestELFRequiresMatchesElfdeps(t *testing.T) {
	elfdeps := testdeps.File(t, "/usr/lib/rpm/elfdeps")
	n := 0
	for _, p := range dynamicExecutables(t) {
		f, err := abi.Inspect(p)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(elfdeps, "--requires")
		cmd.Stdin = strings.NewReader(p + "\n")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("elfdeps %s: %v", p, err)
		}
		want := strings.Fields(string(out))
		sort.Strings(want)
		if got := ELFRequires(f); !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n relpack %q\n elfdeps %q", p, got, want)
		}
		n++
	}
	if n < 8 {
		t.Fatalf("only %d dynamic fixtures compared", n)
	}
}

// TestDebMatchesDpkgShlibdeps holds the deb Depends to dpkg-shlibdeps: the
// same packages, and a libc6 floor at or above the version it computes.
// The binaries' libz3.so.4 resolves to this machine's libz3-4.
func TestDebMatchesDpkgShlibdeps(t *testing.T) {
	testdeps.Tools(t, "dpkg-shlibdeps")
	testdeps.File(t, "/usr/lib/x86_64-linux-gnu/libz3.so.4") // the binaries' libz3.so.4 resolves to it
	d12 := mustDistro(t, "debian12")
	for _, rel := range []string{"x86_64/hello-2.28", "x86_64/math-2.29", "x86_64/z3-user", "x86_64/cxx-hello", "demo/x86_64-unknown-linux-gnu/openshell-gateway"} {
		t.Run(rel, func(t *testing.T) {
			f := inspect(t, rel)
			ours, err := Resolve(f, d12, "2.28")
			if err != nil {
				t.Fatal(err)
			}
			theirs := shlibdeps(t, filepath.Join(fixtures, rel))
			if got, want := pkgNames(ours.Depends), pkgNames(theirs); !reflect.DeepEqual(got, want) {
				t.Errorf("packages: relpack %q, dpkg-shlibdeps %q", ours.Depends, theirs)
			}
			// dpkg-shlibdeps' libc6 version is the newest symbol's: it
			// must equal the highest GLIBC version relpack measured.
			for _, dep := range theirs {
				if m := regexp.MustCompile(`^libc6 \(>= ([0-9.]+)\)`).FindStringSubmatch(dep); m != nil &&
					abi.CompareVersions(f.HighestOf("GLIBC"), m[1]) != 0 {
					t.Errorf("dpkg-shlibdeps says %s, relpack measured GLIBC_%s", dep, f.HighestOf("GLIBC"))
				}
			}
		})
	}
}

func shlibdeps(t *testing.T, bin string) []string {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "debian"), 0o755)
	os.WriteFile(filepath.Join(dir, "debian", "control"), []byte("Source: x\n\nPackage: x\nArchitecture: any\n"), 0o644)
	abs, _ := filepath.Abs(bin)
	cmd := exec.Command("dpkg-shlibdeps", "-O", abs)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("dpkg-shlibdeps %s: %v\n%s", bin, err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(line, "shlibs:Depends="); ok {
			return strings.Split(v, ", ")
		}
	}
	return nil
}

func pkgNames(rel []string) []string {
	var out []string
	for _, r := range rel {
		out = append(out, strings.Fields(r)[0])
	}
	sort.Strings(out)
	return out
}

func dynamicExecutables(t *testing.T) []string {
	var out []string
	filepath.Walk(fixtures, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || info.Mode()&0o111 == 0 {
			return nil
		}
		f, err := abi.Inspect(p)
		if err != nil || f.Linkage != abi.LinkageDynamic || f.Type == abi.TypeSharedLibrary {
			return nil
		}
		out = append(out, p)
		return nil
	})
	return out
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// TestResolveStatic: a fully static binary resolved without a floor (a
// package of a static musl input) gets no relation at all, on either
// format; a dynamically linked one is refused without a floor.
func TestResolveStatic(t *testing.T) {
	f := inspect(t, "x86_64/hello-musl-static")
	for _, id := range []string{"debian12", "el8"} {
		r, err := ResolveTarget(f, mustDistro(t, id), Options{Arch: "x86_64"})
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		if len(r.Depends) != 0 || len(r.Auto) != 0 || r.Floor != "" {
			t.Errorf("%s: depends %q, auto %q, floor %q; want none", id, r.Depends, r.Auto, r.Floor)
		}
	}
	_, err := Resolve(inspect(t, "x86_64/hello-2.28"), mustDistro(t, "debian12"), "")
	if err == nil || !strings.Contains(err.Error(), "no glibc floor given, but the binary is dynamically linked") {
		t.Errorf("dynamic binary without a floor: %v", err)
	}
}
