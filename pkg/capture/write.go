package capture

import (
	"context"
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

// fact is one fact file planned: what Write reports and the bytes.
type fact struct {
	Written
	data []byte
}

// Check makes and validates the fact files of one package without writing
// anything: every file must load as the catalogue loads it. The error says
// what is wrong; the caller names the package file it read.
func Check(p *Package) error {
	_, err := planPackage(p)
	return err
}

// plan makes every fact file of pkgs in memory, in the order Write writes
// them, and refuses the whole set when one fails to load (naming the
// package file) or two packages give one file name.
func plan(pkgs []*Package) ([]fact, error) {
	var out []fact
	seen := map[string]string{}
	for _, p := range pkgs {
		facts, err := planPackage(p)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p.File, err)
		}
		for _, f := range facts {
			if prev, ok := seen[f.Name]; ok {
				return nil, fmt.Errorf("%s and %s both give %s: capture one version of a package per run; nothing was written", prev, p.File, f.Name)
			}
			seen[f.Name] = p.File
		}
		out = append(out, facts...)
	}
	return out, nil
}

// planPackage makes the fact files of one package, one per arch.
func planPackage(p *Package) ([]fact, error) {
	byArch := map[string][]distro.LibraryFacts{}
	for _, l := range p.Libraries {
		byArch[l.Arch] = append(byArch[l.Arch], l)
	}
	arches := make([]string, 0, len(byArch))
	for a := range byArch {
		arches = append(arches, a)
	}
	sort.Strings(arches)
	var out []fact
	for _, a := range arches {
		name := FileName(p.Name, a)
		comment := fmt.Sprintf("Written by `relpack distro capture` from %s (%s, %s).\n"+
			"Do not edit by hand: capture the package again (docs/config.md, \"Adding a distro target\").", p.File, p.Format, a)
		data, err := distro.MarshalFacts(comment, byArch[a])
		if err != nil {
			return nil, err
		}
		// What is written must load: the same check as the catalogue's.
		if _, err := distro.ParseFacts(name, data); err != nil {
			return nil, fmt.Errorf("its facts would not load, so nothing was written: %w", err)
		}
		out = append(out, fact{Written{Name: name, Package: p, Arch: a, Libraries: byArch[a]}, data})
	}
	return out, nil
}

// Write writes one fact file per package and architecture into dir
// (created if missing) and returns them in the order written. It is all
// or nothing: every file is made and checked in memory first (a package
// whose facts would not load refuses the whole run, naming the package
// file), then written to a temporary name beside its final one, and only
// when all are complete are they renamed into place.
func Write(dir string, pkgs []*Package) ([]Written, error) {
	return WriteContext(context.Background(), dir, pkgs)
}

// WriteContext is Write that stops when ctx is done (Ctrl-C) before the
// first rename: the temporary files are removed and nothing is written.
// The renames themselves are not interrupted, so the set stays whole.
func WriteContext(ctx context.Context, dir string, pkgs []*Package) ([]Written, error) {
	facts, err := plan(pkgs)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var tmps []string
	defer func() {
		for _, t := range tmps {
			if t != "" {
				os.Remove(t)
			}
		}
	}()
	for _, f := range facts {
		tmp, err := os.CreateTemp(dir, "."+f.Name+".*")
		if err != nil {
			return nil, err
		}
		tmps = append(tmps, tmp.Name())
		_, werr := tmp.Write(f.data)
		if cerr := tmp.Close(); werr == nil {
			werr = cerr
		}
		if werr == nil {
			werr = os.Chmod(tmp.Name(), 0o644)
		}
		if werr != nil {
			return nil, fmt.Errorf("%s: %w; nothing was written", filepath.Join(dir, f.Name), werr)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("interrupted (%w); nothing was written", err)
	}
	var out []Written
	for i, f := range facts {
		path := filepath.Join(dir, f.Name)
		if err := os.Rename(tmps[i], path); err != nil {
			// A rename within one folder fails only when the folder
			// itself does (removed, read-only): say what is in place.
			return nil, fmt.Errorf("%s: %w (%d of %d fact files were written before it)", path, err, i, len(facts))
		}
		tmps[i] = ""
		f.Path = path
		out = append(out, f.Written)
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
