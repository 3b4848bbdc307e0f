package capture

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"relpack/pkg/distro"
)

// Written is one fact file Write wrote.
type Written struct {
	Path      string // as written (dir joined with Name)
	Name      string // PACKAGE_ARCH.yaml
	Package   *Package
	Arch      string
	Libraries []distro.LibraryFacts
}

// FileName is the fact file name of a package's libraries for one arch.
func FileName(pkg, arch string) string { return pkg + "_" + arch + ".yaml" }

// Write writes one fact file per package and architecture into dir
// (created if missing), each through a temporary name and a rename, and
// returns them in the order written.
func Write(dir string, pkgs []*Package) ([]Written, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var out []Written
	seen := map[string]string{}
	for _, p := range pkgs {
		byArch := map[string][]distro.LibraryFacts{}
		for _, l := range p.Libraries {
			byArch[l.Arch] = append(byArch[l.Arch], l)
		}
		arches := make([]string, 0, len(byArch))
		for a := range byArch {
			arches = append(arches, a)
		}
		sort.Strings(arches)
		for _, a := range arches {
			name := FileName(p.Name, a)
			if prev, ok := seen[name]; ok {
				return out, fmt.Errorf("%s and %s both give %s: capture one version of a package per run", prev, p.File, name)
			}
			seen[name] = p.File
			comment := fmt.Sprintf("Written by `relpack distro capture` from %s (%s, %s).\n"+
				"Do not edit by hand: capture the package again (docs/config.md, \"Adding a distro target\").", p.File, p.Format, a)
			data, err := distro.MarshalFacts(comment, byArch[a])
			if err != nil {
				return out, err
			}
			// What is written must load: the same check as the catalogue's.
			if _, err := distro.ParseFacts(name, data); err != nil {
				return out, err
			}
			path := filepath.Join(dir, name)
			tmp, err := os.CreateTemp(dir, "."+name+".*")
			if err != nil {
				return out, err
			}
			_, werr := tmp.Write(data)
			cerr := tmp.Close()
			if werr == nil {
				werr = cerr
			}
			if werr == nil {
				werr = os.Chmod(tmp.Name(), 0o644)
			}
			if werr == nil {
				werr = os.Rename(tmp.Name(), path)
			}
			if werr != nil {
				os.Remove(tmp.Name())
				return out, werr
			}
			out = append(out, Written{Path: path, Name: name, Package: p, Arch: a, Libraries: byArch[a]})
		}
	}
	return out, nil
}

// RuntimeOf gives the C++ runtime maxima (GLIBCXX, CXXABI from
// libstdc++.so.6; GCC from libgcc_s.so.1) among captured libraries of one
// arch; fields stay empty when the library was not captured.
func RuntimeOf(libs []distro.LibraryFacts, arch string) distro.Runtime {
	var rt distro.Runtime
	for i := range libs {
		l := &libs[i]
		if l.Arch != arch {
			continue
		}
		switch l.Soname {
		case "libstdc++.so.6":
			rt.GLIBCXX = l.HighestDefined("GLIBCXX")
			rt.CXXABI = l.HighestDefined("CXXABI")
		case "libgcc_s.so.1":
			rt.GCC = l.HighestDefined("GCC")
		}
	}
	return rt
}
