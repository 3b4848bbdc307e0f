package release

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"relpack/pkg/abi"
	"relpack/pkg/config"
	"relpack/pkg/deps"
	"relpack/pkg/distro"
	"relpack/pkg/lifecycle"
	"relpack/pkg/manifest"
	"relpack/pkg/pack"
	"relpack/pkg/sign"
	"relpack/pkg/version"
	"relpack/templates"
)

// Planning turns one input and one target into an artifact: its manifest
// entry and how to write it. Everything that can refuse a build (a soname
// the distro does not ship, a template error) happens here, before any
// artifact is written.

func glibcMeasured(in *Input) string {
	if !in.IsGNU() {
		return ""
	}
	return in.Facts.HighestOf("GLIBC")
}

// planTarball plans the tarball of in; with its debug symbols split, it
// packages the stripped copy (its .gnu_debuglink "rest.debug", found in
// the debug tarball's build-id tree).
func planTarball(cfg *config.Config, in *Input, policies policySet, mtime time.Time) (artifact, error) {
	name := tarballName(cfg, in.Triple)
	bin, err := in.packaged(treeLink(in.BuildID))
	if err != nil {
		return artifact{}, err
	}
	entries := []pack.TarEntry{{Name: cfg.Name, Src: bin, Mode: 0o755}}
	for _, f := range cfg.Tarball.Files {
		entries = append(entries, pack.TarEntry{Name: filepath.Base(f), Src: f, Mode: 0o644})
	}
	var contents []string
	for _, e := range entries {
		contents = append(contents, e.Name)
	}
	sort.Strings(contents)
	e := manifest.Artifact{
		File: name, Kind: "tarball", Triple: in.Triple, Arch: in.Machine, Libc: in.Libc,
		GlibcMeasured: glibcMeasured(in), Z3: in.Z3, Z3So: in.Z3So, Contents: contents,
	}
	if in.IsGNU() {
		e.Floor = policies.Glibc()
	}
	if in.debug != nil {
		e.BuildID, e.Debug = in.BuildID, debugTarballName(cfg, in.Triple)
	}
	return artifact{entry: e, write: func(dir string) (string, error) {
		return name, pack.WriteTarGz(filepath.Join(dir, name), entries, mtime)
	}, bom: tarballBOM(in, entries, cfg.Name, nil)}, nil
}

// planPackage plans the package of input in for distro target d: its
// private libraries, its relations, its files and service, its manifest
// entry and its name; with its debug symbols split, also its debug
// package (nil otherwise), whose name the main entry records.
func planPackage(cfg *config.Config, in *Input, d distro.Distro, ver version.Version, release string, policies policySet, mtime time.Time, signing *sign.Key, scratch string, pv *privatePlanner, payloads *pack.PayloadCache) (artifact, *artifact, error) {
	fields := ver.NFPM(d.Format, release+d.ReleaseSuffix)
	spec := pack.PackageSpec{
		Format: d.Format, Name: cfg.Name, Arch: distro.ArchName(in.Machine, "go"),
		Version: fields.Version, Release: fields.Release, Prerelease: fields.Prerelease,
		VersionMetadata: fields.VersionMetadata, Epoch: fields.Epoch,
		Maintainer: cfg.Maintainer, Vendor: cfg.Vendor, Homepage: cfg.Homepage, License: cfg.License,
		Summary: cfg.Summary, Section: cfg.Section, Priority: cfg.Priority, Group: cfg.Group,
		Compression: d.Compression, MTime: mtime, Signing: signing, TempDir: scratch, Payloads: payloads,
	}
	// The binary packaged: stripped, its .gnu_debuglink naming the debug
	// file as this format's debug package installs it.
	dp := debugPackageOf(cfg, in)
	link := debugLinkOf(spec, dp, in)
	if err := checkFileName(link, ver.String()); err != nil { // an rpm's names the version
		return artifact{}, nil, err
	}
	bin, err := in.packaged(link)
	if err != nil {
		return artifact{}, nil, fmt.Errorf("target %s: %w", d.ID, err)
	}
	// Private libraries next: they decide the binary packaged (RUNPATH
	// edited) and which sonames get no relation (d.Private).
	d, priv, err := pv.plan(in, d, bin)
	if err != nil {
		return artifact{}, nil, err
	}
	rel, err := resolveTarget(cfg, in, d, policies)
	if err != nil {
		return artifact{}, nil, err
	}
	files, err := packageFiles(cfg, d, priv)
	if err != nil {
		return artifact{}, nil, err
	}
	unit, scripts, err := serviceFiles(cfg, d)
	if err != nil {
		return artifact{}, nil, err
	}
	files = append(files, unit...)
	bom := packageBOM(in, files, cfg.Binary, priv.Libs, PrivateDir(cfg.Name))
	if in.debug != nil {
		files = append(files, pack.BuildIDLinks(spec, dp)...)
	}
	floor, floorNote := packageFloor(in, policies)
	spec.Description = strings.TrimSpace(cfg.Description + "\n\n" + floorNote)
	spec.Depends, spec.Files, spec.Scripts = rel.Depends, files, scripts
	e := manifest.Artifact{
		Kind: d.Format, Triple: in.Triple, Arch: in.Machine, Libc: in.Libc, Distro: d.ID,
		Floor: floor, GlibcMeasured: glibcMeasured(in), Relations: rel.Depends,
		Z3: rel.Z3, Z3So: rel.Z3Soname, Z3Package: rel.Packages[rel.Z3Soname], PackageVersion: fields.Full(d.Format),
		Repositories: addOnRepositories(d, rel.Packages),
	}
	recordPrivate(&e, cfg, in, priv, rel)
	name, err := pack.PackageFileName(spec)
	if err != nil {
		return artifact{}, nil, fmt.Errorf("target %s (%s:%d): %w", d.ID, cfg.File, cfg.LineOfTarget(d.ID), err)
	}
	e.File = name
	var debug *artifact
	if in.debug != nil {
		if debug, err = planDebugPackage(cfg, in, d, spec, dp, &e); err != nil {
			return artifact{}, nil, err
		}
	}
	return artifact{entry: e, write: writePackage(spec, name), bom: bom}, debug, nil
}

// packageFloor is the glibc floor a package of in claims (its manifest
// entry's floor) and the sentence its description ends with. A package of
// a static binary claims none: it loads no C library.
func packageFloor(in *Input, policies policySet) (floor, note string) {
	if isStatic(in) {
		return "", "A static binary: it needs no C library (relpack verified it has no interpreter and no DT_NEEDED)."
	}
	return policies.Glibc(), fmt.Sprintf("Requires glibc %s or later (%s); relpack verified the binary needs at most GLIBC_%s.",
		policies.Glibc(), strings.Join(policies.Covers(), ", "), glibcMeasured(in))
}

// isStatic reports whether in is a -musl input that is fully static (no
// PT_INTERP, no DT_NEEDED): the only non-glibc input a distro package is
// made from, with no libc relation.
func isStatic(in *Input) bool {
	f := in.Facts
	return !in.IsGNU() && f != nil && f.Linkage == abi.LinkageStatic && f.Interpreter == "" && len(f.Needed) == 0
}

// packageSource is the input a package of target t for arch is made from:
// the target's own or the release's -gnu input of that arch; without one,
// the release's -musl input of that arch (musl true), which is packaged
// only when it proves fully static (isStatic). "" when there is neither.
func packageSource(t config.Target, paths map[string]string, arch string) (triple, path string, musl bool) {
	gnu := arch + "-unknown-linux-gnu"
	if p := targetPath(t, paths, gnu); p != "" {
		return gnu, p, false
	}
	m := arch + "-unknown-linux-musl"
	if p := paths[m]; p != "" {
		return m, p, true
	}
	return "", "", false
}

// writePackage writes the package of spec, planned as name.
func writePackage(spec pack.PackageSpec, name string) func(dir string) (string, error) {
	return func(dir string) (string, error) {
		p, err := pack.WritePackage(spec, dir)
		if err == nil && filepath.Base(p) != name {
			err = fmt.Errorf("nfpm named the package %s, planned as %s", filepath.Base(p), name)
		}
		return filepath.Base(p), err
	}
}

// resolveTarget is deps.ResolveTarget for the package of in on target d;
// a soname the distro does not ship, or a floor it cannot meet, names the
// input and the target's line in the configuration.
func resolveTarget(cfg *config.Config, in *Input, d distro.Distro, policies policySet) (deps.Relations, error) {
	rel, err := deps.ResolveTarget(in.Facts, d, deps.Options{
		Floor: floorOf(in, policies), Arch: in.Machine, Needs: needs(cfg, d.ID), Unversioned: in.Unversioned,
		Undefined: in.Undefined,
	})
	if err != nil {
		var se *deps.SonameError
		var te *deps.TargetError
		switch {
		case errors.As(err, &se):
			se.Binary = fmt.Sprintf("input %s (%s)", in.Triple, in.Path)
			return rel, fmt.Errorf("target %s (%s:%d): %w", d.ID, cfg.File, cfg.LineOfTarget(d.ID), se)
		case errors.As(err, &te):
			te.Binary = fmt.Sprintf("input %s (%s)", in.Triple, in.Path)
			return rel, fmt.Errorf("target %s (%s:%d): %w", d.ID, cfg.File, cfg.LineOfTarget(d.ID), te)
		}
		return rel, err
	}
	return rel, nil
}

// floorOf is the glibc floor the relations of in's packages hold it to:
// none for a static binary.
func floorOf(in *Input, policies policySet) string {
	floor, _ := packageFloor(in, policies)
	return floor
}

// packageFiles are the files a package of target d ships besides its
// service: the binary, its private libraries, the configuration's files,
// and the license where the format keeps it (a deb's copyright file, an
// rpm's LICENSE).
func packageFiles(cfg *config.Config, d distro.Distro, priv privatePlan) ([]pack.PackageFile, error) {
	files := []pack.PackageFile{{Src: priv.Binary, Dst: cfg.Binary, Mode: 0o755}}
	files = append(files, priv.Files...)
	for _, f := range cfg.Files {
		mode, _ := strconv.ParseUint(f.Mode, 8, 32)
		files = append(files, pack.PackageFile{Src: f.Src, Dst: f.Dst, Mode: os.FileMode(mode), Config: f.Config})
	}
	if d.Format == "deb" {
		copyright, err := debCopyright(cfg)
		if err != nil {
			return nil, err
		}
		return append(files, pack.PackageFile{Data: copyright, Dst: "/usr/share/doc/" + cfg.Name + "/copyright", Mode: 0o644}), nil
	}
	return append(files, pack.PackageFile{Src: cfg.LicenseFile, Dst: "/usr/share/licenses/" + cfg.Name + "/LICENSE", Mode: 0o644}), nil
}

// serviceFiles are the systemd unit a package of target d ships and its
// install/upgrade/remove scripts (issue 11); none without a systemd
// section.
func serviceFiles(cfg *config.Config, d distro.Distro) ([]pack.PackageFile, pack.Scripts, error) {
	s := cfg.Systemd
	if s == nil {
		return nil, pack.Scripts{}, nil
	}
	unit, err := templates.Render("systemd.service.tmpl", templates.Unit{
		Description: s.Description, Binary: cfg.Binary, Args: s.Args, Homepage: cfg.Homepage, User: s.Scope == "user",
	})
	if err != nil {
		return nil, pack.Scripts{}, err
	}
	render := lifecycle.Deb
	if d.Format == "rpm" {
		render = lifecycle.RPM
	}
	sc, err := render(lifecycle.Service{Unit: s.Unit, Scope: s.Scope, Enable: s.Enabled(), RestartOnUpgrade: s.RestartsOnUpgrade()})
	if err != nil {
		return nil, pack.Scripts{}, fmt.Errorf("target %s (%s:%d): systemd: %w", d.ID, cfg.File, cfg.LineOfTarget(d.ID), err)
	}
	return []pack.PackageFile{{Data: unit, Dst: s.UnitPath(), Mode: 0o644}}, pack.Scripts(sc), nil
}

// recordPrivate records in e the private libraries a package ships: its
// RUNPATH, one shipped library (Z3 when private, else the first, as for a
// sidecar tarball) and the highest glibc the binary and they need.
func recordPrivate(e *manifest.Artifact, cfg *config.Config, in *Input, priv privatePlan, rel deps.Relations) {
	if len(priv.Libs) == 0 {
		return
	}
	e.Runpath = PrivateDir(cfg.Name)
	lib := priv.Libs[0]
	for _, b := range priv.Libs {
		if b.Soname == rel.Z3Soname {
			lib = b
			e.Z3 = "private"
		}
	}
	e.Sidecar = manifestLib(strings.TrimPrefix(PrivateDir(cfg.Name), "/")+"/"+lib.Soname, lib)
	facts := []*abi.Facts{in.Facts}
	for _, b := range priv.Libs {
		facts = append(facts, b.Facts)
	}
	e.GlibcMeasured = highestGlibc(facts...)
}

// needs turns packaging.yaml's libraries: into what deps checks for one
// target.
func needs(cfg *config.Config, target string) map[string]deps.Need {
	out := map[string]deps.Need{}
	for stem, lib := range cfg.Libraries {
		out[stem] = deps.Need{MinVersion: lib.MinVersion, Why: lib.Why, Private: cfg.PrivateFor(target, stem)}
	}
	return out
}

// packageName is the file name planPackage gives the package of target d
// for machine, read from the version and the configuration alone: a
// partial build names the packages it does not build with it (Run holds
// the two to the same answer for the packages it builds).
func packageName(cfg *config.Config, d distro.Distro, machine string, ver version.Version, release string) (string, error) {
	name, err := pack.PackageFileName(nameSpec(cfg, d, machine, ver, release))
	if err != nil {
		return "", fmt.Errorf("target %s (%s:%d): %w", d.ID, cfg.File, cfg.LineOfTarget(d.ID), err)
	}
	return name, nil
}

// nameSpec is the part of the spec of target d's package for machine
// that its name (and its debug package's) is made from.
func nameSpec(cfg *config.Config, d distro.Distro, machine string, ver version.Version, release string) pack.PackageSpec {
	fields := ver.NFPM(d.Format, release+d.ReleaseSuffix)
	return pack.PackageSpec{
		Format: d.Format, Name: cfg.Name, Arch: distro.ArchName(machine, "go"),
		Version: fields.Version, Release: fields.Release, Prerelease: fields.Prerelease,
		VersionMetadata: fields.VersionMetadata, Epoch: fields.Epoch,
		Maintainer: cfg.Maintainer, Summary: cfg.Summary, Description: cfg.Description,
		Compression: d.Compression, Files: []pack.PackageFile{{Src: cfg.LicenseFile, Dst: cfg.Binary, Mode: 0o755}},
	}
}

// tarballName and sidecarName are the names users download:
// NAME-TRIPLE.tar.gz and NAME-TRIPLE-SUFFIX.tar.gz.
func tarballName(cfg *config.Config, triple string) string {
	return fmt.Sprintf("%s-%s.tar.gz", cfg.Name, triple)
}

func sidecarName(cfg *config.Config, triple string) string {
	return fmt.Sprintf("%s-%s-%s.tar.gz", cfg.Name, triple, cfg.Tarball.Sidecar.Suffix)
}

// targetPath is the gnu binary a target packages for triple: its own
// (targets[].inputs), else the release's (paths: packaging.yaml's inputs
// with --bin applied); "" when the release has none.
func targetPath(t config.Target, paths map[string]string, triple string) string {
	if p, ok := t.Inputs[triple]; ok {
		return p
	}
	return paths[triple]
}

// addOnRepositories lists the add-on repositories (EPEL, universe) a host
// of d must enable before the packages of packages (soname -> package)
// install, each with the packages it serves; nil when d's own
// repositories ship them all.
func addOnRepositories(d distro.Distro, packages map[string]string) []manifest.Repository {
	byName := map[string]*manifest.Repository{}
	for so, pkg := range packages {
		a := d.AddOnFor(so)
		if a == nil {
			continue
		}
		r := byName[a.Name]
		if r == nil {
			r = &manifest.Repository{Name: a.Name, Enable: a.Enable}
			byName[a.Name] = r
		}
		if !slices.Contains(r.Packages, pkg) {
			r.Packages = append(r.Packages, pkg)
		}
	}
	var out []manifest.Repository
	for _, name := range slices.Sorted(maps.Keys(byName)) {
		r := byName[name]
		slices.Sort(r.Packages)
		out = append(out, *r)
	}
	return out
}
