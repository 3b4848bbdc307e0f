package deps

import (
	"debug/elf"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"relpack/internal/testdeps"
	"relpack/pkg/abi"
	"relpack/pkg/distro"
)

// cxx330 links, with this machine's g++ 12, a program whose
// condition_variable::wait binds GLIBCXX_3.4.30 (new in GCC 12).
func cxx330(t *testing.T) *abi.Facts {
	t.Helper()
	testdeps.Tools(t, "g++")
	dir := t.TempDir()
	src := filepath.Join(dir, "cv.cpp")
	os.WriteFile(src, []byte(`#include <condition_variable>
#include <mutex>
std::mutex m;
std::condition_variable cv;
int main() { std::unique_lock<std::mutex> l(m); cv.wait(l); }
`), 0o644)
	bin := filepath.Join(dir, "cv")
	if out, err := runCmd("g++", "-O1", "-o", bin, src); err != nil {
		t.Fatalf("g++: %v\n%s", err, out)
	}
	f, err := abi.Inspect(bin)
	if err != nil {
		t.Fatal(err)
	}
	if f.HighestOf("GLIBCXX") != "3.4.30" {
		t.Fatalf("the test program needs GLIBCXX_%s, not 3.4.30", f.HighestOf("GLIBCXX"))
	}
	return f
}

// withRuntime is the catalogue's target, whose runtime must be the one the
// test expects (el9: documented GCC 11; debian11/12: captured).
func withRuntime(t *testing.T, id, glibcxx string) distro.Distro {
	t.Helper()
	d := mustDistro(t, id)
	if got := d.RuntimeFor("x86_64").GLIBCXX; got != glibcxx {
		t.Fatalf("catalogue: %s ships GLIBCXX_%s, the test expects %s", id, got, glibcxx)
	}
	return d
}

// TestRuntimePerTarget: a GLIBCXX_3.4.30 binary (GCC 12) is refused where
// the runtime stops below it and accepted where it does not; the refusal
// names the symbol.
func TestRuntimePerTarget(t *testing.T) {
	f := cxx330(t)
	for _, c := range []struct {
		d  distro.Distro
		ok bool
	}{
		{withRuntime(t, "el9", "3.4.29"), false},
		{withRuntime(t, "debian11", "3.4.28"), false},
		{withRuntime(t, "debian12", "3.4.30"), true},
	} {
		_, err := ResolveTarget(f, c.d, Options{Floor: "2.34", Arch: "x86_64"})
		var te *TargetError
		switch {
		case c.ok && err != nil:
			t.Errorf("%s: %v", c.d.ID, err)
		case !c.ok && !errors.As(err, &te):
			t.Errorf("%s: accepted a GLIBCXX_3.4.30 binary (err %v)", c.d.ID, err)
		case !c.ok:
			msg := err.Error()
			for _, want := range []string{"needs GLIBCXX_3.4.30 from libstdc++.so.6", "defines up to GLIBCXX_" + c.d.Runtime.GLIBCXX, "_ZNSt18condition_variable4waitERSt11unique_lockISt5mutexE@GLIBCXX_3.4.30", "-static-libstdc++"} {
				if !strings.Contains(msg, want) {
					t.Errorf("%s: message lacks %q:\n%s", c.d.ID, want, msg)
				}
			}
		}
	}
}

func z3Facts(version, shlibs string, exports ...string) map[string]map[string]*distro.LibraryFacts {
	return map[string]map[string]*distro.LibraryFacts{"x86_64": {"libz3.so.4": {
		Soname: "libz3.so.4", Arch: "x86_64", Package: "libz3-4", Version: version, PackageVersion: version + "-1",
		Shlibs: shlibs, Exports: exports, Source: "test",
	}}}
}

// TestLibraryVersionAndExports: the shipped version against the configured
// minimum, the imported symbols against the captured exports, and the
// relations that carry the versions.
func TestLibraryVersionAndExports(t *testing.T) {
	f := inspect(t, "x86_64/z3-user")
	unversioned := UnversionedImports(f)
	if !reflect.DeepEqual(unversioned, []string{"Z3_get_version"}) {
		t.Fatalf("unversioned imports = %q (weak ones must be left out)", unversioned)
	}
	d := mustDistro(t, "debian12")
	need := map[string]Need{"libz3": {MinVersion: "4.8.17", Why: "z3 crate 0.20"}}

	// Too old: refused, naming versions and the way out.
	d.Libraries = z3Facts("4.8.12", "libz3-4 (>= 4.8.10)", "Z3_get_version", "Z3_mk_int")
	_, err := ResolveTarget(f, d, Options{Floor: "2.28", Arch: "x86_64", Needs: need, Unversioned: unversioned})
	if err == nil || !strings.Contains(err.Error(), "debian12 ships libz3.so.4 4.8.12 (package libz3-4 4.8.12-1), below libraries.libz3.min_version 4.8.17 (z3 crate 0.20)") ||
		!strings.Contains(err.Error(), "make libz3 private for debian12") {
		t.Errorf("too old: %v", err)
	}
	// A missing export: refused, naming the symbol.
	d.Libraries = z3Facts("4.13.3", "libz3-4 (>= 4.8.10)", "Z3_mk_int")
	_, err = ResolveTarget(f, d, Options{Floor: "2.28", Arch: "x86_64", Needs: need, Unversioned: unversioned})
	if err == nil || !strings.Contains(err.Error(), "does not export Z3_get_version, which the binary imports") {
		t.Errorf("missing export: %v", err)
	}
	// Both fine: the relation carries the minimum, over the shlibs version.
	d.Libraries = z3Facts("4.13.3", "libz3-4 (>= 4.8.10)", "Z3_get_version")
	r, err := ResolveTarget(f, d, Options{Floor: "2.28", Arch: "x86_64", Needs: need, Unversioned: unversioned})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"libc6 (>= 2.28)", "libz3-4 (>= 4.8.17)"}; !reflect.DeepEqual(r.Depends, want) {
		t.Errorf("Depends = %q, want %q", r.Depends, want)
	}
	// Without a minimum, the shlibs version, as dpkg-shlibdeps writes it.
	r, err = ResolveTarget(f, d, Options{Floor: "2.28", Arch: "x86_64", Unversioned: unversioned})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"libc6 (>= 2.28)", "libz3-4 (>= 4.8.10)"}; !reflect.DeepEqual(r.Depends, want) {
		t.Errorf("Depends = %q, want %q", r.Depends, want)
	}
	// Private: no relation, no check against the distro's (too old) facts.
	d.Libraries = z3Facts("4.8.12", "libz3-4 (>= 4.8.10)")
	r, err = ResolveTarget(f, d, Options{Floor: "2.28", Arch: "x86_64", Needs: map[string]Need{"libz3": {MinVersion: "4.8.17", Private: true}}, Unversioned: unversioned})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"libc6 (>= 2.28)"}; !reflect.DeepEqual(r.Depends, want) {
		t.Errorf("private Depends = %q, want %q", r.Depends, want)
	}
	// rpm: z3-libs >= MIN beside the soname requires.
	rf := inspect(t, "x86_64/z3-user-rpmsoname")
	r, err = ResolveTarget(rf, mustDistro(t, "el9"), Options{Floor: "2.28", Arch: "x86_64", Needs: need})
	if err != nil {
		t.Fatal(err)
	}
	if !contains(r.Depends, "z3-libs >= 4.8.17") || !contains(r.Depends, "libz3.so.4.8()(64bit)") || contains(r.Depends, "z3-libs") {
		t.Errorf("el9 Requires = %q", r.Depends)
	}
}

func TestUpstreamVersion(t *testing.T) {
	for in, want := range map[string]string{"1:4.8.12-3.1": "4.8.12", "4.13.3-1": "4.13.3", "12.2.0-14+deb12u1": "12.2.0", "3.0": "3.0", "4.8.10~rc1-2": "4.8.10"} {
		if got := upstream(in); got != want {
			t.Errorf("upstream(%q) = %q, want %q", in, got, want)
		}
	}
}

func runCmd(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	return string(out), err
}

// TestVersionedDebMatchesDpkgShlibdeps holds the versioned Depends relpack
// writes for debian12 (this machine's release, whose libz3-4, libstdc++6
// and libgcc-s1 shlibs and symbols files dpkg-shlibdeps reads) to
// dpkg-shlibdeps' own output, relation for relation, libc6 aside (relpack
// stamps the floor there, not the measured version).
func TestVersionedDebMatchesDpkgShlibdeps(t *testing.T) {
	testdeps.Tools(t, "dpkg-shlibdeps")
	testdeps.File(t, "/usr/lib/x86_64-linux-gnu/libz3.so.4")
	d12 := mustDistro(t, "debian12")
	for _, rel := range []string{"x86_64/z3-user", "x86_64/cxx-hello", "x86_64/cxx-hello-bullseye", "demo/x86_64-unknown-linux-gnu/openshell-gateway"} {
		t.Run(rel, func(t *testing.T) {
			f := inspect(t, rel)
			un := UnversionedImports(f)
			ours, err := ResolveTarget(f, d12, Options{Floor: "2.28", Arch: "x86_64", Unversioned: un})
			if err != nil {
				t.Fatal(err)
			}
			noLibc := func(rels []string) []string {
				var out []string
				for _, r := range rels {
					if !strings.HasPrefix(r, "libc6 ") {
						out = append(out, r)
					}
				}
				sort.Strings(out)
				return out
			}
			if got, want := noLibc(ours.Depends), noLibc(shlibdeps(t, filepath.Join(fixtures, rel))); !reflect.DeepEqual(got, want) {
				t.Errorf("relpack %q\ndpkg-shlibdeps %q", got, want)
			}
		})
	}
}

// TestUndefinedFromFactsMatchesDebugElf: UnversionedImports and
// UndefinedSymbols, derived from abi.Facts (the file read once), agree on
// every ELF fixture with the same lists read straight from Go's
// debug/elf, as relpack read them before (a second parse of each input).
func TestUndefinedFromFactsMatchesDebugElf(t *testing.T) {
	var files []string
	filepath.WalkDir(fixtures, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() && !strings.HasSuffix(p, ".md") {
			files = append(files, p)
		}
		return nil
	})
	checked := 0
	for _, p := range files {
		ef, err := elf.Open(p)
		if err != nil {
			continue // LICENSE, README
		}
		syms, _ := ef.DynamicSymbols()
		ef.Close()
		wantUn, wantUnd := []string{}, []string{}
		for _, s := range syms {
			if s.Section != elf.SHN_UNDEF || s.Name == "" {
				continue
			}
			versioned := s.HasVersion && s.VersionIndex&0x7fff > 1
			v := "Base"
			if versioned && s.Version != "" {
				v = s.Version
			}
			wantUnd = append(wantUnd, s.Name+"@"+v)
			if !versioned && elf.ST_BIND(s.Info) != elf.STB_WEAK {
				wantUn = append(wantUn, s.Name)
			}
		}
		sort.Strings(wantUn)
		sort.Strings(wantUnd)
		wantUn, wantUnd = slices.Compact(wantUn), slices.Compact(wantUnd)
		f, err := abi.Inspect(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := UnversionedImports(f); !reflect.DeepEqual(got, wantUn) {
			t.Errorf("%s: unversioned imports\n got %q\nwant %q", p, got, wantUn)
		}
		if got := UndefinedSymbols(f); !reflect.DeepEqual(got, wantUnd) {
			t.Errorf("%s: undefined symbols\n got %q\nwant %q", p, got, wantUnd)
		}
		checked++
	}
	if checked < 20 {
		t.Errorf("checked %d ELF fixtures, want the whole set", checked)
	}
}
