package release

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"relpack/pkg/config"
	"relpack/pkg/manifest"
	"relpack/pkg/sign"
	"relpack/pkg/version"
)

// Split and merge (issue 12): a release too large for one runner is built
// as partial releases, one CI job each (`relpack build --only SELECTOR`),
// and joined by `relpack merge`. A partial build plans the whole release
// (every artifact's name, recorded in manifest.json's planned[]), reads
// and verifies only the inputs its selected artifacts are made from, and
// writes only those artifacts. Everything else about the build is as for a
// full one, so the merged release is byte-identical to a full build.

// Kinds are the artifact kinds a selector may name besides the formats of
// the targets.
const kindTarball = "tarball"

// selection is a parsed --only list. Selectors of one category (triples,
// arches, distro targets, kinds) add up; categories narrow each other:
// --only x86_64 --only aarch64 is both arches, --only x86_64 --only deb
// the x86_64 debs.
type selection struct {
	given                           []string
	triples, arches, distros, kinds map[string]bool
}

// unit is one planned artifact as selectors see it.
type unit struct{ kind, triple, arch, distro string }

// match reports whether the selection selects u. A debug artifact is
// selected with its main artifact (--only deb selects the ddebs too), or
// by its own kind alone (--only ddeb).
func (s *selection) match(u unit) bool {
	if s == nil {
		return true
	}
	in := func(set map[string]bool, v string) bool { return len(set) == 0 || set[v] }
	if in(s.kinds, u.kind) && in(s.triples, u.triple) && in(s.arches, u.arch) && in(s.distros, u.distro) {
		return true
	}
	if manifest.IsDebug(u.kind) {
		main := u
		main.kind = manifest.Format(u.kind)
		return s.match(main)
	}
	return false
}

// wants reports whether the selection selects the main artifact u (a
// tarball or package) and whether it selects its debug artifact.
func (s *selection) wants(u unit) (main, debug bool) {
	d := u
	d.kind = debugKinds[u.kind]
	return s.match(u), s.match(d)
}

// units lists every artifact the release plans, as selectors see it:
// a tarball per release input (its sidecar tarball goes with it) and a
// package per target and architecture with a gnu input, or else a musl
// input (packaged when it proves static: the run that reads it knows);
// with debug_symbols.split, the debug artifact of each.
func units(cfg *config.Config, paths map[string]string) []unit {
	var out []unit
	add := func(u unit) {
		out = append(out, u)
		if cfg.Split() {
			u.kind = debugKinds[u.kind]
			out = append(out, u)
		}
	}
	for _, t := range slices.Sorted(maps.Keys(paths)) {
		arch, _, _ := strings.Cut(t, "-")
		add(unit{kindTarball, t, arch, ""})
	}
	for _, t := range cfg.Targets {
		for _, arch := range t.Arches {
			triple, path, _ := packageSource(t, paths, arch)
			if path == "" {
				continue
			}
			add(unit{t.Format, triple, arch, t.ID})
		}
	}
	return out
}

// newSelection parses --only values against what the release plans; nil
// when there are none (a full build). An unknown selector, or a selection
// that leaves nothing to build, is refused with the valid values.
func newSelection(cfg *config.Config, paths map[string]string, only []string) (*selection, error) {
	if len(only) == 0 {
		return nil, nil
	}
	all := units(cfg, paths)
	valid := map[string]map[string]bool{"triple": {}, "arch": {}, "target": {}, "kind": {}}
	for _, u := range all {
		valid["triple"][u.triple] = true
		valid["arch"][u.arch] = true
		valid["kind"][u.kind] = true
		if u.distro != "" {
			valid["target"][u.distro] = true
		}
	}
	s := &selection{triples: map[string]bool{}, arches: map[string]bool{}, distros: map[string]bool{}, kinds: map[string]bool{}}
	for _, v := range only {
		switch {
		case valid["triple"][v]:
			s.triples[v] = true
		case valid["arch"][v]:
			s.arches[v] = true
		case valid["target"][v]:
			s.distros[v] = true
		case valid["kind"][v]:
			s.kinds[v] = true
		default:
			list := func(k string) string { return strings.Join(slices.Sorted(maps.Keys(valid[k])), ", ") }
			return nil, fmt.Errorf("--only %q is not a selector of this release (%s); use a triple (%s), an arch (%s), a distro target id (%s) or a kind (%s)",
				v, cfg.File, list("triple"), list("arch"), list("target"), list("kind"))
		}
		if !slices.Contains(s.given, v) {
			s.given = append(s.given, v)
		}
	}
	slices.Sort(s.given)
	n := 0
	for _, u := range all {
		if s.match(u) {
			n++
		}
	}
	if n == 0 {
		return nil, fmt.Errorf("--only %s selects no artifact of this release (kinds add up, and so do triples, arches and targets; different categories narrow each other: a tarball has no distro target)",
			strings.Join(s.given, " --only "))
	}
	return s, nil
}

// arches are the architectures of the selected artifacts: a partial build
// reads the per-architecture library files of these only.
func (s *selection) neededArches(cfg *config.Config, paths map[string]string) map[string]bool {
	out := map[string]bool{}
	for _, u := range units(cfg, paths) {
		if s.match(u) {
			out[u.arch] = true
		}
	}
	return out
}

// forArches returns cfg without the per-architecture library files of
// other architectures (tarball.sidecar.libraries, libraries.STEM.files),
// so a runner of one architecture needs none of another's. A full build
// (s nil) gets cfg itself.
func (s *selection) forArches(cfg *config.Config, paths map[string]string) *config.Config {
	if s == nil {
		return cfg
	}
	keep := s.neededArches(cfg, paths)
	c := *cfg
	if sc := cfg.Tarball.Sidecar; sc != nil {
		out := *sc
		out.Libraries = map[string]string{}
		for arch, p := range sc.Libraries {
			if keep[arch] {
				out.Libraries[arch] = p
			}
		}
		c.Tarball.Sidecar = &out
	}
	if cfg.Libraries != nil {
		c.Libraries = map[string]config.Library{}
		for stem, lib := range cfg.Libraries {
			files := map[string]string{}
			for arch, p := range lib.Files {
				if keep[arch] {
					files[arch] = p
				}
			}
			lib.Files = files
			c.Libraries[stem] = lib
		}
	}
	return &c
}

// configDigest is manifest.json's config_digest: the sha256 of a canonical
// JSON of the resolved configuration that shapes the artifacts, and of
// relpack's identity (version, commit, Go). Paths are left out (each runner checks out in its own
// place); the files the configuration names count by their sha256 (sum),
// the inputs by their triples (their sha256 are in manifest inputs[]).
// Per-architecture library files count by their architectures only: each
// artifact carrying one is built by one partial and records the library's
// sha256 itself. The signing section is left out: manifest signing[]
// names the key.
func configDigest(cfg *config.Config, paths map[string]string, tool manifest.Tool, sum func(path string) string) (string, error) {
	c := *cfg
	c.File, c.Dir, c.Signing = "", "", nil
	c.LicenseFile = sum(cfg.LicenseFile)
	c.Inputs = map[string]string{}
	for t := range paths {
		c.Inputs[t] = ""
	}
	c.Files = nil
	for _, f := range cfg.Files {
		f.Src = sum(f.Src)
		c.Files = append(c.Files, f)
	}
	c.Tarball.Files = nil
	for _, f := range cfg.Tarball.Files {
		c.Tarball.Files = append(c.Tarball.Files, filepath.Base(f)+" "+sum(f))
	}
	if sc := cfg.Tarball.Sidecar; sc != nil {
		out := *sc
		out.Libraries = map[string]string{}
		for arch := range sc.Libraries {
			out.Libraries[arch] = ""
		}
		c.Tarball.Sidecar = &out
	}
	c.Libraries = map[string]config.Library{}
	for stem, lib := range cfg.Libraries {
		files := map[string]string{}
		for arch := range lib.Files {
			files[arch] = ""
		}
		lib.Files = files
		c.Libraries[stem] = lib
	}
	c.DebugSymbols = debugDigest(cfg)
	type target struct {
		config.Target
		Libraries any // the loaded distro facts, not the names of their files
	}
	var targets []target
	c.Targets = nil
	for _, t := range cfg.Targets {
		in := map[string]string{}
		for triple := range t.Inputs {
			in[triple] = ""
		}
		t.Inputs = in
		t.Facts = nil
		targets = append(targets, target{t, t.Libraries})
	}
	// relpack's version, and the commit and Go it was built from when
	// known: a digest of a release made by a zero Tool is what it was
	// before relpack recorded its commit and Go.
	b, err := json.Marshal(struct {
		Relpack       string
		RelpackCommit string `json:",omitempty"`
		RelpackGo     string `json:",omitempty"`
		Config        config.Config
		Targets       []target
	}{tool.Version, tool.Commit, tool.Go, c, targets})
	if err != nil {
		return "", fmt.Errorf("config digest: %w", err)
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:]), nil
}

// debugDigest is the debug_symbols section as config_digest counts it:
// the split and the policy, and which inputs have a separate debug file,
// named by where the configuration uses them ("x86_64-unknown-linux-gnu",
// "el8 x86_64-unknown-linux-gnu"), not by path. The debug files count by
// the build-ids the manifest's inputs record, as each partial build reads
// only its own.
func debugDigest(cfg *config.Config) *config.DebugSymbols {
	d := cfg.DebugSymbols
	if d == nil {
		return nil
	}
	out := *d
	out.Files = map[string]string{}
	for in := range d.Files {
		var uses []string
		for t, p := range cfg.Inputs {
			if p == in {
				uses = append(uses, t)
			}
		}
		for _, tg := range cfg.Targets {
			for t, p := range tg.Inputs {
				if p == in {
					uses = append(uses, tg.ID+" "+t)
				}
			}
		}
		slices.Sort(uses)
		out.Files[strings.Join(uses, ",")] = ""
	}
	return &out
}

// sortInputs puts manifest inputs in one canonical order (triple, file,
// sha256) and drops repeats, so a merge of partial releases lists them as
// a full build does.
func sortInputs(in []manifest.Input) []manifest.Input {
	key := func(i manifest.Input) string { return i.Triple + "\x00" + i.File + "\x00" + i.SHA256 }
	slices.SortStableFunc(in, func(a, b manifest.Input) int { return strings.Compare(key(a), key(b)) })
	return slices.CompactFunc(in, func(a, b manifest.Input) bool { return key(a) == key(b) })
}

// SortInputs is sortInputs for relpack merge.
func SortInputs(in []manifest.Input) []manifest.Input { return sortInputs(in) }

// SigningKey loads (and unlocks) the configuration's signing key, as a
// signed build does.
func SigningKey(cfg *config.Config) (*sign.Key, error) {
	return SigningKeyContext(context.Background(), cfg)
}

// SigningKeyContext is SigningKey that gives up as soon as ctx is done
// (Ctrl-C while a slow passphrase derivation runs): it returns ctx's error
// then, wrapped with the configuration's name.
func SigningKeyContext(ctx context.Context, cfg *config.Config) (*sign.Key, error) {
	sg := cfg.Signing
	if sg == nil {
		return nil, fmt.Errorf("--sign: %s has no signing section; add `signing: {key_file: PATH}` or `signing: {key_env: VARIABLE}` (docs/signing.md)", cfg.File)
	}
	var key *sign.Key
	var err error
	if sg.KeyFile != "" {
		key, err = sign.LoadKeyContext(ctx, sg.KeyFile)
	} else {
		key, err = sign.LoadKeyFromEnvContext(ctx, sg.KeyEnv)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: signing: %w", cfg.File, err)
	}
	return key, nil
}

// SignSums writes SHA256SUMS.asc and KEY.asc beside stage/SHA256SUMS, as
// a signed build does (signSums).
func SignSums(stage string, key *sign.Key, mtime time.Time) error {
	return signSums(stage, key, mtime)
}

// Publish writes a release into dir with a build's guarantees: under dir's
// lock, after rolling back or removing what killed runs left, every file
// complete in a staging folder first, then one journaled swap. fill writes
// the files into stage and returns their names in publishing order
// (SHA256SUMS last). A folder holding an earlier release is refused unless
// clean; with clean its files are replaced and its artifacts that are
// provably its own and not written again are removed. On error dir holds
// what it held before (and is removed again if Publish created it).
func Publish(dir string, clean bool, warn io.Writer, fill func(stage string) ([]string, error)) (err error) {
	out, err := lockOut(dir)
	if err != nil {
		return err
	}
	defer func() { out.release(err != nil) }()
	if err := out.recoverStale(warn); err != nil {
		return err
	}
	earlier, oldManifest := earlierBuild(dir)
	if len(earlier) > 0 && !clean {
		shown := earlier
		if len(shown) > 3 {
			shown = append(shown[:3:3], fmt.Sprintf("and %d more", len(earlier)-3))
		}
		return fmt.Errorf("output directory %s holds an earlier release (%s); pass --clean to replace it, or choose another --out",
			dir, strings.Join(shown, ", "))
	}
	stage, err := os.MkdirTemp(dir, stagingPattern)
	if err != nil {
		return fmt.Errorf("output directory %s is not writable: %w (choose another --out, or fix its permissions)", dir, err)
	}
	defer removeStage(stage)
	names, err := fill(stage)
	if err != nil {
		return err
	}
	var displace []string
	if clean {
		written := map[string]bool{}
		for _, n := range names {
			written[n] = true
		}
		displace = append(staleFiles(dir, oldManifest, written, warn), releaseFiles...)
	}
	if err := publish(dir, stage, names, displace); err != nil {
		return fmt.Errorf("publishing into %s: %w; it holds the previous release unchanged", dir, err)
	}
	return nil
}

// staticRead reports whether in was read and proves fully static.
func staticRead(in *Input) bool { return in != nil && isStatic(in) }

// plannedNames names every artifact of the release, built by this run or
// not, with the sha256 of the input each is made from where this run read
// it. A sidecar tarball is planned only for an input that needs a library
// beyond glibc's, a package of a musl input only when it is static, and a
// debug artifact only for an input whose debug
// symbols are split: for an input this run did not read, the partial that
// reads it names them. Names clash and lengths are refused as for built
// artifacts; every artifact of plan must be among the names.
func plannedNames(cfg *config.Config, paths map[string]string, checked map[[2]string]*Input, ver version.Version, verText, release string, plan []*artifact) ([]manifest.Planned, error) {
	var out []manifest.Planned
	sha := func(in *Input) string {
		if in == nil {
			return ""
		}
		return in.SHA256
	}
	for _, t := range slices.Sorted(maps.Keys(paths)) {
		in := checked[[2]string{t, paths[t]}]
		out = append(out, manifest.Planned{File: tarballName(cfg, t), Input: sha(in)})
		if in != nil && in.debug != nil {
			out = append(out, manifest.Planned{File: debugTarballName(cfg, t), Input: sha(in)})
		}
		if cfg.Tarball.Sidecar != nil && in != nil && in.IsGNU() && len(bundledNeeds(in)) > 0 {
			out = append(out, manifest.Planned{File: sidecarName(cfg, t), Input: sha(in)})
		}
	}
	for _, t := range cfg.Targets {
		for _, arch := range t.Arches {
			triple, path, musl := packageSource(t, paths, arch)
			if path == "" {
				continue
			}
			if musl && !staticRead(checked[[2]string{triple, path}]) {
				continue // dynamic, or read by another partial build, which names it
			}
			name, err := packageName(cfg, t.Distro, arch, ver, release)
			if err != nil {
				return nil, err
			}
			in := checked[[2]string{triple, path}]
			out = append(out, manifest.Planned{File: name, Input: sha(in)})
			if in != nil && in.debug != nil {
				dname, err := debugPackageName(cfg, t.Distro, in, ver, release)
				if err != nil {
					return nil, err
				}
				out = append(out, manifest.Planned{File: dname, Input: sha(in)})
			}
		}
	}
	seen := map[string]bool{}
	for _, p := range out {
		if seen[p.File] {
			return nil, fmt.Errorf("two artifacts would be named %s; give the distro targets distinct release_suffix values", p.File)
		}
		seen[p.File] = true
		if err := checkFileName(p.File, verText); err != nil {
			return nil, err
		}
	}
	for _, a := range plan {
		if !seen[a.entry.File] {
			return nil, fmt.Errorf("relpack planned %s but named it %s in the release's list of artifacts; this is a bug in relpack, please report it", a.entry.File, strings.Join(slices.Sorted(maps.Keys(seen)), ", "))
		}
	}
	slices.SortFunc(out, func(a, b manifest.Planned) int { return strings.Compare(a.File, b.File) })
	return out, nil
}
