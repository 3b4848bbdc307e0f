package release

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"relpack/pkg/abi"
	"relpack/pkg/config"
	"relpack/pkg/deps"
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

// sidecarFile names the file a sidecar tarball carries for soname on
// arch: tarball.sidecar.libraries.ARCH for Z3 (kept for compatibility),
// else libraries.STEM.files.ARCH.
func sidecarFile(cfg *config.Config, soname, arch string) (path, key string, ok bool) {
	if p, found := cfg.Tarball.Sidecar.Libraries[arch]; found && strings.HasPrefix(soname, "libz3.so") {
		return p, "tarball.sidecar.libraries." + arch, true
	}
	if lib, stem, found := cfg.LibraryFor(soname); found {
		if p, found := lib.Files[arch]; found {
			return p, "libraries." + stem + ".files." + arch, true
		}
	}
	return "", "", false
}

// planSidecar checks the library files for every library the binary needs
// beyond glibc and GCC's runtime (bundledNeeds) against the binary and the
// floor, writes the binary's RUNPATH-edited copy into scratch, and returns
// the tarball to write. Every refusal happens here, before any artifact.
func planSidecar(cfg *config.Config, in *Input, policies policySet, mtime time.Time, scratch string, snap *snapshot) (*artifact, error) {
	needs := bundledNeeds(in)
	var libs []*bundled
	for _, so := range needs {
		p, key, ok := sidecarFile(cfg, so, in.Machine)
		if !ok {
			stem, _, _ := strings.Cut(so, ".so")
			if strings.HasPrefix(so, "libz3.so") {
				return nil, fmt.Errorf("%s: tarball.sidecar.libraries has no %s library, but input %s needs %s; add `%s: PATH/TO/%s` (or libraries.%s.files.%s)",
					cfg.Where("tarball.sidecar"), in.Machine, in.Triple, so, in.Machine, so, stem, in.Machine)
			}
			return nil, fmt.Errorf("%s: input %s needs %s, which its sidecar tarball must carry, but no file is given for it; add `libraries: {%s: {files: {%s: PATH/TO/%s}}}` (tarball.sidecar.libraries carries Z3 only)",
				cfg.Where("tarball.sidecar"), in.Triple, so, stem, in.Machine, so)
		}
		b, err := checkBundled(cfg, snap, in, p, policies, bundleCheck{
			what: "sidecar library", key: key, promise: "the tarball", soname: so, shipped: needs,
		})
		if err != nil {
			return nil, err
		}
		libs = append(libs, b)
	}
	if err := checkExports(cfg, in, libs, "sidecar library"); err != nil {
		return nil, err
	}

	edited, err := sidecarBinary(cfg, in, scratch)
	if err != nil {
		return nil, err
	}

	name := sidecarName(cfg, in.Triple)
	entries := []pack.TarEntry{{Name: "bin/" + cfg.Name, Src: edited, Mode: 0o755}}
	facts := []*abi.Facts{in.Facts}
	for _, b := range libs {
		entries = append(entries, pack.TarEntry{Name: "lib/" + b.Soname, Src: b.Src, Mode: 0o644})
		facts = append(facts, b.Facts)
	}
	for _, f := range cfg.Tarball.Files {
		entries = append(entries, pack.TarEntry{Name: filepath.Base(f), Src: f, Mode: 0o644})
	}
	contents := []string{"bin/", "lib/"}
	for _, e := range entries {
		contents = append(contents, e.Name)
	}
	sort.Strings(contents)
	// The manifest's sidecar record names one library: Z3 when the binary
	// needs it (install docs speak of Z3), else the first; contents list
	// them all.
	first := libs[0]
	for _, b := range libs {
		if b.Soname == in.Z3So {
			first = b
		}
	}
	z3 := in.Z3
	if in.Z3So != "" {
		z3 = "sidecar"
	}
	a := &artifact{
		entry: manifest.Artifact{
			File: name, Kind: "tarball", Triple: in.Triple, Arch: in.Machine, Libc: in.Libc,
			Floor: policies.Glibc(), GlibcMeasured: highestGlibc(facts...), Z3: z3, Z3So: in.Z3So,
			Contents: contents, Runpath: SidecarRunpath,
			Sidecar: manifestLib("lib/"+first.Soname, first),
		},
		write: func(dir string) (string, error) {
			return name, pack.WriteTarGz(filepath.Join(dir, name), entries, mtime)
		},
		bom: tarballBOM(in, entries, "bin/"+cfg.Name, libs),
	}
	return a, nil
}

// sidecarBinary writes the binary of in's sidecar tarball into scratch:
// RUNPATH SidecarRunpath, edited now so that a layout elfedit refuses
// stops the build before anything is written. With its debug symbols
// split, the edit is made on the stripped copy (its .gnu_debuglink
// "rest.debug", as the tarball's).
func sidecarBinary(cfg *config.Config, in *Input, scratch string) (string, error) {
	edited := filepath.Join(scratch, in.Triple+"-"+cfg.Name)
	bin, err := in.packaged(treeLink(in.BuildID))
	if err != nil {
		return "", err
	}
	return edited, setRunpath(in, bin, edited, SidecarRunpath, "the sidecar tarball")
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
