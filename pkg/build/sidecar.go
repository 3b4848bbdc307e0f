package build

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"relpack/pkg/abi"
	"relpack/pkg/config"
	"relpack/pkg/deps"
	"relpack/pkg/elfedit"
	"relpack/pkg/manifest"
	"relpack/pkg/pack"
)

// SidecarRunpath is where a sidecar tarball's binary finds its libraries:
// bin/NAME looks in lib/ beside bin/, wherever the tarball is unpacked.
// RUNPATH rather than RPATH: RUNPATH is searched after LD_LIBRARY_PATH, so
// an administrator can still override the bundled library, and it applies
// only to the binary's own NEEDED entries, not to every library below it.
const SidecarRunpath = "$ORIGIN/../lib"

// sidecarBase are the libraries a sidecar library may need from the
// system: glibc's own (covered by the floor) and GCC's C++ runtime, whose
// versions the floor policy checks (GLIBCXX, CXXABI, GCC).
func sidecarBase(soname string) bool {
	return deps.IsGlibcSoname(soname) || soname == "libstdc++.so.6" || soname == "libgcc_s.so.1"
}

// planSidecar checks the configured library against the binary and the
// floor, writes the binary's RUNPATH-edited copy into scratch, and returns
// the tarball to write. Every refusal happens here, before any artifact.
func planSidecar(cfg *config.Config, in *Input, policy abi.Policy, mtime time.Time, scratch string, snap *snapshot) (*artifact, error) {
	sc := cfg.Tarball.Sidecar
	lib, ok := sc.Libraries[in.Machine]
	if !ok {
		return nil, fmt.Errorf("%s: tarball.sidecar.libraries has no %s library, but input %s needs %s; add `%s: PATH/TO/%s`",
			cfg.File, in.Machine, in.Triple, in.Z3So, in.Machine, in.Z3So)
	}
	where := fmt.Sprintf("sidecar library %s (tarball.sidecar.libraries.%s in %s)", snap.display(lib), in.Machine, cfg.Where("tarball.sidecar.libraries."+in.Machine))
	lf, err := abi.Inspect(lib)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	switch {
	case lf.Machine != in.Machine:
		return nil, fmt.Errorf("%s is built for %s; input %s needs an %s library", where, lf.Machine, in.Triple, in.Machine)
	case lf.Type != abi.TypeSharedLibrary:
		return nil, fmt.Errorf("%s is a %s, not a shared library", where, lf.Type)
	case lf.Soname != in.Z3So:
		return nil, fmt.Errorf("%s has SONAME %q, but %s needs %s: the loader would not use it. Give the library built with SONAME %s",
			where, lf.Soname, in.Path, in.Z3So, in.Z3So)
	}
	if v := abi.Verify(lf, policy); !v.OK {
		var b strings.Builder
		abi.WriteVerdict(&b, v, policy)
		return nil, fmt.Errorf("%s breaks the promised floor: bundling it would break the %s promise of the tarball.\n%s"+
			"Bundle a libz3 built against glibc %s (e.g. from an EL8/manylinux_2_28 build image), or raise floor.glibc",
			where, policy.Name, strings.TrimRight(b.String(), "\n"), policy.Glibc())
	}
	var extra []string
	for _, n := range lf.Needed {
		if !sidecarBase(n) {
			extra = append(extra, n)
		}
	}
	if len(extra) > 0 {
		return nil, fmt.Errorf("%s needs %s, which a tarball cannot count on and relpack does not bundle; link those into libz3 statically",
			where, strings.Join(extra, ", "))
	}

	// The RUNPATH edit happens now, into scratch, so that a layout
	// elfedit refuses stops the build before anything is written.
	edited := filepath.Join(scratch, in.Triple+"-"+cfg.Name)
	if err := elfedit.SetRunpath(in.Data, edited, SidecarRunpath); err != nil {
		return nil, fmt.Errorf("input %s: setting RUNPATH for the sidecar tarball: %w", in.Triple, err)
	}
	ef, err := abi.Inspect(edited)
	if err != nil || len(ef.Runpath) != 1 || ef.Runpath[0] != SidecarRunpath || strings.Join(ef.Needed, ",") != strings.Join(in.Facts.Needed, ",") {
		return nil, fmt.Errorf("input %s: the RUNPATH edit did not read back as %s (%v); relink with -Wl,-rpath,'%s' instead", in.Triple, SidecarRunpath, err, SidecarRunpath)
	}

	sum, size, err := pack.SHA256File(lib)
	if err != nil {
		return nil, err
	}
	name := fmt.Sprintf("%s-%s-%s.tar.gz", cfg.Name, in.Triple, sc.Suffix)
	entries := []pack.TarEntry{
		{Name: "bin/" + cfg.Name, Src: edited, Mode: 0o755},
		{Name: "lib/" + lf.Soname, Src: lib, Mode: 0o644},
	}
	for _, f := range cfg.Tarball.Files {
		entries = append(entries, pack.TarEntry{Name: filepath.Base(f), Src: f, Mode: 0o644})
	}
	contents := []string{"bin/", "lib/"}
	for _, e := range entries {
		contents = append(contents, e.Name)
	}
	sort.Strings(contents)
	a := &artifact{
		entry: manifest.Artifact{
			File: name, Kind: "tarball", Triple: in.Triple, Arch: in.Machine, Libc: in.Libc,
			Floor: policy.Glibc(), GlibcMeasured: highestGlibc(in.Facts, lf), Z3: "sidecar", Z3So: lf.Soname,
			Contents: contents, Runpath: SidecarRunpath,
			Sidecar: &manifest.Sidecar{Path: "lib/" + lf.Soname, Soname: lf.Soname, SHA256: sum, Size: size, Needed: lf.Needed, Highest: lf.Highest},
		},
		write: func(dir string) (string, error) {
			return name, pack.WriteTarGz(filepath.Join(dir, name), entries, mtime)
		},
	}
	return a, nil
}

// highestGlibc is the newest GLIBC version the binary or its sidecar needs.
func highestGlibc(fs ...*abi.Facts) string {
	best := ""
	for _, f := range fs {
		if v := f.HighestOf("GLIBC"); v != "" && (best == "" || abi.CompareVersions(v, best) > 0) {
			best = v
		}
	}
	return best
}
