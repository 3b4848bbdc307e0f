// Package policytest is the test oracle of the floor limits: a
// symbol-version family's limit for a glibc floor, read straight from the
// catalog's entries instead of through distro.PolicyFor or DerivePolicy.
// pkg/distro's tests hold the derivation to it on every floor the catalog
// answers, and cmd/relpack's hold what a release records to it; one oracle,
// so the two cannot drift into different readings of the catalog.
package policytest

import (
	"slices"
	"strings"

	"relpack/pkg/abi"
	"relpack/pkg/distro"
)

// libraryOf is the library whose version definitions a family's limit is
// read from, where a target has captured it.
var libraryOf = map[string]string{"GLIBCXX": "libstdc++.so.6", "CXXABI": "libstdc++.so.6", "GCC": "libgcc_s.so.1"}

// CatalogLimit returns a family's (GLIBCXX, CXXABI or GCC) limit for a
// glibc floor on arch: the lowest version that any catalog target listing
// arch with glibc >= floor ships, read from its captured library's version
// definitions where it has them and from its runtime: entry otherwise; and
// the target that ships it. Ties go to the target with the oldest glibc
// (the one the floor reaches first). Both are "" when no target qualifies.
func CatalogLimit(floor, arch, family string) (limit, target string) {
	low, who, whoGlibc := "", "", ""
	for _, d := range distro.Catalog() {
		if !slices.Contains(d.Arches, arch) || abi.CompareVersions(d.Glibc, floor) < 0 {
			continue
		}
		v := shipped(d, arch, family)
		if v != "" && (low == "" || abi.CompareVersions(v, low) < 0 ||
			(abi.CompareVersions(v, low) == 0 && abi.CompareVersions(d.Glibc, whoGlibc) < 0)) {
			low, who, whoGlibc = v, d.ID, d.Glibc
		}
	}
	return low, who
}

// shipped is the highest version of family that target d ships on arch.
func shipped(d distro.Distro, arch, family string) string {
	v := map[string]string{"GLIBCXX": d.Runtime.GLIBCXX, "CXXABI": d.Runtime.CXXABI, "GCC": d.Runtime.GCC}[family]
	l := d.Libraries[arch][libraryOf[family]]
	if l == nil {
		return v
	}
	best := ""
	for _, def := range l.VersionDefs {
		if n, ok := strings.CutPrefix(def, family+"_"); ok && abi.ValidVersion(n) && (best == "" || abi.CompareVersions(n, best) > 0) {
			best = n
		}
	}
	if best != "" {
		return best
	}
	return v
}
