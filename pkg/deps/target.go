package deps

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"relpack/pkg/abi"
	"relpack/pkg/distro"
	"relpack/pkg/version"
)

// Per-target truth (issue 10): a package promises more than its glibc
// floor. Every library the binary needs must exist on the target at a
// version the binary works with, export every symbol the binary imports
// from it, and the C++ runtime must define every version the binary needs.
// The facts come from the distro catalogue (pkg/distro, captured from the
// distros' real package files where they could be fetched) and from the
// library files at hand (sidecar and private libraries).

// Need is what the release needs of one library beyond its soname
// (packaging.yaml libraries:).
type Need struct {
	MinVersion string // lowest upstream version that works, "" for any
	Why        string // where the minimum comes from
	Private    bool   // the package ships the library itself: no relation, no distro check
}

// Options are the per-target inputs of ResolveTarget.
type Options struct {
	Floor string // glibc floor, e.g. "2.28"
	Arch  string // x86_64, aarch64: selects the captured facts
	// Needs by library stem ("libz3").
	Needs map[string]Need
	// Unversioned lists the binary's undefined, non-weak dynamic symbols
	// bound without a version (Z3's C API has no symbol versions), as
	// UnversionedImports returns them; nil skips the export check of
	// unversioned libraries.
	Unversioned []string
	// Undefined lists every undefined dynamic symbol of the binary, weak
	// ones too, as dpkg-shlibdeps looks them up in symbols files:
	// NAME@VERSION, or NAME@Base when bound without a version
	// (UndefinedSymbols). nil takes them from the facts' imports, which
	// also hold the copy-relocated symbols dpkg-shlibdeps does not look up.
	Undefined []string
}

// TargetError lists every reason one binary cannot be promised on one
// target, with the ways out.
type TargetError struct {
	Binary   string
	Distro   string
	Problems []string
}

func (e *TargetError) Error() string {
	return fmt.Sprintf("%s cannot be promised on %s:\n  - %s", e.Binary, e.Distro, strings.Join(e.Problems, "\n  - "))
}

// ResolveTarget derives the relations for f on d like Resolve, and first
// holds f to what d ships: the C++ runtime versions, each library's
// version against its configured minimum, and each imported symbol against
// the library's captured exports. Versioned relations are written the way
// the distro's own tools write them.
func ResolveTarget(f *abi.Facts, d distro.Distro, o Options) (Relations, error) {
	// A private library is the package's own: no relation, no mapping,
	// and its file (not the distro's) is checked where it is planned.
	d.Private = slices.Clone(d.Private)
	for stem, n := range o.Needs {
		if n.Private && !slices.Contains(d.Private, stem) {
			d.Private = append(d.Private, stem)
		}
	}
	private := map[string]bool{}
	for _, so := range f.Needed {
		private[so] = IsPrivate(d, so)
	}
	r, err := Resolve(f, d, o.Floor)
	if err != nil {
		return r, err
	}
	var problems []string
	problems = append(problems, runtimeProblems(f, d, o.Arch)...)
	facts := d.Libraries[o.Arch]
	for _, so := range f.Needed {
		if glibcSonames[so] || private[so] {
			continue
		}
		lf := facts[so]
		need := o.Needs[libStem(so)]
		if need.MinVersion != "" && lf != nil && lf.Version != "" && abi.CompareVersions(upstream(lf.Version), need.MinVersion) < 0 {
			why := ""
			if need.Why != "" {
				why = " (" + need.Why + ")"
			}
			problems = append(problems, fmt.Sprintf("%s ships %s %s (package %s %s), below libraries.%s.min_version %s%s. "+
				"Ways out: make %s private for %s (libraries.%s.private), bundle it, or drop the target",
				d.ID, so, lf.Version, lf.Package, lf.PackageVersion, libStem(so), need.MinVersion, why, libStem(so), d.ID, libStem(so)))
		}
		if lf != nil && len(lf.Exports) > 0 {
			if missing := MissingExports(f, so, lf.Exports, o.Unversioned, onlyUnversionedLib(f, so)); len(missing) > 0 {
				problems = append(problems, fmt.Sprintf("%s's %s %s (package %s) does not export %s, which the binary imports: it would fail at start-up (undefined symbol). "+
					"Ways out: link against the %s that %s ships, make %s private for %s with a library that has them, or drop the target",
					d.ID, so, lf.Version, lf.Package, listSome(missing, 8), libStem(so), d.ID, libStem(so), d.ID))
			}
		}
	}
	if len(problems) > 0 {
		return Relations{}, &TargetError{Binary: f.Path, Distro: d.ID, Problems: problems}
	}
	r.Depends = versioned(r, f, d, o)
	return r, nil
}

// runtimeProblems holds the GLIBCXX, CXXABI and GCC versions the binary
// needs against the target's C++ runtime.
func runtimeProblems(f *abi.Facts, d distro.Distro, arch string) []string {
	var out []string
	// Per architecture: libgcc_s's GCC_ nodes differ (Debian 12: GCC_12.0.0
	// on x86_64, GCC_11.0 on aarch64); captured libraries override the
	// documented values.
	rt := d.RuntimeFor(arch)
	for _, fam := range []struct{ family, ships, lib string }{
		{"GLIBCXX", rt.GLIBCXX, "libstdc++.so.6"},
		{"CXXABI", rt.CXXABI, "libstdc++.so.6"},
		{"GCC", rt.GCC, "libgcc_s.so.1"},
	} {
		need := f.HighestOf(fam.family)
		if IsPrivate(d, fam.lib) {
			continue // the package ships its own runtime; checked on the file
		}
		if need == "" || fam.ships == "" || abi.CompareVersions(need, fam.ships) <= 0 {
			continue
		}
		var syms []string
		for _, g := range f.Imports {
			if strings.HasPrefix(g.Version, fam.family+"_") && abi.CompareVersions(strings.TrimPrefix(g.Version, fam.family+"_"), fam.ships) > 0 {
				for _, s := range g.Symbols {
					syms = append(syms, s+"@"+g.Version)
				}
			}
		}
		out = append(out, fmt.Sprintf("needs %s_%s from %s, but %s's runtime defines up to %s_%s (%s). "+
			"Ways out: build with an older GCC or a sysroot for %s, link the C++ runtime statically (-static-libstdc++ -static-libgcc), or drop the target",
			fam.family, need, fam.lib, d.ID, fam.family, fam.ships, listSome(syms, 8), d.ID))
	}
	return out
}

// MissingExports returns the symbols f imports from the library soname
// that exports (NAME or NAME@VERSION entries) does not define: every
// symbol bound to one of the library's versions, and, when unversionedHere
// holds (the library is the only unversioned one f needs), every
// unversioned import in unversioned.
func MissingExports(f *abi.Facts, soname string, exports, unversioned []string, unversionedHere bool) []string {
	have := map[string]bool{}
	for _, e := range exports {
		have[e] = true
	}
	var missing []string
	for _, g := range f.Imports {
		if g.Library != soname || g.Version == "" {
			continue
		}
		for _, s := range g.Symbols {
			if !have[s+"@"+g.Version] {
				missing = append(missing, s+"@"+g.Version)
			}
		}
	}
	if unversionedHere {
		names := map[string]bool{}
		for _, e := range exports {
			name, _, _ := strings.Cut(e, "@")
			names[name] = true
		}
		for _, s := range unversioned {
			if !names[s] {
				missing = append(missing, s)
			}
		}
	}
	sort.Strings(missing)
	return slices.Compact(missing)
}

// onlyUnversionedLib reports whether soname is the one library f needs
// that defines no symbol versions: unversioned imports can then only come
// from it (glibc, libstdc++ and libgcc_s version every symbol, and a
// binary linked against them binds versions).
func onlyUnversionedLib(f *abi.Facts, soname string) bool {
	versioned := map[string]bool{}
	for _, vn := range f.VersionNeeds {
		versioned[vn.Library] = true
	}
	for _, n := range f.Needed {
		if n == soname || glibcSonames[n] || gccSonames[n] || versioned[n] {
			continue
		}
		return false // another unversioned library could provide them
	}
	return !versioned[soname]
}

// versioned rewrites the mapped packages of r's relations with versions:
// the configured minimum, else what the distro's shlibs/symbols say, as
// dpkg-shlibdeps and rpm's z3-libs >= V write them.
func versioned(r Relations, f *abi.Facts, d distro.Distro, o Options) []string {
	facts := d.Libraries[o.Arch]
	var out []string
	for _, rel := range r.Depends {
		// The sonames the package ships (libglib2.0-0: libglib-2.0.so.0 and
		// libgobject-2.0.so.0), sorted so the outcome does not depend on
		// map order.
		var sonames []string
		for s, pkg := range r.Packages {
			if pkg == rel {
				sonames = append(sonames, s)
			}
		}
		if len(sonames) == 0 {
			out = append(out, rel)
			continue
		}
		sort.Strings(sonames)
		so := sonames[0]
		need := o.Needs[libStem(so)]
		v := need.MinVersion
		switch d.Format {
		case "deb":
			// dpkg-shlibdeps keeps the highest version any of them gives.
			dv := ""
			for _, s := range sonames {
				if x := debMinVersion(f, s, facts, o.Undefined); x != "" && (dv == "" || version.CompareDebian(x, dv) > 0) {
					dv = x
				}
			}
			if v != "" {
				v = withEpoch(v, facts[so])
			}
			if dv != "" && (v == "" || version.CompareDebian(v, dv) < 0) {
				v = dv
			}
			if v != "" {
				rel = fmt.Sprintf("%s (>= %s)", rel, v)
			}
		case "rpm":
			if v != "" {
				rel = fmt.Sprintf("%s >= %s", rel, v)
			}
		}
		out = append(out, rel)
	}
	// rpm names GCC's runtime by soname only; a configured minimum still
	// gets its package relation.
	if d.Format == "rpm" {
		for so, pkg := range r.Packages {
			if need := o.Needs[libStem(so)]; gccSonames[so] && need.MinVersion != "" {
				out = append(out, fmt.Sprintf("%s >= %s", pkg, need.MinVersion))
			}
		}
	}
	return sortedUnique(out)
}

var shlibsRE = regexp.MustCompile(`\(>= ([^)]+)\)`)

// debMinVersion is the version dpkg-shlibdeps puts on the package of the
// library so (Dpkg::Shlibs, dpkg-shlibdeps.pl): where the package has a
// symbols file for it, the smallest minimal version of the file's symbols,
// raised to the minimal version of each undefined symbol of the binary
// that the file lists (looked up by exact name in the symbols files of the
// needed libraries, in DT_NEEDED order; the first that lists it takes
// it); without a symbols file, the version of the package's shlibs line,
// whatever symbols the binary uses.
func debMinVersion(f *abi.Facts, so string, facts map[string]*distro.LibraryFacts, undefined []string) string {
	lf := facts[so]
	if lf == nil {
		return ""
	}
	if lf.SymbolsSmallest == "" {
		if m := shlibsRE.FindStringSubmatch(lf.Shlibs); m != nil {
			return m[1]
		}
		return ""
	}
	if undefined == nil {
		undefined = importedSymbols(f)
	}
	best := lf.SymbolsSmallest
	for _, sym := range undefined {
		for _, n := range f.Needed {
			nf := facts[n]
			if nf == nil || nf.SymbolsSmallest == "" {
				continue
			}
			if v, ok := nf.SymbolMinVersion(sym); ok {
				if n == so && version.CompareDebian(v, best) > 0 {
					best = v
				}
				break
			}
		}
	}
	return best
}

// importedSymbols are the facts' imports as NAME@VERSION or NAME@Base.
func importedSymbols(f *abi.Facts) []string {
	var out []string
	for _, g := range f.Imports {
		v := g.Version
		if v == "" {
			v = "Base"
		}
		for _, s := range g.Symbols {
			out = append(out, s+"@"+v)
		}
	}
	return out
}

// withEpoch turns a configured minimum (an upstream version, 1.2.13)
// into the Debian version it means for the package lf describes: with the
// package's epoch (zlib1g's 1:), without which every version of the
// package would satisfy the relation (epoch 1 > epoch 0, deb-version(7)).
// A minimum that gives an epoch, or a package without one, is kept.
func withEpoch(min string, lf *distro.LibraryFacts) string {
	if lf == nil || strings.Contains(min, ":") {
		return min
	}
	if epoch, _, ok := strings.Cut(lf.PackageVersion, ":"); ok && epoch != "" && epoch != "0" {
		return epoch + ":" + min
	}
	return min
}

// upstream strips a Debian epoch and revision: "1:4.8.12-3.1" -> "4.8.12".
func upstream(v string) string {
	if _, after, ok := strings.Cut(v, ":"); ok {
		v = after
	}
	if i := strings.LastIndexByte(v, '-'); i > 0 {
		v = v[:i]
	}
	if i := strings.IndexAny(v, "~+"); i > 0 {
		v = v[:i]
	}
	return v
}

func listSome(xs []string, n int) string {
	if len(xs) <= n {
		return strings.Join(xs, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(xs[:n], ", "), len(xs)-n)
}

// UnversionedImports lists the undefined, non-weak dynamic symbols of f
// that are bound without a symbol version, sorted: a library must export
// them by name. Weak ones may be absent at run time by design
// (__gmon_start__, _ITM_*).
func UnversionedImports(f *abi.Facts) []string {
	out := []string{}
	for _, u := range f.Undefined {
		if !u.Weak && !u.Versioned {
			out = append(out, u.Name)
		}
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// UndefinedSymbols lists every undefined dynamic symbol of f, weak ones
// included, as NAME@VERSION or NAME@Base, sorted: what dpkg-shlibdeps
// looks up in the symbols files of the libraries the file needs
// (Options.Undefined).
func UndefinedSymbols(f *abi.Facts) []string {
	out := []string{}
	for _, u := range f.Undefined {
		v := "Base"
		if u.Versioned && u.Version != "" {
			v = u.Version
		}
		out = append(out, u.Name+"@"+v)
	}
	sort.Strings(out)
	return slices.Compact(out)
}
