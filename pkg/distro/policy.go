package distro

import (
	"fmt"
	"slices"
	"strings"

	"relpack/pkg/abi"
)

// A glibc floor promises that a binary starts on every system with at
// least that glibc. The glibc part is the floor itself; the C++ runtime
// (GLIBCXX, CXXABI) and libgcc_s (GCC) limits that go with it are derived
// here from the catalog, not kept in hand tables, so any floor works and a
// new target moves the limits by itself:
//
//   - the targets are every catalog target that lists the architecture and
//     ships glibc at or above the floor: the ones the promise reaches;
//   - each family's limit is the lowest version any of them ships there
//     (Distro.RuntimeFor: captured facts where there are some, else the
//     documented runtime), which is usually the oldest of them: the binary
//     must start on each;
//   - CXXABI_TM is 1: libstdc++ has only ever defined CXXABI_TM_1 (GCC 4.7
//     on), and the catalog's runtimes are all newer;
//   - a floor above every target's glibc is refused: no target tells what
//     runtime goes with it;
//   - a floor below every target's glibc promises systems the catalog does
//     not hold (2.17: CentOS 7). It takes the manylinux table of exactly that
//     floor (abi.Manylinux), capped by what the catalog's targets ship; a
//     floor with no such table is refused.
//
// The policy is per architecture because libgcc_s's GCC_ nodes are: GCC 12
// defines GCC_12.0.0 on x86_64 and GCC_11.0 on aarch64, so one limit for
// both would refuse good x86_64 binaries or compare numbers that name
// different things.

// PolicyFor is the policy of glibc floor glibc on arch (x86_64, aarch64),
// derived from the built-in catalog, with family overrides applied (e.g.
// {"GLIBCXX": "3.4.25"}; empty values keep the derived limit).
func PolicyFor(glibc, arch string, overrides map[string]string) (abi.Policy, error) {
	p, err := DerivePolicy(Catalog(), glibc, arch)
	if err != nil {
		return abi.Policy{}, err
	}
	return p.Override(overrides)
}

// policyFamilies are the families a floor derives from the targets'
// runtimes, with the library that defines each.
var policyFamilies = []struct{ family, lib string }{
	{"GLIBCXX", "libstdc++.so.6"},
	{"CXXABI", "libstdc++.so.6"},
	{"GCC", "libgcc_s.so.1"},
}

// DerivePolicy derives the policy of a glibc floor on arch from targets
// (the rules above).
func DerivePolicy(targets []Distro, glibc, arch string) (abi.Policy, error) {
	onArch, err := floorTargets(targets, glibc, arch)
	if err != nil {
		return abi.Policy{}, err
	}
	var reached []Distro
	for _, d := range onArch {
		if abi.CompareVersions(d.Glibc, glibc) >= 0 {
			reached = append(reached, d)
		}
	}
	p, err := reachedPolicy(reached, glibc, arch)
	if err != nil {
		return abi.Policy{}, err
	}
	if oldest := onArch[0]; abi.CompareVersions(glibc, oldest.Glibc) < 0 {
		return belowCatalog(p, oldest, glibc, arch)
	}
	return p, nil
}

// floorTargets checks the floor and the architecture and returns the
// targets built for arch, oldest glibc first (catalogue order among
// equals); a floor above the newest of them is refused.
func floorTargets(targets []Distro, glibc, arch string) ([]Distro, error) {
	if !abi.ValidVersion(glibc) {
		return nil, fmt.Errorf("%s is not a glibc version (dotted decimal numbers such as 2.28)", quoteIfOdd(glibc))
	}
	if _, ok := archNames[arch]; !ok {
		return nil, fmt.Errorf("no policy for architecture %q: use x86_64 or aarch64", arch)
	}
	var onArch []Distro
	for _, d := range targets {
		if contains(d.Arches, arch) && abi.ValidVersion(d.Glibc) {
			onArch = append(onArch, d)
		}
	}
	if len(onArch) == 0 {
		return nil, fmt.Errorf("no catalog target is built for %s, so no glibc floor can be derived for it", arch)
	}
	slices.SortStableFunc(onArch, func(a, b Distro) int { return abi.CompareVersions(a.Glibc, b.Glibc) })
	if newest := onArch[len(onArch)-1]; abi.CompareVersions(glibc, newest.Glibc) > 0 {
		return nil, fmt.Errorf("no target in the catalog ships glibc %s or newer (the newest, %s, ships %s): relpack cannot tell which C++ runtime and libgcc_s go with that floor. Use a floor of %s or lower, or add a target that ships glibc %s (docs/config.md, \"Targets\")",
			glibc, newest.ID, newest.Glibc, newest.Glibc, glibc)
	}
	return onArch, nil
}

// reachedPolicy is the policy the targets a floor reaches (glibc at or
// above it) allow: each family's limit is the lowest version any of them
// ships.
func reachedPolicy(reached []Distro, glibc, arch string) (abi.Policy, error) {
	p := abi.Policy{
		Name:     "glibc-" + glibc,
		Arch:     arch,
		Families: map[string]string{"GLIBC": glibc, "CXXABI_TM": "1"},
		Sources:  map[string]string{"CXXABI_TM": "libstdc++ has only ever defined CXXABI_TM_1 (GCC 4.7 on)"},
	}
	// Covers is for people: the manylinux table's distro families where
	// there is one (they name releases beyond the catalog), else the
	// targets the limits were derived from.
	if ml, ok := abi.ManylinuxPolicy(glibc, arch); ok {
		p.Covers = ml.Covers
	} else {
		for _, d := range reached {
			p.Covers = append(p.Covers, d.Name)
		}
	}
	for _, fam := range policyFamilies {
		var low *Distro
		lowV := ""
		for i := range reached {
			v := runtimeOf(reached[i].RuntimeFor(arch), fam.family)
			if v != "" && (lowV == "" || abi.CompareVersions(v, lowV) < 0) {
				low, lowV = &reached[i], v
			}
		}
		if low == nil {
			return abi.Policy{}, fmt.Errorf("glibc floor %s on %s: none of the catalog targets with glibc %s or newer (%s) records the %s version its %s defines (runtime: in catalog.yaml)",
				glibc, arch, glibc, ids(reached), fam.family, fam.lib)
		}
		p.Families[fam.family] = lowV
		p.Sources[fam.family] = fmt.Sprintf("the lowest %s among the %d catalog targets with glibc %s or newer on %s: %s (%s, glibc %s) ships %s_%s in its %s (%s)",
			fam.family, len(reached), glibc, arch, low.ID, low.Name, low.Glibc, fam.family, lowV, fam.lib, runtimeOrigin(*low, arch, fam.family, fam.lib))
	}
	return p, nil
}

// belowCatalog is the policy of a floor below every target's glibc
// (oldest is the oldest target): the systems the floor promises are not in
// the catalog; only a manylinux table knows their runtime. Its limits are
// capped by p, what the catalog's targets ship.
func belowCatalog(p abi.Policy, oldest Distro, glibc, arch string) (abi.Policy, error) {
	ml, ok := abi.ManylinuxPolicy(glibc, arch)
	if !ok {
		var known []string
		for _, m := range abi.Manylinux {
			if m.Arch == arch && abi.CompareVersions(m.Glibc(), oldest.Glibc) < 0 && !slices.Contains(known, m.Glibc()) {
				known = append(known, m.Glibc())
			}
		}
		hint := ""
		if len(known) > 0 {
			hint = " or " + strings.Join(known, ", ") + " (manylinux's table for the systems below the catalog)"
		}
		return abi.Policy{}, fmt.Errorf("glibc floor %s is below every catalog target's glibc (the oldest, %s, ships %s): no target tells which C++ runtime and libgcc_s go with glibc %s, and there is no manylinux table for it. Use a floor of %s (or a newer target's glibc)%s",
			glibc, oldest.ID, oldest.Glibc, glibc, oldest.Glibc, hint)
	}
	for _, fam := range policyFamilies {
		if abi.CompareVersions(p.Families[fam.family], ml.Families[fam.family]) < 0 {
			// A catalog target ships less than the table allows: the
			// promise to the targets wins.
			ml.Families[fam.family] = p.Families[fam.family]
			ml.Sources[fam.family] = p.Sources[fam.family]
			continue
		}
		ml.Sources[fam.family] += fmt.Sprintf(": glibc %s is below every catalog target's (the oldest, %s, ships %s), so the table's %s_%s holds",
			glibc, oldest.ID, oldest.Glibc, fam.family, ml.Families[fam.family])
	}
	return ml, nil
}

// quoteIfOdd prints a value as given when it is plain printable ASCII, and
// quoted otherwise (empty, spaces, control characters).
func quoteIfOdd(s string) string {
	for _, r := range s {
		if r <= ' ' || r > '~' || r == '"' {
			return fmt.Sprintf("%q", s)
		}
	}
	if s == "" {
		return `""`
	}
	return s
}

// runtimeOf is one family's field of a runtime.
func runtimeOf(rt Runtime, family string) string {
	switch family {
	case "GLIBCXX":
		return rt.GLIBCXX
	case "CXXABI":
		return rt.CXXABI
	case "GCC":
		return rt.GCC
	}
	return ""
}

// runtimeOrigin says whether a family's version on arch comes from a
// captured library or from the catalog's documented runtime.
func runtimeOrigin(d Distro, arch, family, lib string) string {
	if l := d.Library(arch, lib); l != nil && l.HighestDefined(family) != "" {
		return "captured: " + l.Package + " " + l.PackageVersion + " for " + arch
	}
	if d.Runtime.Source != "" {
		return "catalog runtime, " + d.Runtime.Source
	}
	return "catalog runtime"
}

func ids(ds []Distro) string {
	var out []string
	for _, d := range ds {
		out = append(out, d.ID)
	}
	return strings.Join(out, ", ")
}
