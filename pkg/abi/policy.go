package abi

import (
	"fmt"
	"sort"
	"strings"
)

// Policy is a floor: the highest version of each runtime family a binary
// may need to start on every distro that ships at least that glibc. The
// tables follow PEP 600's manylinux policies (auditwheel keeps the same data):
// the C++ runtime and libgcc_s floors are those of the oldest toolchain
// shipped alongside that glibc.
type Policy struct {
	// Name is the policy's name, e.g. "glibc-2.28".
	Name string `json:"name"`
	// Families maps a version family to its highest allowed version.
	// Families not listed (a library's own versions, e.g. LIBSELINUX_1.0)
	// are not part of the floor: package dependencies cover those.
	Families map[string]string `json:"families"`
	// Covers names the distros whose base system meets this floor; it is
	// documentation for people and install docs, not a check.
	Covers []string `json:"covers"`
}

// Glibc returns the policy's glibc floor.
func (p Policy) Glibc() string { return p.Families["GLIBC"] }

// Policies are the supported floors, oldest first.
var Policies = []Policy{
	{
		// manylinux2014: CentOS 7 (glibc 2.17, gcc 4.8.5's libstdc++).
		Name:     "glibc-2.17",
		Families: map[string]string{"GLIBC": "2.17", "GLIBCXX": "3.4.19", "CXXABI": "1.3.7", "CXXABI_TM": "1", "GCC": "4.8.0"},
		Covers:   []string{"RHEL/CentOS 7", "Debian 8+", "Ubuntu 14.04+"},
	},
	{
		// manylinux_2_28: RHEL/Rocky/Alma 8 (glibc 2.28, gcc 8's libstdc++).
		Name:     "glibc-2.28",
		Families: map[string]string{"GLIBC": "2.28", "GLIBCXX": "3.4.24", "CXXABI": "1.3.11", "CXXABI_TM": "1", "GCC": "7.0.0"},
		Covers:   []string{"RHEL/Rocky/Alma/Oracle Linux 8+", "Debian 10+", "Ubuntu 18.10+", "Fedora 29+"},
	},
	{
		// manylinux_2_31: Debian 11 and Ubuntu 20.04 (glibc 2.31, gcc 10's
		// libstdc++: GLIBCXX_3.4.28, CXXABI_1.3.12).
		Name:     "glibc-2.31",
		Families: map[string]string{"GLIBC": "2.31", "GLIBCXX": "3.4.28", "CXXABI": "1.3.12", "CXXABI_TM": "1", "GCC": "7.0.0"},
		Covers:   []string{"Debian 11+", "Ubuntu 20.04+", "RHEL/Rocky/Alma 9+", "Fedora 32+"},
	},
	{
		// manylinux_2_34: RHEL/Rocky/Alma 9 (glibc 2.34, gcc 11's libstdc++:
		// GLIBCXX_3.4.29, CXXABI_1.3.13).
		Name:     "glibc-2.34",
		Families: map[string]string{"GLIBC": "2.34", "GLIBCXX": "3.4.29", "CXXABI": "1.3.13", "CXXABI_TM": "1", "GCC": "7.0.0"},
		Covers:   []string{"RHEL/Rocky/Alma 9+", "Debian 12+", "Ubuntu 22.04+", "Fedora 35+"},
	},
}

// SupportedFloors lists the glibc floors that have a policy table.
func SupportedFloors() []string {
	var out []string
	for _, p := range Policies {
		out = append(out, p.Glibc())
	}
	return out
}

// PolicyFor returns a copy of the policy for a glibc floor such as "2.28".
// overrides replaces individual family floors (e.g. {"GLIBCXX": "3.4.25"}).
func PolicyFor(glibc string, overrides map[string]string) (Policy, error) {
	for _, p := range Policies {
		if CompareVersions(p.Glibc(), glibc) != 0 || !ValidVersion(glibc) {
			continue
		}
		fam := map[string]string{}
		for k, v := range p.Families {
			fam[k] = v
		}
		for k, v := range overrides {
			if v == "" {
				continue
			}
			if !ValidVersion(v) {
				return Policy{}, &FloorError{Family: k, Value: v}
			}
			fam[k] = v
		}
		p.Families = fam
		return p, nil
	}
	what := "no policy for glibc floor " + quoteName(glibc)
	if !ValidVersion(glibc) {
		what = quoteName(glibc) + " is not a glibc version (dotted decimal numbers such as 2.28)"
	}
	return Policy{}, fmt.Errorf("%s; supported floors: %s (each fixes the GLIBCXX/CXXABI/GCC floors that go with it)",
		what, strings.Join(SupportedFloors(), ", "))
}

// FloorError is a family floor that is not a version number. Callers know
// where the value came from (a flag, a config key) and name it; the family
// alone would leave "--glibcxx 1..0" reported as a problem of --floor.
type FloorError struct {
	Family string // GLIBCXX, CXXABI, GCC, ...
	Value  string
}

func (e *FloorError) Error() string {
	return fmt.Sprintf("floor for %s: %s is not a version: give dotted decimal numbers such as %s (no empty parts, no letters)",
		e.Family, quoteName(e.Value), floorExample(e.Family))
}

// floorExample is an accepted value for a family, for error messages.
func floorExample(family string) string {
	for _, p := range Policies {
		if p.Glibc() == "2.28" {
			if v, ok := p.Families[family]; ok {
				return v
			}
		}
	}
	return "1.2.3"
}

// Violation is one needed version above the floor, with every imported
// symbol that pulls it in.
type Violation struct {
	Name      string   `json:"name"`    // e.g. "GLIBC_2.29"
	Family    string   `json:"family"`  // e.g. "GLIBC"
	Version   string   `json:"version"` // e.g. "2.29"; "" for special names
	Floor     string   `json:"floor,omitempty"`
	Libraries []string `json:"libraries"` // libraries the version is needed from
	Symbols   []string `json:"symbols"`   // sorted; empty when no symbol binds it (e.g. GLIBC_ABI_DT_RELR)
	Reason    string   `json:"reason,omitempty"`
}

// Verdict is the result of checking one file against a policy.
type Verdict struct {
	Path       string          `json:"path"`
	OK         bool            `json:"ok"`
	Libc       Libc            `json:"libc"`
	Linkage    Linkage         `json:"linkage"`
	Highest    []FamilyVersion `json:"highest"`
	Violations []Violation     `json:"violations"`
	// Note explains a pass that needed no version check (musl, static).
	Note string `json:"note,omitempty"`
}

// Verify checks the facts of one file against a policy. Weak needs do not
// count (the loader does not fail on them); GLIBC_PRIVATE always fails;
// GLIBC_ABI_DT_RELR fails below glibc 2.36, the first release defining it.
func Verify(f *Facts, p Policy) Verdict {
	v := Verdict{Path: f.Path, OK: true, Libc: f.Libc, Linkage: f.Linkage, Highest: f.Highest, Violations: []Violation{}}
	switch {
	case f.Linkage == LinkageStatic:
		v.Note = "statically linked: no dynamic loader runs, so no glibc version is checked at start-up"
	case f.Libc == LibcMusl:
		v.Note = "linked against musl: it needs no glibc symbol versions"
	case f.Libc == LibcNone && len(f.VersionNeeds) == 0:
		v.Note = "needs no libc and no symbol versions"
	}

	type agg struct {
		viol Violation
		libs map[string]bool
	}
	// One pass over the imports: calling SymbolsAt per violation walks
	// every group once per violation, quadratic in a crafted file with
	// thousands of each.
	symbolsAt := map[string][]string{}
	for _, g := range f.Imports {
		symbolsAt[g.Version] = append(symbolsAt[g.Version], g.Symbols...)
	}
	found := map[string]*agg{}
	for _, vn := range f.VersionNeeds {
		for _, nv := range vn.Versions {
			if nv.Weak {
				continue
			}
			viol, bad := judge(nv.Name, p)
			if !bad {
				continue
			}
			a := found[nv.Name]
			if a == nil {
				a = &agg{viol: viol, libs: map[string]bool{}}
				found[nv.Name] = a
			}
			a.libs[vn.Library] = true
		}
	}
	for name, a := range found {
		for l := range a.libs {
			a.viol.Libraries = append(a.viol.Libraries, l)
		}
		sort.Strings(a.viol.Libraries)
		a.viol.Symbols = sortedUnique(symbolsAt[name])
		v.Violations = append(v.Violations, a.viol)
	}
	sort.Slice(v.Violations, func(i, j int) bool {
		return compareVersionNames(v.Violations[i].Name, v.Violations[j].Name) < 0
	})
	v.OK = len(v.Violations) == 0
	return v
}

// judge decides whether one needed version name breaks the policy.
func judge(name string, p Policy) (Violation, bool) {
	switch name {
	case GLIBCPrivate:
		return Violation{Name: name, Family: "GLIBC",
			Reason: "GLIBC_PRIVATE is glibc's internal interface: it only works with the exact glibc the file was linked against"}, true
	case GLIBCABIDTRelr:
		if CompareVersions(p.Glibc(), "2.36") < 0 {
			return Violation{Name: name, Family: "GLIBC", Floor: p.Glibc(),
				Reason: "DT_RELR relocations (-z pack-relative-relocs) need glibc 2.36; relink without that flag"}, true
		}
		return Violation{}, false
	}
	fam, num, ok := SplitVersionName(name)
	if !ok {
		return Violation{}, false
	}
	floor, covered := p.Families[fam]
	if !covered || CompareVersions(num, floor) <= 0 {
		return Violation{}, false
	}
	return Violation{Name: name, Family: fam, Version: num, Floor: floor}, true
}
