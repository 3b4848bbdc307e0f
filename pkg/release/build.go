package release

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"relpack/internal/pipeline"
	"relpack/internal/regular"
	"relpack/pkg/config"
	"relpack/pkg/manifest"
	"relpack/pkg/pack"
	"relpack/pkg/sign"
	"relpack/pkg/version"
)

// DefaultEpoch is the time stamped on every archive entry and package when
// SOURCE_DATE_EPOCH is not set: 2020-01-01T00:00:00Z. A fixed default keeps
// builds byte-identical without any setting; release jobs should export
// SOURCE_DATE_EPOCH (e.g. the tag's commit time).
const DefaultEpoch int64 = 1577836800

// Options are the inputs of one build.
type Options struct {
	Config  *config.Config
	Version string
	// Bins overrides the config's inputs (triple -> path).
	Bins map[string]string
	// OutDir receives the artifacts; created when missing.
	OutDir string
	// Epoch is SOURCE_DATE_EPOCH.
	Epoch int64
	// Progress receives one line per step; nil is quiet.
	Progress io.Writer
	// Release is the package release number (default "1").
	Release string
	// Context stops the build between artifacts (Ctrl-C); the staging
	// folder is removed and no final name is ever written. Nil: never.
	Context context.Context
	// Clean allows replacing an earlier build's artifacts in OutDir; its
	// files that this build does not write again are removed at the end.
	// Without it, a folder holding artifacts is refused.
	Clean bool
	// Warn receives warnings (setuid or world-writable modes, targets past
	// their support); nil: none.
	Warn io.Writer
	// Now is the time a target's support is measured against (nil:
	// time.Now); it shapes warnings only, never an artifact.
	Now func() time.Time
	// Sign signs every package and SHA256SUMS with the configuration's
	// signing key (packaging.yaml signing:); without it nothing is signed.
	Sign bool
	// Only selects the artifacts of a partial release (split.go): triples,
	// arches, distro target ids or kinds. Empty: the whole release.
	Only []string
	// Timings receives each stage's wall time as it ends, one line each
	// (relpack build --timings); nil: none.
	Timings io.Writer
	// Tool is the relpack that runs the build (pkg/buildinfo.Read): the
	// manifest's tool record, the provenance statement's builder version,
	// the SBOMs' creator, and part of config_digest. The zero Tool (a
	// library caller, a test) records no tool and a version-less creator.
	Tool manifest.Tool
}

// MaxEpoch is the latest SOURCE_DATE_EPOCH every format can record
// (manifest.MaxEpoch: the one range build, merge, repo and docs apply).
const MaxEpoch = manifest.MaxEpoch

// EpochFromEnv reads SOURCE_DATE_EPOCH, or returns DefaultEpoch.
func EpochFromEnv() (int64, error) {
	s := os.Getenv("SOURCE_DATE_EPOCH")
	if s == "" {
		return DefaultEpoch, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || manifest.CheckEpoch(n) != nil {
		return 0, fmt.Errorf("SOURCE_DATE_EPOCH=%q is not a number of seconds between 0 (1970) and %d (2106-02-07, the last second rpm and gzip headers can hold); export the release commit's time, e.g. SOURCE_DATE_EPOCH=$(git log -1 --format=%%ct)", s, MaxEpoch)
	}
	return n, nil
}

// writeAll writes every planned artifact into dir, GOMAXPROCS at a time,
// filling in each entry's name, size and sha256. The first error wins and
// stops the rest from starting. When ctx is cancelled it returns at once,
// without waiting for writers already running: they write only inside the
// staging folder, which the caller removes, and the CLI exits.
func writeAll(ctx context.Context, plan []*artifact, dir string, progress func(string, ...any)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		firstErr error
		done     int
		wg       sync.WaitGroup
		slots    = make(chan struct{}, runtime.GOMAXPROCS(0))
	)
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
			cancel()
		}
		mu.Unlock()
	}
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for _, a := range plan {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
			}
			if ctx.Err() != nil {
				break
			}
			wg.Add(1)
			go func(a *artifact) {
				defer func() { <-slots; wg.Done() }()
				name, err := a.write(dir)
				if err != nil {
					fail(fmt.Errorf("writing %s: %w", a.entry.File, err))
					return
				}
				sum, size, err := pack.SHA256File(filepath.Join(dir, name))
				if err != nil {
					fail(err)
					return
				}
				mu.Lock()
				a.entry.File, a.entry.SHA256, a.entry.Size = name, sum, size
				done++
				progress("[%d/%d] %s", done, len(plan), name)
				mu.Unlock()
			}(a)
		}
		wg.Wait()
	}()
	select {
	case <-finished:
	case <-ctx.Done():
	}
	mu.Lock()
	defer mu.Unlock()
	if firstErr != nil {
		return firstErr
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return nil
}

// artifact is one planned output and how to write it into a directory.
type artifact struct {
	entry manifest.Artifact
	write func(dir string) (string, error) // returns the file name written
	bom   *bomPlan                         // what its SBOM says (sbom.go)
}

// afterSnapshot, when set by a test, runs once every source is copied: it
// replaces an input on disk to prove the artifacts hold the copy.
var afterSnapshot func()

// ErrInterrupted is returned (wrapped) when the build's context is
// cancelled: Ctrl-C or SIGTERM.
var ErrInterrupted = errors.New("build interrupted")

// buildStages is `relpack build`, in order. Everything before "take the
// output folder" only reads: a bad option or a missing file never creates
// --out. Everything from there to "publish" writes only inside the staging
// folder; "publish" is the one step that changes what --out holds.
var buildStages = []pipeline.Stage[*job]{
	{Name: "check the options", Run: (*job).checkOptions},              // epoch, release suffixes, version, floor policies
	{Name: "unlock the signing key", Run: (*job).unlockKey},            // --sign: a wrong passphrase fails before any work
	{Name: "select the inputs", Run: (*job).selectInputs},              // --bin triples, --only
	{Name: "check the sources exist", Run: (*job).statSources},         // by stat, before --out is touched
	{Name: "take the output folder", Run: (*job).takeOutput},           // lock, recover killed builds, staging folder
	{Name: "snapshot and verify inputs", Run: (*job).snapshotInputs},   // copy, inspect, floor check, config digest
	{Name: "split debug symbols", Run: (*job).splitDebug},              // debug_symbols.split: each input's debug file, once, into scratch
	{Name: "start the manifest", Run: (*job).startManifest},            // product, versions, inputs; warnings
	{Name: "plan tarballs", Run: (*job).planTarballs},                  // a tarball per input, a sidecar where needed
	{Name: "plan packages per target", Run: (*job).planPackages},       // dependencies, private libraries, package names
	{Name: "name every artifact", Run: (*job).nameArtifacts},           // the whole release's names, clashes, lengths
	{Name: "write payloads and artifacts", Run: (*job).writeArtifacts}, // on every core, into the staging folder
	{Name: "write SBOMs", Run: (*job).writeSBOMs},                      // each artifact's, in packaging.yaml's formats, beside it
	{Name: "write the provenance", Run: (*job).writeProvenance},        // the release's in-toto statement: subjects, inputs, config
	{Name: "sums, manifest and signatures", Run: (*job).writeSums},     // manifest.json, SHA256SUMS, SHA256SUMS.asc, KEY.asc
	{Name: "publish", Run: (*job).publish},                             // journaled swap; the earlier release's files out
}

// Stages names the stages of `relpack build`, in the order Run runs them.
func Stages() []string { return pipeline.Names(buildStages) }

// job is one build. Each stage reads the fields the stages before it
// added and adds its own, grouped below by the stage that adds them.
type job struct {
	opts Options // Release defaulted to version.DefaultRelease
	cfg  *config.Config
	ctx  context.Context // never nil

	// added by "check the options"
	ver     version.Version
	policy  policySet
	mtime   time.Time // SOURCE_DATE_EPOCH: every archive entry, package and signature
	builder string    // the provenance's builder id (provenance: builder_id_env), "" when none

	// added by "unlock the signing key"
	signing *sign.Key // nil: unsigned

	// added by "select the inputs"
	paths    map[string]string // triple -> binary: the configuration's inputs, --bin applied
	sel      *selection        // nil: the whole release
	selPaths map[string]string // the release inputs (tarballs) the selection builds

	// added by "take the output folder"
	out         *outDir
	stage       string             // the staging folder inside OutDir
	scratch     string             // every scratch file of the build, inside stage
	oldManifest *manifest.Manifest // the earlier build's, when --clean replaces it

	// added by "snapshot and verify inputs"
	snap      *snapshot
	checked   map[[2]string]*Input // by triple and path: every distinct binary read once
	inputs    []*Input             // every input read, in manifest order
	release   []*Input             // the inputs of the release's tarballs
	pkgInputs []pkgInput           // the input of each selected package
	pcfg      *config.Config       // the configuration, its files read from their copies
	digest    string               // config_digest

	// added by "start the manifest"; filled in by the stages after it
	m *manifest.Manifest

	// added by "plan tarballs" and "plan packages per target"
	plan []*artifact

	// added by "name every artifact"
	names map[string]bool // the files of plan and their SBOMs

	// added by "sums, manifest and signatures"
	written []string // every file of the staging folder, in publishing order (SHA256SUMS last)
}

// pkgInput is one package to plan: a distro target and the binary it
// packages for one architecture.
type pkgInput struct {
	target config.Target
	in     *Input
}

// Run checks every input, plans every artifact, writes them into a staging
// directory inside OutDir, and publishes them only when all of them (and
// manifest.json and SHA256SUMS) are complete. On any error, OutDir holds
// exactly what it held before. The stages are buildStages; what must run
// on every error (the lock, the staging folder) is deferred in runStages.
func Run(opts Options) (*manifest.Manifest, error) {
	return runStages(opts, buildStages)
}

// runStages is Run over stages (a test wraps each stage to look at OutDir
// between them).
func runStages(opts Options, stages []pipeline.Stage[*job]) (m *manifest.Manifest, err error) {
	j := &job{opts: opts, cfg: opts.Config, ctx: opts.Context}
	if j.ctx == nil {
		j.ctx = context.Background()
	}
	defer func() {
		if err != nil && j.ctx.Err() != nil && !errors.Is(err, ErrInterrupted) {
			err = fmt.Errorf("%w; %s holds what it held before: %v", ErrInterrupted, opts.OutDir, err)
		}
	}()
	// The build's heap is mostly large, short-lived, pointer-free buffers
	// (chunks of payload, encoder tables): cheap to collect, and at the
	// default GOGC of 100 the heap grows to twice what is live before a
	// collection. 25 keeps the peak near the live set (the 60 MB-per-input
	// matrix of docs/benchmarks.md: peak RSS 104-117 MB at 25, 111-134 MB at
	// 100, over three or more runs each; the CPU time did not change
	// measurably). A GOGC the user set is theirs.
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(buildGCPercent))
	}
	defer func() {
		if j.stage != "" {
			removeStage(j.stage)
		}
		if j.out != nil {
			j.out.release(err != nil)
		}
	}()
	// No context here: the stages look at it where a build can stop
	// (the passphrase, the copies, the writers, before publishing), and
	// nowhere else, so an interrupted build says what it always said.
	var took func(string, time.Duration)
	if opts.Timings != nil {
		took = func(name string, d time.Duration) {
			fmt.Fprintf(opts.Timings, "stage %-30s %8.3fs\n", name, d.Seconds())
		}
	}
	if err := pipeline.RunTimed(nil, j, stages, took); err != nil {
		return nil, err
	}
	return j.m, nil
}

// progress prints one line of progress, when asked for.
func (j *job) progress(format string, args ...any) {
	if j.opts.Progress != nil {
		fmt.Fprintf(j.opts.Progress, format+"\n", args...)
	}
}

// warn prints warnings; callers ask only when Options.Warn is set.
func (j *job) warn(warnings []string) {
	for _, w := range warnings {
		fmt.Fprintln(j.opts.Warn, "warning:", w)
	}
}

// checkOptions reads the options and the targets' release suffixes; it
// adds the version, the floor policies and the time stamped on
// everything.
func (j *job) checkOptions() error {
	cfg := j.cfg
	if j.opts.Release == "" {
		j.opts.Release = version.DefaultRelease
	}
	if err := manifest.CheckEpoch(j.opts.Epoch); err != nil {
		return fmt.Errorf("SOURCE_DATE_EPOCH %w", err)
	}
	if t := j.opts.Tool; t != (manifest.Tool{}) {
		if err := t.Check(); err != nil {
			return fmt.Errorf("this relpack's own identity (relpack version --json) cannot be recorded: %w; build relpack again with a plain -X main.version (such as v1.2.3) and a hex -X main.commit", err)
		}
	}
	suffixes := map[string]string{}
	for _, t := range cfg.Targets {
		if err := version.CheckRelease(j.opts.Release + t.ReleaseSuffix); err != nil {
			return fmt.Errorf("target %s (%s:%d): release_suffix: %w", t.ID, cfg.File, cfg.LineOfTarget(t.ID), err)
		}
		// Same format and suffix would give two packages one file name.
		key := t.Format + " " + t.ReleaseSuffix
		if other, ok := suffixes[key]; ok {
			return fmt.Errorf("targets %s and %s (%s:%d) would write %s packages with the same file names; give them distinct release_suffix values",
				other, t.ID, cfg.File, cfg.LineOfTarget(t.ID), t.Format)
		}
		suffixes[key] = t.ID
	}
	var err error
	if j.ver, err = version.Parse(j.opts.Version); err != nil {
		return fmt.Errorf("--version: %w", err)
	}
	if j.policy, err = floorPolicies(cfg); err != nil {
		return err
	}
	j.mtime = time.Unix(j.opts.Epoch, 0).UTC()
	j.builder, err = j.builderID()
	return err
}

// unlockKey reads --sign and the signing section; it adds the unlocked
// key. It runs before any work, so a missing or wrong passphrase fails in
// a second, not after the build.
func (j *job) unlockKey() error {
	if !j.opts.Sign {
		return nil
	}
	if j.cfg.Signing == nil {
		return fmt.Errorf("--sign: %s has no signing section; add `signing: {key_file: PATH}` or `signing: {key_env: VARIABLE}` (docs/signing.md)", j.cfg.File)
	}
	var err error
	j.signing, err = SigningKeyContext(j.ctx, j.cfg)
	return err
}

// selectInputs reads the configuration's inputs, --bin and --only; it
// adds the release's inputs, the selection and the inputs it builds
// tarballs of. A partial build (--only) reads only the inputs and
// per-arch files its selected artifacts are made from (split.go).
func (j *job) selectInputs() error {
	j.paths = map[string]string{}
	for t, p := range j.cfg.Inputs {
		j.paths[t] = p
	}
	for t, p := range j.opts.Bins {
		if !config.TripleRE.MatchString(t) {
			return fmt.Errorf("--bin %s=%s: unknown target triple; use x86_64 or aarch64 with -unknown-linux-gnu or -unknown-linux-musl", t, p)
		}
		j.paths[t] = p
	}
	var err error
	if j.sel, err = newSelection(j.cfg, j.paths, j.opts.Only); err != nil {
		return err
	}
	j.selPaths = map[string]string{}
	for t, p := range j.paths {
		if main, debug := j.sel.wants(unit{kindTarball, t, strings.Split(t, "-")[0], ""}); main || debug && j.cfg.Split() {
			j.selPaths[t] = p
		}
	}
	return nil
}

// statSources reads the selection; it adds nothing. Sources are checked
// by stat before the output folder is touched, so a typo in a path never
// creates --out.
func (j *job) statSources() error {
	if err := checkSources(j.sel.forArches(j.cfg, j.paths), j.selPaths); err != nil {
		return err
	}
	return checkDebugFiles(j.cfg, j.selPaths)
}

// takeOutput reads OutDir and --clean; it adds the locked folder, the
// staging and scratch folders and the earlier build's manifest. One build
// at a time, and what killed builds left is cleaned up (or rolled back)
// first. Run releases the lock and removes the staging folder.
func (j *job) takeOutput() error {
	dir := j.opts.OutDir
	out, err := lockOut(dir)
	if err != nil {
		return err
	}
	j.out = out
	if err := out.recoverStale(j.opts.Warn); err != nil {
		return err
	}
	earlier, oldManifest := earlierBuild(dir)
	if len(earlier) > 0 && !j.opts.Clean {
		shown := earlier
		if len(shown) > 3 {
			shown = append(shown[:3:3], fmt.Sprintf("and %d more", len(earlier)-3))
		}
		return fmt.Errorf("output directory %s holds artifacts of an earlier build (%s); pass --clean to replace them, or choose another --out",
			dir, strings.Join(shown, ", "))
	}
	j.oldManifest = oldManifest
	stage, err := os.MkdirTemp(dir, stagingPattern)
	if err != nil {
		return fmt.Errorf("output directory %s is not writable: %w (choose another --out, or fix its permissions)", dir, err)
	}
	j.stage = stage
	// Every scratch file of the build (source copies, RUNPATH-edited
	// binaries, nfpm's inline contents) lives in the staging folder, so a
	// killed build leaves nothing anywhere else.
	j.scratch = filepath.Join(stage, ".scratch")
	return os.Mkdir(j.scratch, 0o700)
}

// snapshotInputs reads the selection and the staging folder; it adds the
// copies of every source, every input inspected and verified (the
// release's and each package's), the configuration read from the copies
// and its digest. Packages may use per-target builds (targets[].inputs);
// every distinct binary is read once. Nothing is written yet but copies.
func (j *job) snapshotInputs() error {
	var err error
	if j.snap, err = newSnapshot(j.ctx, filepath.Join(j.stage, ".sources")); err != nil {
		return err
	}
	j.checked = map[[2]string]*Input{}
	for _, t := range slices.Sorted(maps.Keys(j.selPaths)) {
		in, err := j.check(t, j.paths[t])
		if err != nil {
			return err
		}
		j.release = append(j.release, in)
	}
	if err := j.checkPackageInputs(); err != nil {
		return err
	}
	// From here on the configuration's files are read from their copies.
	if j.pcfg, err = j.snap.takeSources(j.sel.forArches(j.cfg, j.paths)); err != nil {
		return err
	}
	j.digest, err = configDigest(j.cfg, j.paths, j.opts.Tool, func(p string) string {
		if src := j.snap.copies[p]; src != nil {
			return src.SHA256
		}
		return ""
	})
	if err != nil {
		return err
	}
	if afterSnapshot != nil {
		afterSnapshot()
	}
	return nil
}

// checkPackageInputs checks the binary of every selected package: each
// target's own glibc build for an arch, else the release's, else the
// release's musl build of that arch when it is fully static (packageSource).
// A dynamically linked musl build is never packaged: it needs musl's
// loader, which a glibc distro lacks (notBuilt warns about it).
func (j *job) checkPackageInputs() error {
	for _, t := range j.cfg.Targets {
		for _, arch := range t.Arches {
			triple, path, musl := packageSource(t, j.paths, arch)
			if path == "" {
				continue // no glibc or musl build for this arch in this release
			}
			if main, debug := j.sel.wants(unit{t.Format, triple, arch, t.ID}); !main && !(debug && j.cfg.Split()) {
				continue // another partial build's
			}
			in, err := j.check(triple, path)
			if err != nil {
				return fmt.Errorf("target %s: %w", t.ID, err)
			}
			if musl && !isStatic(in) {
				if j.sel != nil && j.opts.Warn != nil { // a full build's notBuilt says it
					j.warn([]string{dynamicMusl(j.cfg, t.ID, in)})
				}
				continue
			}
			j.pkgInputs = append(j.pkgInputs, pkgInput{t, in})
		}
	}
	return nil
}

// check copies, inspects and verifies the input at path for triple, once.
func (j *job) check(triple, path string) (*Input, error) {
	if in, ok := j.checked[[2]string{triple, path}]; ok {
		return in, nil
	}
	j.progress("inspect %s", path)
	src, err := takeInput(j.cfg, j.snap, triple, path)
	if err != nil {
		return nil, err
	}
	in, err := checkInput(j.cfg, triple, src, j.policy)
	if err != nil {
		return nil, err
	}
	in.Src = path // absolute when the configuration names it: debug_symbols.files' key
	if abs, err := filepath.Abs(path); err == nil {
		in.Src = abs // a relative --bin PATH
	}
	j.checked[[2]string{triple, path}] = in
	j.inputs = append(j.inputs, in)
	return in, nil
}

// startManifest reads the options, the key and the verified inputs; it
// adds the manifest without its artifacts, and prints the warnings about
// the configuration (modes, support, what the release leaves out).
func (j *job) startManifest() error {
	cfg, opts, ver := j.cfg, j.opts, j.ver
	m := &manifest.Manifest{
		Schema: manifest.SchemaVersion, Product: cfg.Name, Summary: cfg.Summary,
		Version: ver.String(), DebVersion: ver.Deb(opts.Release), Homepage: cfg.Homepage, License: cfg.License,
		SourceDateEpoch: opts.Epoch, ConfigDigest: j.digest,
		Floor: j.policy.manifest(j.inputs),
	}
	if opts.Tool != (manifest.Tool{}) {
		t := opts.Tool
		m.Tool = &t
	}
	if s := j.signing; s != nil {
		m.Signing = &manifest.Signing{Fingerprint: s.Fingerprint, KeyID: s.KeyID, UserID: s.UserID,
			Signature: "SHA256SUMS.asc", PublicKey: "KEY.asc"}
	}
	m.RPMVersion = ver.NFPM("rpm", opts.Release).Full("rpm")
	if sv := cfg.Systemd; sv != nil && len(cfg.Targets) > 0 {
		m.Service = &manifest.Service{Unit: sv.Unit, Scope: sv.Scope, Enable: sv.Enabled(), RestartOnUpgrade: sv.RestartsOnUpgrade()}
	}
	for _, in := range j.inputs {
		m.Inputs = append(m.Inputs, manifest.Input{
			Triple: in.Triple, File: filepath.Base(in.Path), SHA256: in.SHA256, Machine: in.Facts.Machine,
			Libc: in.Facts.Libc, Linkage: in.Facts.Linkage, Needed: in.Facts.Needed, Highest: in.Facts.Highest,
			Z3: in.Z3, Z3So: in.Z3So, BuildID: in.BuildID,
		})
	}
	m.Inputs = sortInputs(m.Inputs)
	j.m = m
	if opts.Warn != nil {
		warnings := modeWarnings(cfg)
		now := time.Now
		if opts.Now != nil {
			now = opts.Now
		}
		warnings = append(warnings, supportWarnings(cfg, now())...)
		if j.sel == nil { // a partial build does not see the whole release
			warnings = append(warnings, notBuilt(cfg, j.paths, j.release)...)
		}
		j.warn(warnings)
	}
	return nil
}

// planTarballs reads the release's inputs; it adds a tarball to the plan
// for each, and a sidecar tarball for a gnu input that needs libraries
// beyond glibc. A refusal happens here, before anything is written.
func (j *job) planTarballs() error {
	for _, in := range j.release {
		a, err := planTarball(j.pcfg, in, j.policy, j.mtime)
		if err != nil {
			return err
		}
		main, debug := j.sel.wants(unit{kindTarball, in.Triple, in.Machine, ""})
		if in.debug != nil && debug {
			j.plan = append(j.plan, planDebugTarball(j.pcfg, in, &a.entry, j.mtime))
		}
		if !main {
			continue // a partial build of the debug tarball alone
		}
		j.plan = append(j.plan, &a)
		if j.pcfg.Tarball.Sidecar != nil && in.IsGNU() && len(bundledNeeds(in)) > 0 {
			sa, err := planSidecar(j.pcfg, in, j.policy, j.mtime, j.scratch, j.snap)
			if err != nil {
				return err
			}
			if in.debug != nil {
				sa.entry.BuildID, sa.entry.Debug = in.BuildID, debugTarballName(j.pcfg, in.Triple)
			}
			j.plan = append(j.plan, sa)
		}
	}
	return nil
}

// planPackages reads the package inputs, the key and the copies; it adds
// the manifest's distros and a package per target and arch to the plan.
// Dependency resolution and private libraries fail here, still before
// anything is written; unused private libraries are warned about.
func (j *job) planPackages() error {
	for _, t := range j.cfg.Targets {
		j.m.Distros = append(j.m.Distros, manifest.Distro{ID: t.ID, Name: t.Name, Format: t.Format, Glibc: t.Glibc, Support: supportOf(t.Distro)})
	}
	pv := newPrivatePlanner(j.cfg, j.snap, j.scratch, j.policy)
	// The debs of the build share their data members: identical payloads
	// (debian11 and debian12, the Ubuntu releases) are compressed once.
	payloads := pack.NewPayloadCache(filepath.Join(j.scratch, "payloads"))
	for _, pi := range j.pkgInputs {
		a, debug, err := planPackage(j.pcfg, pi.in, pi.target.Distro, j.ver, j.opts.Release, j.policy, j.mtime, j.signing, j.scratch, pv, payloads)
		if err != nil {
			return err
		}
		main, wantDebug := j.sel.wants(unit{pi.target.Format, pi.in.Triple, pi.in.Machine, pi.target.ID})
		if main {
			j.plan = append(j.plan, &a)
		}
		if debug != nil && wantDebug {
			j.plan = append(j.plan, debug)
		}
	}
	if j.opts.Warn != nil {
		j.warn(pv.unused())
	}
	if j.sel != nil && len(j.plan) == 0 {
		return fmt.Errorf("--only %s selects no artifact this release builds: it selects only packages of a dynamically linked musl input, which a glibc distro cannot run (only a fully static musl build is packaged); select its tarball, or give a -gnu input for those packages",
			strings.Join(j.sel.given, " --only "))
	}
	return nil
}

// nameArtifacts reads the plan; it adds the names of its files, and for a
// partial build the names of the whole release. Every artifact of the
// release is named, built here or not: a partial build refuses what the
// full one would, and records them all.
func (j *job) nameArtifacts() error {
	planned, err := plannedNames(j.cfg, j.paths, j.checked, j.ver, j.opts.Version, j.opts.Release, j.plan)
	if err != nil {
		return err
	}
	if j.sel != nil {
		j.m.Partial, j.m.Selectors, j.m.Planned = true, j.sel.given, planned
	}
	j.names = map[string]bool{}
	for _, a := range j.plan {
		if j.names[a.entry.File] {
			return fmt.Errorf("two artifacts would be named %s; give the distro targets distinct release_suffix values", a.entry.File)
		}
		j.names[a.entry.File] = true
		if err := checkFileName(a.entry.File, j.opts.Version); err != nil {
			return err
		}
		// Its SBOMs are files of the release too (write SBOMs), named after it.
		for _, f := range j.cfg.SBOM.Formats {
			j.names[sbomName(a.entry.File, f)] = true
			if err := checkFileName(sbomName(a.entry.File, f), j.opts.Version); err != nil {
				return err
			}
		}
	}
	return nil
}

// writeArtifacts reads the plan; it writes every artifact into the
// staging folder and fills in its name, size and sha256. Artifacts are
// independent: they are written on every core (compression, xz above
// all, is nearly all of a build's time).
func (j *job) writeArtifacts() error {
	return writeAll(j.ctx, j.plan, j.stage, j.progress)
}

// writeSums reads the written plan with its SBOMs, the provenance and the
// key; it adds the manifest's artifacts, signs the provenance (signed:
// provenance.intoto.json.asc), writes manifest.json, SHA256SUMS and
// (signed) SHA256SUMS.asc and KEY.asc into the staging folder, and adds
// the list of files to publish.
func (j *job) writeSums() error {
	m := j.m
	for _, a := range j.plan {
		m.Artifacts = append(m.Artifacts, a.entry)
	}
	sort.Slice(m.Artifacts, func(i, k int) bool { return m.Artifacts[i].File < m.Artifacts[k].File })
	names := ReleaseFileNames(m)
	if j.signing != nil && m.Provenance != nil {
		if err := SignProvenance(j.stage, j.signing, j.mtime); err != nil {
			return err
		}
		m.Provenance.Signature = m.Provenance.File + ".asc"
		names = append(names, m.Provenance.Signature)
	}
	mj, err := m.Marshal()
	if err != nil {
		return err
	}
	if err := pack.WriteFileAtomic(filepath.Join(j.stage, "manifest.json"), func(w io.Writer) error { _, err := w.Write(mj); return err }); err != nil {
		return err
	}
	var stagedPaths []string
	for _, n := range append(names, "manifest.json") {
		stagedPaths = append(stagedPaths, filepath.Join(j.stage, n))
	}
	if err := pack.WriteSHA256SUMS(filepath.Join(j.stage, "SHA256SUMS"), stagedPaths); err != nil {
		return err
	}
	final := []string{"manifest.json", "SHA256SUMS"}
	if j.signing != nil {
		if err := signSums(j.stage, j.signing, j.mtime); err != nil {
			return err
		}
		// SHA256SUMS stays last: when it appears, its signature and the
		// key are already there.
		final = []string{"manifest.json", "KEY.asc", "SHA256SUMS.asc", "SHA256SUMS"}
	}
	j.written = append(names, final...)
	return nil
}

// ReleaseFileNames are the files of release m SHA256SUMS lists besides
// manifest.json and the provenance's signature: each artifact and its
// SBOMs, then the provenance statement.
func ReleaseFileNames(m *manifest.Manifest) []string {
	var names []string
	for _, a := range m.Artifacts {
		names = append(names, a.File)
		for _, s := range a.SBOMs {
			names = append(names, s.File)
		}
	}
	if m.Provenance != nil {
		names = append(names, m.Provenance.File)
	}
	return names
}

// publish reads the staged files and the earlier build; it swaps the
// release into OutDir, unless the build was interrupted. The earlier
// release's files go: those written again are replaced, its manifest,
// sums and signature always (an unsigned rebuild must not leave a
// signature of other sums), and with --clean its other artifacts, when
// they are provably its own (staleFiles).
func (j *job) publish() error {
	if err := j.ctx.Err(); err != nil {
		return err
	}
	var displace []string
	if j.opts.Clean {
		displace = append(staleFiles(j.opts.OutDir, j.oldManifest, j.names, j.opts.Warn), releaseFiles...)
	}
	if err := publish(j.opts.OutDir, j.stage, j.written, displace); err != nil {
		return fmt.Errorf("publishing into %s: %w; it holds the previous release unchanged", j.opts.OutDir, err)
	}
	return nil
}

// removeStage deletes the staging folder. Interrupted writers may still be
// running (writeAll does not wait for them), so the folder is renamed
// first: every path a writer holds then names nothing, and its next
// rename or create fails. A create already under way when the folder was
// renamed (its path looked up before, the entry made after) can still
// land in it, once, while RemoveAll empties it; RemoveAll then fails
// (the folder is not empty), so it is tried again, for at most a second
// (such a create is one system call already past its lookup). The new name
// still matches stagingPattern, so if the removal is cut short the next
// build cleans it.
func removeStage(stage string) {
	dead := stage + "-removed"
	if err := os.Rename(stage, dead); err != nil {
		dead = stage
	}
	for i := 0; i < 100; i++ {
		if os.RemoveAll(dead) == nil {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// maxNameLen is the longest artifact name relpack writes: NAME_MAX (255)
// less room for the temporary name it is written under first.
const maxNameLen = 255 - len(".relpack-tmp-") - 12

// checkFileName refuses an artifact name the file system cannot hold,
// before anything is written.
func checkFileName(name, ver string) error {
	if len(name) > maxNameLen {
		return fmt.Errorf("the artifact name %s... would be %d bytes, over the %d a file name can take here (255 less relpack's temporary suffix); --version %q is %d characters: shorten it",
			name[:40], len(name), maxNameLen, ver, len(ver))
	}
	return nil
}

// signSums writes SHA256SUMS.asc (an armoured detached signature of
// SHA256SUMS, made at SOURCE_DATE_EPOCH so it is reproducible) and KEY.asc
// (the public key) into stage. `gpg --import KEY.asc && gpg --verify
// SHA256SUMS.asc SHA256SUMS` checks them; the fingerprint to trust is
// published apart from the release (and recorded in manifest.json).
func signSums(stage string, key *sign.Key, mtime time.Time) error {
	sums, err := os.Open(filepath.Join(stage, "SHA256SUMS"))
	if err != nil {
		return err
	}
	defer sums.Close()
	if err := pack.WriteFileAtomic(filepath.Join(stage, "SHA256SUMS.asc"), func(w io.Writer) error {
		return sign.DetachSignAt(key, sums, w, mtime)
	}); err != nil {
		return fmt.Errorf("signing SHA256SUMS: %w", err)
	}
	pub, err := sign.PublicKey(key)
	if err != nil {
		return err
	}
	return pack.WriteFileAtomic(filepath.Join(stage, "KEY.asc"), func(w io.Writer) error {
		_, err := w.Write(pub)
		return err
	})
}

// checkSources makes sure every file the build reads exists and is a
// regular file, by stat alone (nothing is opened yet), and names its line
// in the configuration when it is not.
func checkSources(cfg *config.Config, inputs map[string]string) error {
	check := func(key, what, p string) error {
		if _, err := regular.Check(p); err != nil {
			p := cfg.Given(p) // named as the user wrote it
			var nr *regular.NotRegularError
			switch {
			case errors.As(err, &nr) && nr.Mode.IsDir():
				return fmt.Errorf("%s: %s %s is a directory; give a file", cfg.Where(key), what, p)
			case errors.As(err, &nr):
				return fmt.Errorf("%s: %s %s is %s, not a regular file; give the path of the file itself", cfg.Where(key), what, p, regular.Kind(nr.Mode))
			case os.IsNotExist(err):
				return fmt.Errorf("%s: %s %s does not exist (fix the path in the configuration)", cfg.Where(key), what, p)
			}
			return fmt.Errorf("%s: %s %s: %w (fix the path in the configuration)", cfg.Where(key), what, p, err)
		}
		return nil
	}
	for _, t := range slices.Sorted(maps.Keys(inputs)) {
		if _, err := inputStat(cfg, t, inputs[t]); err != nil {
			return err
		}
	}
	if err := check("license_file", "license_file", cfg.LicenseFile); err != nil {
		return err
	}
	for i, f := range cfg.Files {
		key := fmt.Sprintf("files[%d].src", i)
		if err := check(key, key, f.Src); err != nil {
			return err
		}
	}
	for i, f := range cfg.Tarball.Files {
		key := fmt.Sprintf("tarball.files[%d]", i)
		if err := check(key, key, f); err != nil {
			return err
		}
	}
	if sc := cfg.Tarball.Sidecar; sc != nil {
		for _, arch := range slices.Sorted(maps.Keys(sc.Libraries)) {
			key := "tarball.sidecar.libraries." + arch
			if err := check(key, key, sc.Libraries[arch]); err != nil {
				return err
			}
		}
	}
	for _, stem := range slices.Sorted(maps.Keys(cfg.Libraries)) {
		files := cfg.Libraries[stem].Files
		for _, arch := range slices.Sorted(maps.Keys(files)) {
			key := "libraries." + stem + ".files." + arch
			if err := check(key, key, files[arch]); err != nil {
				return err
			}
		}
	}
	return nil
}

// buildGCPercent is the garbage collector's GOGC while Run runs (see Run).
const buildGCPercent = 25
