package release

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"relpack/internal/ctxio"
	"relpack/internal/regular"
	"relpack/pkg/abi"
	"relpack/pkg/config"
	"relpack/pkg/debugsym"
	"relpack/pkg/distro"
	"relpack/pkg/manifest"
	"relpack/pkg/pack"
	"relpack/pkg/version"
)

// Debug symbols (issue 22, docs/debug-symbols.md). With
// debug_symbols.split, every input's debug file is written once into the
// scratch folder (split from the input, or the separate file the
// configuration gives), and each artifact packages a stripped copy of the
// input whose .gnu_debuglink names the debug file as that artifact's
// debug artifact installs it: "rest.debug" for a tarball and a deb (the
// build-id tree's base name), "BASENAME-V-R.ARCH.debug" for an rpm.
// Each variant is written once, while planning, so a refusal still comes
// before any artifact.

// debugSplit is one input's split debug symbols.
type debugSplit struct {
	buildID string
	file    string          // the debug file: in scratch, or the copy of the given one
	crc     uint32          // its .gnu_debuglink CRC
	src     string          // the binary split: the input's copy
	dir     string          // where its stripped copies go (scratch)
	ctx     context.Context // the build's: a long write stops on Ctrl-C
	facts   *abi.Facts
	// stripped maps a .gnu_debuglink name to the stripped copy naming it.
	stripped map[string]string
}

// maxDebugFile bounds a debug file the configuration gives: DWARF of a
// large Rust binary is a few hundred MB.
const maxDebugFile = 4 << 30

// splitDebug reads the checked inputs and debug_symbols; it adds each
// input's debug file (written into scratch) and build-id. An input
// without a build-id, or without debug sections and a separate debug
// file, is refused here, before anything is written.
func (j *job) splitDebug() error {
	if !j.cfg.Split() {
		return nil
	}
	for i, in := range j.inputs {
		if err := j.ctx.Err(); err != nil {
			return err
		}
		j.progress("split debug symbols of %s", in.Path)
		if err := j.splitInput(i, in); err != nil {
			return err
		}
	}
	return nil
}

// splitInput splits the debug symbols of input in (the i-th read).
func (j *job) splitInput(i int, in *Input) error {
	cfg := j.cfg
	f, err := debugsym.Open(in.Data)
	if err != nil {
		return &InputError{in.Triple, in.Path, "reading its sections to split its debug symbols: " + in.named(err)}
	}
	defer f.Close()
	given, key, hasFile := cfg.DebugFileFor(in.Src)
	if f.BuildID == "" {
		return j.noBuildID(in)
	}
	if !f.HasDebug && !hasFile {
		return fmt.Errorf("%s: input %s (%s) has no debug sections: build it with -g (Rust: debug = 1 or 2 in the release profile) or give its debug file under debug_symbols.files, or turn debug_symbols.split off",
			cfg.Where("debug_symbols.split"), in.Triple, in.Path)
	}
	d := &debugSplit{buildID: f.BuildID, src: in.Data, facts: in.Facts, stripped: map[string]string{}, ctx: j.ctx,
		dir: filepath.Join(j.scratch, "debug-"+strconv.Itoa(i))}
	if err := os.Mkdir(d.dir, 0o700); err != nil {
		return err
	}
	if hasFile {
		if d.file, err = j.givenDebugFile(in, f.BuildID, given, key); err != nil {
			return err
		}
	} else {
		d.file = filepath.Join(d.dir, "debug")
		write := func(w io.Writer) error { return f.WriteDebug(ctxio.Writer(j.ctx, w)) }
		if err := pack.WriteFileAtomic(d.file, write); err != nil {
			return &InputError{in.Triple, in.Path, "writing its debug file: " + in.named(err)}
		}
	}
	if d.crc, err = fileLinkCRC(j.ctx, d.file); err != nil {
		return &InputError{in.Triple, in.Path, "reading its debug file: " + err.Error()}
	}
	in.BuildID, in.debug = f.BuildID, d
	return nil
}

// noBuildID refuses input in, which has no build-id, or (without_build_id:
// unstripped) warns and leaves it to be packaged as given.
func (j *job) noBuildID(in *Input) error {
	cfg := j.cfg
	if cfg.DebugSymbols.WithoutBuildID == config.WithoutBuildIDUnstripped {
		if j.opts.Warn != nil {
			j.warn([]string{fmt.Sprintf("input %s (%s) has no GNU build-id: it is shipped unstripped, with no debug artifact (debug_symbols.without_build_id: unstripped, %s); link it with -Wl,--build-id to split it",
				in.Triple, in.Path, cfg.Where("debug_symbols.without_build_id"))})
		}
		return nil
	}
	msg := (&debugsym.NoBuildIDError{Path: in.Path}).Error()
	return fmt.Errorf("%s: debug_symbols.split: input %s: %s; to ship it so, set debug_symbols.without_build_id: unstripped",
		cfg.Where("debug_symbols.split"), in.Triple, msg)
}

// givenDebugFile copies the debug file debug_symbols.files gives for in
// (a regular file, bounded) and holds its build-id to the binary's.
func (j *job) givenDebugFile(in *Input, buildID, given, key string) (string, error) {
	cfg := j.cfg
	where := cfg.Where(key)
	src, err := j.snap.take(cfg, where, "debug file of input "+in.Triple, given)
	if err != nil {
		return "", err
	}
	if src.Size > maxDebugFile {
		return "", fmt.Errorf("%s: debug file %s is %d bytes, over the 4 GiB a debug file may be; is it the right file?", where, src.Name, src.Size)
	}
	df, err := debugsym.Open(src.Path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return "", fmt.Errorf("%s: debug file %s of input %s: %v", where, src.Name, in.Triple, err)
	}
	defer df.Close()
	if df.BuildID != buildID {
		got := df.BuildID
		if got == "" {
			got = "none"
		}
		return "", fmt.Errorf("%s: debug file %s has build-id %s, but input %s (%s) has %s: it was not split from this build. Give the debug file made from the same link (objcopy --only-keep-debug of the unstripped binary)",
			where, src.Name, got, in.Triple, in.Path, buildID)
	}
	return src.Path, nil
}

// fileLinkCRC is the .gnu_debuglink CRC of the file at p.
func fileLinkCRC(ctx context.Context, p string) (uint32, error) {
	f, _, err := regular.Open(p)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return debugsym.LinkCRC(ctxio.Reader(ctx, io.LimitReader(f, maxDebugFile+1)))
}

// binary is the stripped copy of the input whose .gnu_debuglink names
// link, written the first time it is asked for. It is read back: the
// build-id, the debug link and the ABI facts the floor was verified on
// must be the input's, and no debug section may be left.
func (d *debugSplit) binary(link string) (string, error) {
	if p, ok := d.stripped[link]; ok {
		return p, nil
	}
	f, err := debugsym.Open(d.src)
	if err != nil {
		return "", err
	}
	defer f.Close()
	p := filepath.Join(d.dir, "stripped-"+strconv.Itoa(len(d.stripped)))
	write := func(w io.Writer) error { return f.WriteStripped(ctxio.Writer(d.ctx, w), link, d.crc) }
	if err := pack.WriteFileAtomic(p, write); err != nil {
		return "", err
	}
	s, err := debugsym.Open(p)
	if err != nil {
		return "", fmt.Errorf("reading back the stripped copy: %w", err)
	}
	defer s.Close()
	if s.BuildID != d.buildID || s.DebugLink != link || s.HasDebug {
		return "", fmt.Errorf("the stripped copy reads back with build-id %q, debug link %q, debug sections %v (want %s, %s, none); this is a bug in relpack, please report it",
			s.BuildID, s.DebugLink, s.HasDebug, d.buildID, link)
	}
	sf, err := abi.Inspect(p)
	if err != nil {
		return "", fmt.Errorf("reading back the stripped copy: %w", err)
	}
	if !slices.Equal(sf.Needed, d.facts.Needed) || !sameHighest(sf, d.facts) || sf.Interpreter != d.facts.Interpreter {
		return "", errors.New("the stripped copy's dynamic section or version needs differ from the input's; this is a bug in relpack, please report it")
	}
	d.stripped[link] = p
	return p, nil
}

// sameHighest reports whether two files need the same highest version of
// every versioned library (the floor's facts).
func sameHighest(a, b *abi.Facts) bool {
	if len(a.Highest) != len(b.Highest) {
		return false
	}
	for k, v := range a.Highest {
		if b.Highest[k] != v {
			return false
		}
	}
	return true
}

// packaged is the binary to package of in, its .gnu_debuglink naming
// link: the stripped copy when its debug symbols are split, else the
// input's copy.
func (in *Input) packaged(link string) (string, error) {
	if in.debug == nil {
		return in.Data, nil
	}
	p, err := in.debug.binary(link)
	if err != nil {
		return "", &InputError{in.Triple, in.Path, "stripping its debug symbols: " + in.named(err)}
	}
	return p, nil
}

// named is err's message with the build's copy of in (a path inside the
// staging folder, gone when the message is read) named as the user gave
// it, and the scratch folder's files by their base name.
func (in *Input) named(err error) string {
	msg := strings.ReplaceAll(err.Error(), in.Data, in.Path)
	if in.debug != nil {
		msg = strings.ReplaceAll(msg, in.debug.dir+string(filepath.Separator), "")
	}
	return msg
}

// treeLink is the .gnu_debuglink name of a binary whose debug file is
// found in a build-id tree: the tree path's base, "rest.debug" (a
// tarball's; a deb's is pack.DebugLink's, the same).
// "" when there is no build-id (nothing is split).
func treeLink(buildID string) string {
	if buildID == "" {
		return ""
	}
	return path.Base(debugsym.BuildIDPath(buildID))
}

// debugTarballName is the debug tarball beside NAME-TRIPLE.tar.gz.
func debugTarballName(cfg *config.Config, triple string) string {
	return fmt.Sprintf("%s-%s-debug.tar.gz", cfg.Name, triple)
}

// planDebugTarball plans the debug tarball of in's tarball main: the
// build-id tree of its debug file. (planTarball names it in main's entry,
// whether or not a partial build writes it.)
func planDebugTarball(cfg *config.Config, in *Input, main *manifest.Artifact, mtime time.Time) *artifact {
	d := in.debug
	name := debugTarballName(cfg, in.Triple)
	rel := debugsym.BuildIDPath(d.buildID)
	entries := []pack.TarEntry{{Name: rel, Src: d.file, Mode: 0o644}}
	e := manifest.Artifact{
		File: name, Kind: manifest.KindDebugTarball, Triple: in.Triple, Arch: in.Machine, Libc: in.Libc,
		BuildID: d.buildID, DebugFor: main.File, DebugFile: rel,
	}
	return &artifact{entry: e, write: func(dir string) (string, error) {
		return name, pack.WriteTarGz(filepath.Join(dir, name), entries, mtime)
	}, bom: &bomPlan{in: in, files: []bomFile{{path: rel, src: d.file}}}}
}

// debugPackageOf is what the debug package of in's packages is made
// from; its zero value when in's debug symbols are not split.
func debugPackageOf(cfg *config.Config, in *Input) pack.DebugPackage {
	if in.debug == nil {
		return pack.DebugPackage{}
	}
	return pack.DebugPackage{BuildID: in.BuildID, DebugFile: in.debug.file, Binary: cfg.Binary}
}

// debugLinkOf is the .gnu_debuglink name of the binary of main's package;
// "" when in's debug symbols are not split.
func debugLinkOf(main pack.PackageSpec, dp pack.DebugPackage, in *Input) string {
	if in.debug == nil {
		return ""
	}
	return pack.DebugLink(main, dp)
}

// debugKinds are the debug artifact kind of each main kind.
var debugKinds = map[string]string{
	kindTarball: manifest.KindDebugTarball,
	"deb":       manifest.KindDdeb,
	"rpm":       manifest.KindDebuginfo,
}

// planDebugPackage plans the debug package of the package main (spec)
// of in for target d, and names it in main's entry.
func planDebugPackage(cfg *config.Config, in *Input, d distro.Distro, spec pack.PackageSpec, dp pack.DebugPackage, main *manifest.Artifact) (*artifact, error) {
	dspec, err := pack.DebugSpec(spec, dp)
	if err != nil {
		return nil, fmt.Errorf("target %s (%s:%d): the debug package: %w", d.ID, cfg.File, cfg.LineOfTarget(d.ID), err)
	}
	name, err := pack.PackageFileName(dspec)
	if err != nil {
		return nil, fmt.Errorf("target %s (%s:%d): the debug package: %w", d.ID, cfg.File, cfg.LineOfTarget(d.ID), err)
	}
	main.BuildID, main.Debug = in.BuildID, name
	e := manifest.Artifact{
		File: name, Kind: debugKinds[d.Format], Triple: in.Triple, Arch: in.Machine, Libc: in.Libc, Distro: d.ID,
		PackageVersion: main.PackageVersion, Relations: dspec.Depends,
		BuildID: in.BuildID, DebugFor: main.File, DebugFile: "/usr/lib/debug/" + debugsym.BuildIDPath(in.BuildID),
	}
	// The SBOM lists its regular files (the debug file); its links have
	// no content of their own.
	var files []pack.PackageFile
	for _, f := range dspec.Files {
		if f.Src != "" || f.Data != nil {
			files = append(files, f)
		}
	}
	bom := packageBOM(in, files, "", nil, "")
	bom.name = dspec.Name
	return &artifact{entry: e, write: writePackage(dspec, name), bom: bom}, nil
}

// debugPackageName is the file name of the debug package of target d's
// package of in, read from the version and the configuration as
// packageName is.
func debugPackageName(cfg *config.Config, d distro.Distro, in *Input, ver version.Version, release string) (string, error) {
	dspec, err := pack.DebugSpec(nameSpec(cfg, d, in.Machine, ver, release), debugPackageOf(cfg, in))
	if err == nil {
		var name string
		if name, err = pack.PackageFileName(dspec); err == nil {
			return name, nil
		}
	}
	return "", fmt.Errorf("target %s (%s:%d): the debug package: %w", d.ID, cfg.File, cfg.LineOfTarget(d.ID), err)
}

// checkDebugFiles makes sure the debug file debug_symbols.files gives for
// each input of inputs exists and is a regular file, by stat alone, as
// checkSources does for the other sources.
func checkDebugFiles(cfg *config.Config, inputs map[string]string) error {
	for _, t := range slices.Sorted(maps.Keys(inputs)) {
		p, key, ok := cfg.DebugFileFor(inputs[t])
		if !ok {
			continue
		}
		if _, err := regular.Check(p); err != nil {
			var nr *regular.NotRegularError
			switch {
			case errors.As(err, &nr):
				return fmt.Errorf("%s: the debug file %s of input %s is %s, not a regular file; give the debug file itself", cfg.Where(key), cfg.Given(p), t, regular.Kind(nr.Mode))
			case os.IsNotExist(err):
				return fmt.Errorf("%s: the debug file %s of input %s does not exist (fix the path in debug_symbols.files)", cfg.Where(key), cfg.Given(p), t)
			}
			return fmt.Errorf("%s: the debug file %s of input %s: %w", cfg.Where(key), cfg.Given(p), t, err)
		}
	}
	return nil
}
