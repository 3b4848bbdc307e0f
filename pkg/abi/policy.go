package abi

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
)

// Policy is a floor on one architecture: the highest version of each
// runtime family a binary may need to start on every distro that ships at
// least that glibc. Any glibc floor has one: pkg/distro derives the C++
// runtime and libgcc_s limits from the catalog's targets
// (distro.PolicyFor); the manylinux tables below are its cross-check and
// the floor below every catalog target (2.17).
type Policy struct {
	// Name is the policy's name, e.g. "glibc-2.28".
	Name string `json:"name"`
	// Arch is the architecture the limits hold for (x86_64, aarch64):
	// libgcc_s's GCC_ nodes differ per architecture, so one glibc floor
	// has different GCC limits on each.
	Arch string `json:"arch,omitempty"`
	// Families maps a version family to its highest allowed version.
	// Families not listed (a library's own versions, e.g. LIBSELINUX_1.0)
	// are not part of the floor: package dependencies cover those.
	Families map[string]string `json:"families"`
	// Sources says, per family, where its limit comes from (the catalog
	// target that ships the lowest runtime, a manylinux table, an
	// override), for messages and the verify report.
	Sources map[string]string `json:"sources,omitempty"`
	// Covers names the distros whose base system meets this floor; it is
	// documentation for people and install docs, not a check.
	Covers []string `json:"covers"`
}

// Glibc returns the policy's glibc floor.
func (p Policy) Glibc() string { return p.Families["GLIBC"] }

// Manylinux are PEP 600's manylinux policies for the floors relpack had
// tables for, per architecture, as auditwheel's
// src/auditwheel/policy/manylinux-policy.json gives them (symbol_versions:
// the highest version of each family; CXXABI_TM_1 is listed there as
// CXXABI "TM_1"). GLIBC is the floor itself (auditwheel's aarch64
// manylinux2014 also lists GLIBC_2.18). They are the cross-check of the
// limits pkg/distro derives from the catalog, and the policy of a floor
// below every catalog target's glibc (2.17: CentOS 7).
var Manylinux = []Policy{
	// manylinux2014 (manylinux_2_17): CentOS 7, gcc 4.8.5's libstdc++.
	// aarch64's libgcc_s has no GCC_4.8.0 node: its highest is GCC_4.7.0.
	manylinux("2.17", "x86_64", "3.4.19", "1.3.7", "4.8.0", "RHEL/CentOS 7", "Debian 8+", "Ubuntu 14.04+"),
	manylinux("2.17", "aarch64", "3.4.19", "1.3.7", "4.7.0", "RHEL/CentOS 7", "Debian 8+", "Ubuntu 14.04+"),
	// manylinux_2_28: RHEL/Rocky/Alma 8.
	manylinux("2.28", "x86_64", "3.4.24", "1.3.11", "7.0.0", "RHEL/Rocky/Alma/Oracle Linux 8+", "Debian 10+", "Ubuntu 18.10+", "Fedora 29+"),
	manylinux("2.28", "aarch64", "3.4.24", "1.3.11", "7.0.0", "RHEL/Rocky/Alma/Oracle Linux 8+", "Debian 10+", "Ubuntu 18.10+", "Fedora 29+"),
	// manylinux_2_31: Debian 11 and Ubuntu 20.04 (gcc 10's libstdc++).
	manylinux("2.31", "x86_64", "3.4.28", "1.3.12", "7.0.0", "Debian 11+", "Ubuntu 20.04+", "RHEL/Rocky/Alma 9+", "Fedora 32+"),
	manylinux("2.31", "aarch64", "3.4.28", "1.3.12", "7.0.0", "Debian 11+", "Ubuntu 20.04+", "RHEL/Rocky/Alma 9+", "Fedora 32+"),
	// manylinux_2_34: RHEL/Rocky/Alma 9 (gcc 11's libstdc++). aarch64's
	// libgcc_s of GCC 11 defines GCC_11.0.
	manylinux("2.34", "x86_64", "3.4.29", "1.3.13", "7.0.0", "RHEL/Rocky/Alma 9+", "Debian 12+", "Ubuntu 22.04+", "Fedora 35+"),
	manylinux("2.34", "aarch64", "3.4.29", "1.3.13", "11.0", "RHEL/Rocky/Alma 9+", "Debian 12+", "Ubuntu 22.04+", "Fedora 35+"),
}

func manylinux(glibc, arch, glibcxx, cxxabi, gcc string, covers ...string) Policy {
	src := "manylinux_" + strings.ReplaceAll(glibc, ".", "_") + " (auditwheel's policy table)"
	return Policy{
		Name:     "glibc-" + glibc,
		Arch:     arch,
		Families: map[string]string{"GLIBC": glibc, "GLIBCXX": glibcxx, "CXXABI": cxxabi, "CXXABI_TM": "1", "GCC": gcc},
		Sources:  map[string]string{"GLIBCXX": src, "CXXABI": src, "CXXABI_TM": src, "GCC": src},
		Covers:   covers,
	}
}

// ManylinuxPolicy returns a copy of the manylinux table of a glibc floor
// on arch, if there is one.
func ManylinuxPolicy(glibc, arch string) (Policy, bool) {
	for _, p := range Manylinux {
		if p.Arch == arch && ValidVersion(glibc) && CompareVersions(p.Glibc(), glibc) == 0 {
			return p.clone(), true
		}
	}
	return Policy{}, false
}

// clone copies p's maps and slices.
func (p Policy) clone() Policy {
	c := p
	c.Families = maps.Clone(p.Families)
	c.Sources = maps.Clone(p.Sources)
	c.Covers = slices.Clone(p.Covers)
	return c
}

// Override returns a copy of p with individual family limits replaced
// (e.g. {"GLIBCXX": "3.4.25"}); empty values leave a family as it is.
func (p Policy) Override(overrides map[string]string) (Policy, error) {
	c := p.clone()
	for _, k := range slices.Sorted(maps.Keys(overrides)) {
		v := overrides[k]
		if v == "" {
			continue
		}
		if !ValidVersion(v) {
			return Policy{}, &FloorError{Family: k, Value: v}
		}
		if c.Families == nil {
			c.Families = map[string]string{}
		}
		if c.Sources == nil {
			c.Sources = map[string]string{}
		}
		c.Families[k] = v
		c.Sources[k] = "given explicitly (overrides the derived " + orNone(p.Families[k]) + ")"
	}
	return c, nil
}

func orNone(v string) string {
	if v == "" {
		return "none"
	}
	return v
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
	if p, ok := ManylinuxPolicy("2.28", "x86_64"); ok {
		if v, ok := p.Families[family]; ok {
			return v
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
