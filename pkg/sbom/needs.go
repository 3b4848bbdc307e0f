package sbom

import (
	"sort"
	"strings"
)

// need is one thing the artifact needs from the host, as both formats
// write it: a runtime relation, or the glibc floor.
type need struct {
	Requirement
	comment string
}

// glibcPackage is the distro package of the C library an artifact's
// glibc floor is a requirement on.
func glibcPackage(kind string) string {
	if kind == "deb" {
		return "libc6"
	}
	return "glibc"
}

// hostNeeds lists the runtime relations, one per package and relation,
// sorted by package and relation, and the glibc floor: noted on the
// relation that names the C library's package, or added as a need of its
// own when none does (always so for a tarball, which declares nothing).
func hostNeeds(d *Document) []need {
	seen := map[string]bool{}
	var out []need
	for _, r := range d.Requires {
		k := r.Package + "\x00" + r.Raw
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, need{r, "runtime relation declared by the " + d.Artifact.Kind + " package: " + r.Raw})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Package != out[j].Package {
			return out[i].Package < out[j].Package
		}
		return out[i].Raw < out[j].Raw
	})
	if d.Floor == "" {
		return out
	}
	libc := glibcPackage(d.Artifact.Kind)
	noted := false
	for i := range out {
		if out[i].Package == libc {
			out[i].comment += "; " + floorText(d)
			noted = true
		}
	}
	if !noted {
		raw := libc + " >= " + d.Floor
		if d.Artifact.Kind == "deb" {
			raw = libc + " (>= " + d.Floor + ")"
		}
		out = append(out, need{Requirement{Raw: raw, Package: libc, Constraint: ">= " + d.Floor}, strings.TrimSpace(floorText(d))})
	}
	return out
}

// artifactNameVersion: a package's own name and version, or for a
// tarball the product's name and the release's version.
func artifactNameVersion(d *Document) (name, version string) {
	name, version = d.Artifact.Name, d.Artifact.PackageVersion
	if name == "" {
		name = d.Product
	}
	if version == "" {
		version = d.Version
	}
	return name, version
}

// libraryName names a carried library: its name, else its soname, else
// its path.
func libraryName(l Library) string {
	switch {
	case l.Name != "":
		return l.Name
	case l.Soname != "":
		return l.Soname
	}
	return l.Path
}

// libraryText says what a carried library is.
func libraryText(l Library) string {
	s := l.Role + " copy of " + l.Soname + " at " + l.Path
	if l.Version == "" {
		s += "; version unknown"
	}
	return s
}
