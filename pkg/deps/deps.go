// Package deps turns the ABI facts of a binary and a distro target into the
// package relations that make the package manager enforce what the binary
// needs: the glibc floor, and the package that ships every other library.
package deps

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"relpack/pkg/abi"
	"relpack/pkg/distro"
)

// glibcSonames are the libraries glibc itself ships; the libc package with
// the floor covers them on every distro.
var glibcSonames = map[string]bool{
	"libc.so.6": true, "libm.so.6": true, "libmvec.so.1": true, "libpthread.so.0": true,
	"libdl.so.2": true, "librt.so.1": true, "libresolv.so.2": true, "libutil.so.1": true,
	"libanl.so.1": true, "ld-linux-x86-64.so.2": true, "ld-linux-aarch64.so.1": true,
}

// gccSonames are GCC's runtime libraries. rpm's soname requires name them
// already (libstdc++.so.6()(64bit)), so no package name is added for them on
// rpm; on deb they map to their packages as dpkg-shlibdeps does.
var gccSonames = map[string]bool{"libgcc_s.so.1": true, "libstdc++.so.6": true}

// IsGlibcSoname reports whether glibc itself ships the soname.
func IsGlibcSoname(s string) bool { return glibcSonames[s] }

// Z3 modes.
const (
	Z3Bundled   = "bundled"   // no libz3 in DT_NEEDED: linked in statically (or not used)
	Z3Unbundled = "unbundled" // DT_NEEDED names libz3.so.*: the system must provide it
)

var z3RE = regexp.MustCompile(`^libz3\.so(\..*)?$`)

// Z3 reads the Z3 mode from the binary: never guessed, never configured.
func Z3(f *abi.Facts) (mode, soname string) {
	for _, n := range f.Needed {
		if z3RE.MatchString(n) {
			return Z3Unbundled, n
		}
	}
	return Z3Bundled, ""
}

// Relations are the derived package relations for one binary on one distro.
type Relations struct {
	Distro string `json:"distro"`
	Format string `json:"format"`
	// Floor is the glibc floor stamped into the package.
	Floor string `json:"floor"`
	// Depends is what goes into the deb's Depends or the rpm's Requires,
	// sorted and unique.
	Depends []string `json:"depends"`
	// Auto is, for rpm, what rpmbuild's ELF dependency generator (elfdeps)
	// would emit for the binary; it is part of Depends.
	Auto []string `json:"auto,omitempty"`
	// Packages maps each DT_NEEDED soname outside glibc to its package there.
	Packages map[string]string `json:"packages"`
	Z3       string            `json:"z3"`
	Z3Soname string            `json:"z3_soname,omitempty"`
}

// SonameError says a binary needs a library the target distro does not ship
// under that soname. It is the error that stops a release from promising a
// package that would not start.
type SonameError struct {
	Binary string
	Soname string
	Distro string
	// Shipped lists what the distro ships under the same library name
	// (libz3.so.4.8 for libz3.so.4), empty when nothing is known.
	Shipped map[string]string
	// NotShipped is set when the catalogue records that no repository of
	// the distro ships the library at all: the source that says so.
	NotShipped string
}

func (e *SonameError) Error() string {
	stem := libStem(e.Soname)
	if e.NotShipped != "" {
		return fmt.Sprintf("%s needs %s, but no repository of distro target %s ships %s (%s): a package depending on it could not be installed there.\n"+
			"Ways out: ship a private copy in the %s packages (`libraries: {%s: {files: {ARCH: PATH/TO/%s}, private: [%s]}}` in packaging.yaml installs it under /usr/lib/NAME/, docs/config.md); "+
			"or give %s its own input that bundles %s (link it statically; `targets: [{id: %s, inputs: {TRIPLE: PATH}}]`)",
			e.Binary, e.Soname, e.Distro, stem, e.NotShipped, e.Distro, stem, e.Soname, e.Distro, e.Distro, stem, e.Distro)
	}
	if len(e.Shipped) > 0 {
		var ships []string
		for so, pkg := range e.Shipped {
			ships = append(ships, fmt.Sprintf("%s (package %s)", so, pkg))
		}
		sort.Strings(ships)
		return fmt.Sprintf("%s needs %s, but %s ships %s as %s: the binary will not load there even with that package installed.\n"+
			"Ways out: bundle %s into the binary (link it statically); ship the library in the %s packages themselves "+
			"(`libraries: {%s: {files: {ARCH: PATH/TO/%s}, private: [%s]}}` in packaging.yaml installs it under /usr/lib/NAME/, docs/config.md); "+
			"ship a tarball with the library as a sidecar instead of a %s package; "+
			"link against %s's own %s; or, if %s really ships %s, add `%s: <package>` to the target's sonames in packaging.yaml",
			e.Binary, e.Soname, e.Distro, stem, strings.Join(ships, ", "), stem, e.Distro, stem, e.Soname, e.Distro, e.Distro, e.Distro, strings.Join(keys(e.Shipped), ", "),
			e.Distro, e.Soname, e.Soname)
	}
	return fmt.Sprintf("%s needs %s, and distro target %s has no package mapped for it.\n"+
		"Ways out: add `%s: <package that ships it on %s>` to the target's sonames in packaging.yaml; "+
		"ship the library in the %s packages themselves (`libraries: {%s: {files: {ARCH: PATH/TO/%s}, private: [%s]}}` installs it under /usr/lib/NAME/; "+
		"with tarball.sidecar the same files go into sidecar tarballs' lib/, docs/config.md); or link it statically",
		e.Binary, e.Soname, e.Distro, e.Soname, e.Distro, e.Distro, libStem(e.Soname), e.Soname, e.Distro)
}

// libStem is the library name of a soname: "libz3" for "libz3.so.4.8".
func libStem(soname string) string {
	if i := strings.Index(soname, ".so"); i > 0 {
		return soname[:i]
	}
	return soname
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Resolve derives the relations for the binary described by f, packaged for
// d with the glibc floor floor (e.g. "2.28"). An empty floor is a package
// of a fully static binary (no PT_INTERP, no DT_NEEDED): it loads no libc,
// so it gets no libc relation at all (no libc6, no glibc, no libc.so.6()
// require); only a static binary may be resolved so.
func Resolve(f *abi.Facts, d distro.Distro, floor string) (Relations, error) {
	r := Relations{Distro: d.ID, Format: d.Format, Floor: floor, Packages: map[string]string{}}
	r.Z3, r.Z3Soname = Z3(f)
	if floor == "" {
		if f.Linkage != abi.LinkageStatic || f.Interpreter != "" || len(f.Needed) > 0 {
			return Relations{}, fmt.Errorf("%s: no glibc floor given, but the binary is dynamically linked (interpreter %q, %d DT_NEEDED): only a static binary is packaged without a libc relation", f.Path, f.Interpreter, len(f.Needed))
		}
		r.Depends = []string{}
		return r, nil
	}

	for _, so := range f.Needed {
		if glibcSonames[so] || IsPrivate(d, so) {
			continue
		}
		pkg, ok := d.Sonames[so]
		if !ok {
			shipped := map[string]string{}
			for other, p := range d.Sonames {
				if libStem(other) == libStem(so) {
					shipped[other] = p
				}
			}
			notShipped, _ := d.NotShippedSource(libStem(so))
			return Relations{}, &SonameError{Binary: f.Path, Soname: so, Distro: d.ID, Shipped: shipped, NotShipped: notShipped}
		}
		r.Packages[so] = pkg
	}

	var rel []string
	switch d.Format {
	case "deb":
		rel = append(rel, fmt.Sprintf("%s (>= %s)", d.LibcPackage, floor))
		for _, pkg := range r.Packages {
			rel = append(rel, pkg)
		}
	case "rpm":
		r.Auto = dropPrivate(ELFRequires(f), f, d)
		rel = append(rel, r.Auto...)
		rel = append(rel, fmt.Sprintf("libc.so.6(GLIBC_%s)%s", floor, marker(f)))
		rel = append(rel, fmt.Sprintf("%s >= %s", d.LibcPackage, floor))
		for so, pkg := range r.Packages {
			if !gccSonames[so] {
				rel = append(rel, pkg)
			}
		}
	default:
		return Relations{}, fmt.Errorf("distro %s: unknown format %q", d.ID, d.Format)
	}
	r.Depends = sortedUnique(rel)
	return r, nil
}

// IsPrivate reports whether packages for d ship the library soname names
// themselves (d.Private lists its stem, e.g. libz3 for libz3.so.4): Resolve
// derives no relation for it, neither a package nor an rpm soname require.
func IsPrivate(d distro.Distro, soname string) bool {
	return slices.Contains(d.Private, libStem(soname))
}

// dropPrivate removes the soname requires of d's private libraries
// ("libz3.so.4()(64bit)"): the package carries them.
func dropPrivate(reqs []string, f *abi.Facts, d distro.Distro) []string {
	out := reqs[:0]
	for _, r := range reqs {
		keep := true
		for _, so := range f.Needed {
			if IsPrivate(d, so) && strings.HasPrefix(r, so+"(") {
				keep = false
			}
		}
		if keep {
			out = append(out, r)
		}
	}
	return out
}

// ELFRequires is what rpm's ELF dependency generator (elfdeps --requires, as
// run by rpmbuild for an executable file) emits: one soname(VERSION)marker
// per needed version, one soname()marker per DT_NEEDED, and rtld(GNU_HASH)
// when the file has only a GNU hash table. Sorted and unique.
func ELFRequires(f *abi.Facts) []string {
	m := marker(f)
	var out []string
	for _, vn := range f.VersionNeeds {
		for _, v := range vn.Versions {
			out = append(out, fmt.Sprintf("%s(%s)%s", vn.Library, v.Name, m))
		}
	}
	for _, n := range f.Needed {
		out = append(out, fmt.Sprintf("%s()%s", n, m))
	}
	if has(f.Hash, "gnu") && !has(f.Hash, "sysv") {
		out = append(out, "rtld(GNU_HASH)")
	}
	return sortedUnique(out)
}

// marker is rpm's word size mark: 64-bit ELF files get "(64bit)" (elfdeps
// exempts only Alpha, which relpack does not target).
func marker(f *abi.Facts) string {
	if f.Class == "ELF64" {
		return "(64bit)"
	}
	return ""
}

func has(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func sortedUnique(in []string) []string {
	sort.Strings(in)
	out := in[:0]
	for i, s := range in {
		if i == 0 || s != in[i-1] {
			out = append(out, s)
		}
	}
	return out
}
