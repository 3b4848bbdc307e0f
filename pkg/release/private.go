package release

import (
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"relpack/pkg/abi"
	"relpack/pkg/config"
	"relpack/pkg/deps"
	"relpack/pkg/distro"
	"relpack/pkg/elfedit"
	"relpack/pkg/manifest"
	"relpack/pkg/pack"
)

// Private libraries (packaging.yaml libraries.STEM.private, or a target's
// private: list) are the package-format twin of the sidecar tarball: where
// a distro's own package falls short (too old, another soname), the
// package ships the library itself under /usr/lib/NAME/, the packaged
// binary's RUNPATH points there, and the package declares no dependency on
// the distro's package for that soname (deps.Resolve skips the stems in
// Distro.Private). The library is held to the sidecar's checks: machine,
// SONAME, the floor, and NEEDED only glibc and GCC's runtime.

// PrivateDir is where a package of product name keeps its private
// libraries; it is also the packaged binary's RUNPATH.
func PrivateDir(name string) string { return "/usr/lib/" + name }

// bundled is one library file relpack ships with a binary, checked
// against what the binary needs of it: a sidecar (tarball lib/) or a
// private library (/usr/lib/NAME/).
type bundled struct {
	Soname string
	Src    string // the build's private copy
	Orig   string // the path as the user gave it, for messages
	source *source
	Facts  *abi.Facts
	SHA256 string
	Size   int64
}

// bundledNeeds lists the binary's DT_NEEDED entries that a sidecar or a
// private library must carry: everything but glibc's own libraries and
// GCC's C++ runtime (sidecarBase), in DT_NEEDED order.
func bundledNeeds(in *Input) []string {
	var out []string
	for _, n := range in.Facts.Needed {
		if !sidecarBase(n) {
			out = append(out, n)
		}
	}
	return out
}

// takeLib returns the snapshot copy of a configured library path. p may
// already be a copy (the sidecar libraries of the configuration returned by
// takeSources): then that copy is returned, not copied again.
func (s *snapshot) takeLib(cfg *config.Config, key, p string) (*source, error) {
	if orig, ok := s.orig[p]; ok {
		return s.copies[orig], nil
	}
	return s.take(cfg, cfg.Where(key), key, p)
}

// bundleCheck is what checkBundled needs to know besides the file.
type bundleCheck struct {
	what    string   // "sidecar library" / "private library"
	key     string   // the configuration key naming the file
	promise string   // "the tarball", "the debian12 package"
	soname  string   // the soname the binary needs
	shipped []string // every soname shipped with this binary
}

// checkBundled copies the library at p through the snapshot and holds it
// to what the input needs of it. Every refusal names the file, its line in
// the configuration and what to do.
func checkBundled(cfg *config.Config, snap *snapshot, in *Input, p string, policies policySet, c bundleCheck) (*bundled, error) {
	policy := policies.of(in.Machine)
	src, err := snap.takeLib(cfg, c.key, p)
	if err != nil {
		return nil, err
	}
	where := fmt.Sprintf("%s %s (%s in %s)", c.what, src.Name, c.key, cfg.Where(c.key))
	lf, err := src.inspect()
	if err != nil {
		return nil, fmt.Errorf("%s: %s", where, abiDetail(err))
	}
	stem, _, _ := strings.Cut(c.soname, ".so")
	switch {
	case lf.Machine != in.Machine:
		return nil, fmt.Errorf("%s is built for %s; input %s needs an %s library", where, lf.Machine, in.Triple, in.Machine)
	case lf.Type != abi.TypeSharedLibrary:
		return nil, fmt.Errorf("%s is a %s, not a shared library", where, lf.Type)
	case lf.Soname != c.soname:
		return nil, fmt.Errorf("%s has SONAME %q, but %s needs %s: the loader would not use it. Give the library built with SONAME %s",
			where, lf.Soname, in.Path, c.soname, c.soname)
	}
	if v := abi.Verify(lf, policy); !v.OK {
		var b strings.Builder
		abi.WriteVerdict(&b, v, policy)
		return nil, fmt.Errorf("%s breaks the promised floor: bundling it would break the %s promise of %s.\n%s"+
			"Bundle a %s built against glibc %s (e.g. from an EL8/manylinux_2_28 build image), or raise floor.glibc",
			where, policy.Name, c.promise, strings.TrimRight(b.String(), "\n"), stem, policy.Glibc())
	}
	var extra []string
	for _, n := range lf.Needed {
		if !sidecarBase(n) && !slices.Contains(c.shipped, n) {
			extra = append(extra, n)
		}
	}
	if len(extra) > 0 {
		return nil, fmt.Errorf("%s needs %s, which %s cannot count on and relpack does not bundle (only what the binary itself needs is shipped); link those into %s statically",
			where, strings.Join(extra, ", "), c.promise, stem)
	}
	return &bundled{Soname: c.soname, Src: src.Path, Orig: src.Name, source: src, Facts: lf, SHA256: src.SHA256, Size: src.Size}, nil
}

// checkExports holds the bundled libraries to the symbols the binary
// imports from them, exactly, since their files are at hand: every symbol
// bound to a version of one of them must be defined there at that
// version, and when every library that could provide the unversioned
// imports is bundled (glibc and GCC's runtime version all of their
// symbols; Z3's C API has none), each unversioned import must be defined
// by one of them. Otherwise the binary fails at start-up (with
// LD_BIND_NOW) or at the first call: "undefined symbol".
func checkExports(cfg *config.Config, in *Input, libs []*bundled, what string) error {
	names := map[string]bool{}
	bundledSet := map[string]bool{}
	for _, b := range libs {
		bundledSet[b.Soname] = true
		exports, err := b.source.exports()
		if err != nil {
			return fmt.Errorf("%s %s: reading its dynamic symbols: %w", what, b.Orig, err)
		}
		if missing := deps.MissingExports(in.Facts, b.Soname, exports, nil, false); len(missing) > 0 {
			return fmt.Errorf("%s %s (%s) does not define %s, which input %s imports from it: it would fail at start-up (undefined symbol). Give the %s the binary was linked against, or a newer one",
				what, b.Orig, b.Soname, listSymbols(missing), in.Triple, b.Soname)
		}
		for _, e := range exports {
			name, _, _ := strings.Cut(e, "@")
			names[name] = true
		}
	}
	for _, n := range bundledNeeds(in) {
		if !bundledSet[n] {
			return nil // another library may provide the unversioned imports
		}
	}
	var missing, sonames []string
	for _, s := range in.Unversioned {
		if !names[s] {
			missing = append(missing, s)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	var files []string
	for _, b := range libs {
		sonames = append(sonames, b.Soname)
		files = append(files, b.Orig)
	}
	return fmt.Errorf("input %s imports %s, which no %s defines (%s): it would fail at start-up (undefined symbol). Give the library the binary was linked against, or a newer one",
		in.Triple, listSymbols(missing), what, strings.Join(files, ", "))
}

// listSymbols names up to 10 symbols and counts the rest.
func listSymbols(xs []string) string {
	if len(xs) <= 10 {
		return strings.Join(xs, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(xs[:10], ", "), len(xs)-10)
}

// setRunpath writes the input's copy with RUNPATH runpath into dst (in the
// build's scratch folder) and reads it back: a layout elfedit refuses, or
// an edit that does not read back exactly, stops the build before anything
// is written.
//
// src is the binary to edit: the input's copy, or its stripped copy when
// its debug symbols are split (the edit applies to what is packaged).
func setRunpath(in *Input, src, dst, runpath, what string) error {
	// elfedit and the read-back name the files they read, the build's
	// copy and its scratch edit; the message names the input as given.
	if err := elfedit.SetRunpath(src, dst, runpath); err != nil {
		var ee *elfedit.Error
		if errors.As(err, &ee) {
			err = errors.New(ee.Msg)
		}
		return fmt.Errorf("input %s (%s): setting RUNPATH for %s: %w", in.Triple, in.Path, what, err)
	}
	ef, err := abi.Inspect(dst)
	if err != nil || len(ef.Runpath) != 1 || ef.Runpath[0] != runpath || strings.Join(ef.Needed, ",") != strings.Join(in.Facts.Needed, ",") {
		got := fmt.Sprintf("RUNPATH %q", ef.Runpath)
		if err != nil {
			got = abiDetail(err)
		}
		return fmt.Errorf("input %s (%s): the RUNPATH edit did not read back as %s (%s); relink with -Wl,-rpath,'%s' instead", in.Triple, in.Path, runpath, got, runpath)
	}
	return nil
}

// privatePlanner plans the private libraries of every package of one
// build. The RUNPATH-edited binary is written once per input (every target
// that ships private libraries uses the same /usr/lib/NAME).
type privatePlanner struct {
	cfg      *config.Config // the loaded configuration (original paths)
	snap     *snapshot
	scratch  string
	policies policySet
	edited   map[string]string // binary packaged (input copy or stripped copy) -> RUNPATH-edited copy
	// planned and shipped record the targets planned and the stems
	// their packages ship ("debian12 libz3"), for unused.
	planned map[string]bool
	shipped map[string]bool
}

func newPrivatePlanner(cfg *config.Config, snap *snapshot, scratch string, policies policySet) *privatePlanner {
	return &privatePlanner{cfg: cfg, snap: snap, scratch: scratch, policies: policies, edited: map[string]string{},
		planned: map[string]bool{}, shipped: map[string]bool{}}
}

// unused names, once every package is planned, each library made private
// for a target whose packages' binaries do not need it (Z3 bundled, or
// another library): nothing of it was shipped.
func (p *privatePlanner) unused() []string {
	var out []string
	for _, t := range p.cfg.Targets {
		if !p.planned[t.ID] {
			continue // no package for it at all: notBuilt says so
		}
		for _, stem := range slices.Sorted(maps.Keys(p.cfg.Libraries)) {
			if p.cfg.PrivateFor(t.ID, stem) && !p.shipped[t.ID+" "+stem] {
				out = append(out, fmt.Sprintf("%s: %s is private for target %s, but no binary packaged for %s needs it: its packages ship no %s",
					p.cfg.Where("libraries."+stem), stem, t.ID, t.ID, stem))
			}
		}
	}
	return out
}

// privatePlan is what a package ships for its private libraries.
type privatePlan struct {
	Binary string             // the binary to package (edited, or the input's copy)
	Files  []pack.PackageFile // the libraries under /usr/lib/NAME/
	Libs   []*bundled
	Stems  []string // the private stems, for deps.Resolve (Distro.Private)
}

// plan returns what the package of in for target d ships privately, and
// d with Private set to the stems it ships (deps.Resolve then derives no
// relation for them). Without private libraries the plan ships the input
// as it is.
//
// bin is the binary to package: the input's copy, or its stripped copy
// (Input.packaged); the RUNPATH edit is made on it.
func (p *privatePlanner) plan(in *Input, d distro.Distro, bin string) (distro.Distro, privatePlan, error) {
	cfg := p.cfg
	pp := privatePlan{Binary: bin}
	p.planned[d.ID] = true
	// Any library but glibc's own may be private, GCC's C++ runtime
	// included (a target whose libstdc++ is too old): unlike a sidecar,
	// which carries what a host cannot be asked to install, a private
	// library is whatever the configuration names.
	var private []string
	for _, so := range in.Facts.Needed {
		if deps.IsGlibcSoname(so) {
			continue
		}
		if _, stem, ok := cfg.LibraryFor(so); ok && cfg.PrivateFor(d.ID, stem) {
			private = append(private, so)
		}
	}
	d.Private = nil
	if len(private) == 0 {
		return d, pp, nil
	}
	for _, so := range private {
		lib, stem, _ := cfg.LibraryFor(so)
		key := "libraries." + stem + ".files." + in.Machine
		path, ok := lib.Files[in.Machine]
		if !ok {
			return d, pp, fmt.Errorf("target %s (%s:%d): %s is private (libraries.%s in %s), but libraries.%s.files has no %s file for input %s; add `%s: PATH/TO/%s` under libraries.%s.files, or leave %s out of the private list",
				d.ID, cfg.File, cfg.LineOfTarget(d.ID), stem, stem, cfg.Where("libraries."+stem), stem, in.Machine, in.Triple, in.Machine, so, stem, d.ID)
		}
		b, err := checkBundled(cfg, p.snap, in, path, p.policies, bundleCheck{
			what: "private library", key: key, promise: "the " + d.ID + " package", soname: so, shipped: private,
		})
		if err != nil {
			return d, pp, fmt.Errorf("target %s: %w", d.ID, err)
		}
		pp.Libs = append(pp.Libs, b)
		pp.Stems = append(pp.Stems, stem)
		p.shipped[d.ID+" "+stem] = true
		pp.Files = append(pp.Files, pack.PackageFile{Src: b.Src, Dst: PrivateDir(cfg.Name) + "/" + so, Mode: 0o644})
	}
	if err := checkExports(cfg, in, pp.Libs, "private library"); err != nil {
		return d, pp, fmt.Errorf("target %s: %w", d.ID, err)
	}
	d.Private = pp.Stems
	edited, ok := p.edited[bin]
	if !ok {
		edited = filepath.Join(p.scratch, "private-"+strconv.Itoa(len(p.edited))+"-"+in.Triple+"-"+cfg.Name)
		if err := setRunpath(in, bin, edited, PrivateDir(cfg.Name), "its private libraries"); err != nil {
			return d, pp, fmt.Errorf("target %s: %w", d.ID, err)
		}
		p.edited[bin] = edited
	}
	pp.Binary = edited
	return d, pp, nil
}

// manifestLib is the manifest record of a shipped library (a sidecar's
// lib/SONAME, a private library's usr/lib/NAME/SONAME).
func manifestLib(path string, b *bundled) *manifest.Sidecar {
	return &manifest.Sidecar{Path: path, Soname: b.Soname, SHA256: b.SHA256, Size: b.Size, Needed: b.Facts.Needed, Highest: b.Facts.Highest}
}
