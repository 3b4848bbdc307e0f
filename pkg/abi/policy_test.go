package abi

import (
	"reflect"
	"strings"
	"testing"
)

// manylinuxPolicy is the x86_64 manylinux table of a floor, for tests of
// the checks themselves (pkg/distro derives the policies relpack uses).
func manylinuxPolicy(glibc string) Policy {
	p, ok := ManylinuxPolicy(glibc, "x86_64")
	if !ok {
		panic("no manylinux table for " + glibc)
	}
	return p
}

func TestManylinuxTables(t *testing.T) {
	for _, p := range Manylinux {
		for _, fam := range []string{"GLIBC", "GLIBCXX", "CXXABI", "CXXABI_TM", "GCC"} {
			if !ValidVersion(p.Families[fam]) {
				t.Errorf("policy %s/%s: family %s has no valid floor (%q)", p.Name, p.Arch, fam, p.Families[fam])
			}
			if fam != "GLIBC" && !strings.HasPrefix(p.Sources[fam], "manylinux_") {
				t.Errorf("policy %s/%s: family %s has no source (%q)", p.Name, p.Arch, fam, p.Sources[fam])
			}
		}
	}
	p := manylinuxPolicy("2.28")
	want := map[string]string{"GLIBC": "2.28", "GLIBCXX": "3.4.24", "CXXABI": "1.3.11", "CXXABI_TM": "1", "GCC": "7.0.0"}
	if !reflect.DeepEqual(p.Families, want) {
		t.Errorf("2.28 policy = %v, want manylinux_2_28's %v", p.Families, want)
	}
	// The tables must only ever go up, per arch.
	last := map[string]Policy{}
	for _, q := range Manylinux {
		if prev, ok := last[q.Arch]; ok {
			for fam, v := range prev.Families {
				if CompareVersions(q.Families[fam], v) < 0 {
					t.Errorf("%s/%s lowers %s below %s", q.Name, q.Arch, fam, prev.Name)
				}
			}
		}
		last[q.Arch] = q
	}
	if _, ok := ManylinuxPolicy("2.30", "x86_64"); ok {
		t.Error("2.30 has no manylinux table here")
	}
	if _, ok := ManylinuxPolicy("2.28", "riscv64"); ok {
		t.Error("riscv64 has no manylinux table here")
	}
	if _, err := p.Override(map[string]string{"GLIBCXX": "x"}); err == nil {
		t.Error("a non-numeric override must be refused")
	}
	q, _ := p.Override(map[string]string{"GLIBCXX": "3.4.25", "CXXABI": ""})
	again := manylinuxPolicy("2.28")
	if q.Families["GLIBCXX"] != "3.4.25" || again.Families["GLIBCXX"] != "3.4.24" || p.Families["GLIBCXX"] != "3.4.24" {
		t.Error("an override must change the copy, not the table")
	}
	if q.Families["CXXABI"] != "1.3.11" || !strings.Contains(q.Sources["GLIBCXX"], "given explicitly") {
		t.Errorf("override: families %v, sources %v", q.Families, q.Sources)
	}
}

// A violation of a family whose limit has a source names it.
func TestVerdictNamesSource(t *testing.T) {
	p := manylinuxPolicy("2.28")
	p.Sources["GLIBCXX"] = "el8 ships it"
	f := factsWith(map[string][]string{"libstdc++.so.6": {"GLIBCXX_3.4.30"}}, nil)
	var b strings.Builder
	WriteVerdict(&b, Verify(f, p), p)
	if !strings.Contains(b.String(), "[floor GLIBCXX_3.4.24, from libstdc++.so.6]\n    limit GLIBCXX_3.4.24: el8 ships it\n") {
		t.Errorf("verdict:\n%s", b.String())
	}
}

func factsWith(needs map[string][]string, imports []ImportGroup) *Facts {
	f := &Facts{Path: "x", Libc: LibcGlibc, Linkage: LinkageDynamic, Imports: imports}
	for lib, vs := range needs {
		vn := VersionNeed{Library: lib}
		for _, v := range vs {
			weak := strings.HasSuffix(v, "!weak")
			vn.Versions = append(vn.Versions, NeededVersion{Name: strings.TrimSuffix(v, "!weak"), Weak: weak})
		}
		f.VersionNeeds = append(f.VersionNeeds, vn)
	}
	return f
}

func TestVerify(t *testing.T) {
	p := manylinuxPolicy("2.28")
	f := factsWith(map[string][]string{
		"libm.so.6":      {"GLIBC_2.2.5", "GLIBC_2.29"},
		"libc.so.6":      {"GLIBC_2.2.5", "GLIBC_2.30", "GLIBC_2.34!weak", "GLIBC_PRIVATE"},
		"libstdc++.so.6": {"GLIBCXX_3.4.30", "CXXABI_1.3.11"},
	}, []ImportGroup{
		{Library: "libm.so.6", Version: "GLIBC_2.29", Symbols: []string{"exp", "log", "pow"}},
		{Library: "libc.so.6", Version: "GLIBC_2.29", Symbols: []string{"posix_spawn_file_actions_addchdir_np"}},
		{Library: "libc.so.6", Version: "GLIBC_2.30", Symbols: []string{"gettid"}},
		{Library: "libc.so.6", Version: "GLIBC_PRIVATE", Symbols: []string{"__libc_internal"}},
		{Library: "libstdc++.so.6", Version: "GLIBCXX_3.4.30", Symbols: []string{"_ZSt21__glibcxx_assert_failPKciS0_S0_"}},
	})
	v := Verify(f, p)
	if v.OK {
		t.Fatal("verdict ok, want violations")
	}
	var got []string
	for _, viol := range v.Violations {
		got = append(got, viol.Name+": "+strings.Join(viol.Symbols, ", "))
	}
	want := []string{
		"GLIBC_2.29: exp, log, posix_spawn_file_actions_addchdir_np, pow",
		"GLIBC_2.30: gettid",
		"GLIBCXX_3.4.30: _ZSt21__glibcxx_assert_failPKciS0_S0_",
		"GLIBC_PRIVATE: __libc_internal",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("violations:\n got %q\nwant %q", got, want)
	}

	relr := factsWith(map[string][]string{"libc.so.6": {"GLIBC_ABI_DT_RELR", "GLIBC_2.2.5"}}, nil)
	if v := Verify(relr, p); v.OK || v.Violations[0].Name != GLIBCABIDTRelr || len(v.Violations[0].Symbols) != 0 {
		t.Errorf("GLIBC_ABI_DT_RELR under 2.28: %+v", v)
	}

	static := &Facts{Path: "s", Libc: LibcMusl, Linkage: LinkageStatic}
	if v := Verify(static, p); !v.OK || !strings.Contains(v.Note, "statically linked") {
		t.Errorf("static binary: %+v", v)
	}
	muslDyn := &Facts{Path: "m", Libc: LibcMusl, Linkage: LinkageDynamic}
	if v := Verify(muslDyn, p); !v.OK || !strings.Contains(v.Note, "musl") {
		t.Errorf("musl binary: %+v", v)
	}
	// Families outside the policy (a library's own versions) never fail.
	own := factsWith(map[string][]string{"libselinux.so.1": {"LIBSELINUX_9.0"}}, nil)
	if v := Verify(own, p); !v.OK {
		t.Errorf("own family counted against the floor: %+v", v)
	}
}
