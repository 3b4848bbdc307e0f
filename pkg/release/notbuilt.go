package release

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"relpack/pkg/config"
)

// notBuilt names what the configuration asks for that this build does not
// produce, each as one warning: a sidecar no input needs, an architecture a
// target lists with no input for it, a release without a musl build. A
// release is never silently smaller than its configuration; the build
// still succeeds (a release may rightly leave them out).
func notBuilt(cfg *config.Config, paths map[string]string, release []*Input) []string {
	var out []string

	// Sidecars: one tarball per gnu input that needs a library beyond
	// glibc and GCC's runtime.
	if sc := cfg.Tarball.Sidecar; sc != nil {
		needed := map[string]bool{} // arch -> some gnu input of it needs a sidecar
		z3 := map[string]bool{}     // arch -> its gnu input needs Z3
		for _, in := range release {
			if in.IsGNU() && len(bundledNeeds(in)) > 0 {
				needed[in.Machine] = true
				if in.Z3So != "" {
					z3[in.Machine] = true
				}
			}
		}
		if len(needed) == 0 {
			out = append(out, fmt.Sprintf("%s: tarball.sidecar is configured, but no gnu input needs a library beyond glibc and GCC's runtime (Z3 bundled, or no gnu input): no sidecar tarball was built",
				cfg.Where("tarball.sidecar")))
		} else {
			for _, arch := range slices.Sorted(maps.Keys(sc.Libraries)) {
				if z3[arch] {
					continue
				}
				why := "input " + arch + "-unknown-linux-gnu needs no libz3"
				if paths[arch+"-unknown-linux-gnu"] == "" {
					why = "the release has no " + arch + "-unknown-linux-gnu input"
				}
				out = append(out, fmt.Sprintf("%s: tarball.sidecar.libraries.%s is not used: %s, so no %s sidecar tarball carries it",
					cfg.Where("tarball.sidecar.libraries."+arch), arch, why, arch))
			}
		}
	}

	out = append(out, missingPackages(cfg, paths, release)...)

	// musl: the static tarball is what hosts below the floor, musl hosts
	// and the installer's --static fall back to.
	var arches, musl []string
	for _, triple := range slices.Sorted(maps.Keys(paths)) {
		arch, rest, _ := strings.Cut(triple, "-")
		if strings.HasSuffix(rest, "-musl") {
			musl = append(musl, arch)
		} else if !slices.Contains(arches, arch) {
			arches = append(arches, arch)
		}
	}
	switch {
	case len(musl) == 0:
		out = append(out, fmt.Sprintf("%s: the release has no musl build (no x86_64-unknown-linux-musl or aarch64-unknown-linux-musl input): no static tarball was built, so hosts with a glibc older than %s, musl hosts and install.sh --static have nothing to install",
			cfg.File, cfg.Floor.Glibc))
	default:
		for _, arch := range arches {
			if !slices.Contains(musl, arch) {
				out = append(out, fmt.Sprintf("%s: the release has no %s-unknown-linux-musl build: no static %s tarball was built, so %s hosts with a glibc older than %s or with musl have nothing to install",
					cfg.File, arch, arch, arch, cfg.Floor.Glibc))
			}
		}
	}
	return out
}

// releaseInput is the release input read for triple, or nil.
func releaseInput(release []*Input, triple string) *Input {
	for _, in := range release {
		if in.Triple == triple {
			return in
		}
	}
	return nil
}

// dynamicMusl is the warning for target id's package of the dynamically
// linked musl input in, which is not built: the glibc distro has no musl
// loader to run it.
func dynamicMusl(cfg *config.Config, id string, in *Input) string {
	return fmt.Sprintf("%s: no %s package was built for %s: the release has no %s-unknown-linux-gnu input, and its %s input (%s) is dynamically linked (interpreter %s, %d DT_NEEDED): it needs musl's loader, which a glibc distro does not ship, so only a fully static musl build is packaged; add inputs.%s-unknown-linux-gnu (or --bin %s-unknown-linux-gnu=PATH), link the musl build statically, or leave %s out of the targets' arches",
		cfg.File, in.Machine, id, in.Machine, in.Triple, in.Path, quoteInterp(in.Facts.Interpreter), len(in.Facts.Needed), in.Machine, in.Machine, in.Machine)
}

// missingPackages names, per arch, the targets that list it but get no
// package: no gnu input (the release's or the target's own) and no static
// musl one; and each package of a dynamically linked musl input.
func missingPackages(cfg *config.Config, paths map[string]string, release []*Input) []string {
	var out []string
	missing := map[string][]string{} // arch -> target ids
	for _, t := range cfg.Targets {
		for _, arch := range t.Arches {
			triple, path, musl := packageSource(t, paths, arch)
			switch in := releaseInput(release, triple); {
			case path == "":
				missing[arch] = append(missing[arch], t.ID)
			case musl && in != nil && !isStatic(in):
				out = append(out, dynamicMusl(cfg, t.ID, in))
			}
		}
	}
	for _, arch := range slices.Sorted(maps.Keys(missing)) {
		ids := missing[arch]
		out = append(out, fmt.Sprintf("%s: no %s package was built for %s: the targets list %s, but the release has no %s-unknown-linux-gnu input; add inputs.%s-unknown-linux-gnu (or --bin %s-unknown-linux-gnu=PATH), or leave %s out of the targets' arches",
			cfg.File, arch, strings.Join(ids, ", "), arch, arch, arch, arch, arch))
	}

	return out
}
