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
	// Tool is relpack's own version, recorded in config_digest.
	Tool string
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
}

// afterSnapshot, when set by a test, runs once every source is copied: it
// replaces an input on disk to prove the artifacts hold the copy.
var afterSnapshot func()

// ErrInterrupted is returned (wrapped) when the build's context is
// cancelled: Ctrl-C or SIGTERM.
var ErrInterrupted = errors.New("build interrupted")

// Run checks every input, plans every artifact, writes them into a staging
// directory inside OutDir, and publishes them only when all of them (and
// manifest.json and SHA256SUMS) are complete. On any error, OutDir holds
// exactly what it held before.
func Run(opts Options) (m *manifest.Manifest, err error) {
	ctx := opts.Context
	if ctx == nil {
		ctx = context.Background()
	}
	defer func() {
		if err != nil && ctx.Err() != nil && !errors.Is(err, ErrInterrupted) {
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
	cfg := opts.Config
	if opts.Release == "" {
		opts.Release = version.DefaultRelease
	}
	if err := manifest.CheckEpoch(opts.Epoch); err != nil {
		return nil, fmt.Errorf("SOURCE_DATE_EPOCH %w", err)
	}
	suffixes := map[string]string{}
	for _, t := range cfg.Targets {
		if err := version.CheckRelease(opts.Release + t.ReleaseSuffix); err != nil {
			return nil, fmt.Errorf("target %s (%s:%d): release_suffix: %w", t.ID, cfg.File, cfg.LineOfTarget(t.ID), err)
		}
		// Same format and suffix would give two packages one file name.
		key := t.Format + " " + t.ReleaseSuffix
		if other, ok := suffixes[key]; ok {
			return nil, fmt.Errorf("targets %s and %s (%s:%d) would write %s packages with the same file names; give them distinct release_suffix values",
				other, t.ID, cfg.File, cfg.LineOfTarget(t.ID), t.Format)
		}
		suffixes[key] = t.ID
	}
	ver, err := version.Parse(opts.Version)
	if err != nil {
		return nil, fmt.Errorf("--version: %w", err)
	}
	policy, err := floorPolicies(cfg)
	if err != nil {
		return nil, err
	}
	// The signing key is loaded (and unlocked) before any work, so a
	// missing or wrong passphrase fails in a second, not after the build.
	var signing *sign.Key
	if opts.Sign && cfg.Signing == nil {
		return nil, fmt.Errorf("--sign: %s has no signing section; add `signing: {key_file: PATH}` or `signing: {key_env: VARIABLE}` (docs/signing.md)", cfg.File)
	}
	if opts.Sign {
		if signing, err = SigningKeyContext(ctx, cfg); err != nil {
			return nil, err
		}
	}
	progress := func(format string, args ...any) {
		if opts.Progress != nil {
			fmt.Fprintf(opts.Progress, format+"\n", args...)
		}
	}
	paths := map[string]string{}
	for t, p := range cfg.Inputs {
		paths[t] = p
	}
	for t, p := range opts.Bins {
		if !config.TripleRE.MatchString(t) {
			return nil, fmt.Errorf("--bin %s=%s: unknown target triple; use x86_64 or aarch64 with -unknown-linux-gnu or -unknown-linux-musl", t, p)
		}
		paths[t] = p
	}
	// A partial build (--only) reads only the inputs and per-arch files
	// its selected artifacts are made from (split.go).
	sel, err := newSelection(cfg, paths, opts.Only)
	if err != nil {
		return nil, err
	}
	selPaths := map[string]string{}
	for t, p := range paths {
		if sel.match(unit{kindTarball, t, strings.Split(t, "-")[0], ""}) {
			selPaths[t] = p
		}
	}
	// Sources are checked by stat before the output folder is touched, so
	// a typo in a path never creates --out.
	if err := checkSources(sel.forArches(cfg, paths), selPaths); err != nil {
		return nil, err
	}

	// 1. Take the output folder: one build at a time, and what killed
	// builds left is cleaned up (or rolled back) first.
	out, err := lockOut(opts.OutDir)
	if err != nil {
		return nil, err
	}
	defer func() { out.release(err != nil) }()
	if err := out.recoverStale(opts.Warn); err != nil {
		return nil, err
	}
	earlier, oldManifest := earlierBuild(opts.OutDir)
	if len(earlier) > 0 && !opts.Clean {
		shown := earlier
		if len(shown) > 3 {
			shown = append(shown[:3:3], fmt.Sprintf("and %d more", len(earlier)-3))
		}
		return nil, fmt.Errorf("output directory %s holds artifacts of an earlier build (%s); pass --clean to replace them, or choose another --out",
			opts.OutDir, strings.Join(shown, ", "))
	}
	stage, err := os.MkdirTemp(opts.OutDir, stagingPattern)
	if err != nil {
		return nil, fmt.Errorf("output directory %s is not writable: %w (choose another --out, or fix its permissions)", opts.OutDir, err)
	}
	defer removeStage(stage)
	// Every scratch file of the build (source copies, RUNPATH-edited
	// binaries, nfpm's inline contents) lives in the staging folder, so a
	// killed build leaves nothing anywhere else.
	scratch := filepath.Join(stage, ".scratch")
	if err := os.Mkdir(scratch, 0o700); err != nil {
		return nil, err
	}
	snap, err := newSnapshot(ctx, filepath.Join(stage, ".sources"))
	if err != nil {
		return nil, err
	}

	// 2. Copy, inspect and verify every input before anything is written.
	// Packages may use per-target builds (targets[].inputs); every distinct
	// binary is read once.
	checked := map[[2]string]*Input{}
	var inputs []*Input // in manifest order
	check := func(triple, path string) (*Input, error) {
		if in, ok := checked[[2]string{triple, path}]; ok {
			return in, nil
		}
		progress("inspect %s", path)
		src, err := takeInput(cfg, snap, triple, path)
		if err != nil {
			return nil, err
		}
		in, err := checkInput(cfg, triple, src, policy)
		if err != nil {
			return nil, err
		}
		checked[[2]string{triple, path}] = in
		inputs = append(inputs, in)
		return in, nil
	}
	var release []*Input
	for _, t := range slices.Sorted(maps.Keys(selPaths)) {
		in, err := check(t, paths[t])
		if err != nil {
			return nil, err
		}
		release = append(release, in)
	}
	type pkgInput struct {
		target config.Target
		in     *Input
	}
	var pkgInputs []pkgInput
	for _, t := range cfg.Targets {
		for _, arch := range t.Arches {
			triple := arch + "-unknown-linux-gnu"
			path := targetPath(t, paths, triple)
			if path == "" {
				continue // no glibc build for this arch in this release
			}
			if !sel.match(unit{t.Format, triple, arch, t.ID}) {
				continue // another partial build's
			}
			in, err := check(triple, path)
			if err != nil {
				return nil, fmt.Errorf("target %s: %w", t.ID, err)
			}
			pkgInputs = append(pkgInputs, pkgInput{t, in})
		}
	}
	// From here on the configuration's files are read from their copies.
	pcfg, err := snap.takeSources(sel.forArches(cfg, paths))
	if err != nil {
		return nil, err
	}
	digest, err := configDigest(cfg, paths, opts.Tool, func(p string) string {
		if src := snap.copies[p]; src != nil {
			return src.SHA256
		}
		return ""
	})
	if err != nil {
		return nil, err
	}
	if afterSnapshot != nil {
		afterSnapshot()
	}

	m = &manifest.Manifest{
		Schema: manifest.SchemaVersion, Product: cfg.Name, Summary: cfg.Summary,
		Version: ver.String(), DebVersion: ver.Deb(opts.Release), Homepage: cfg.Homepage, License: cfg.License,
		SourceDateEpoch: opts.Epoch, ConfigDigest: digest,
		Floor: policy.manifest(inputs),
	}
	if signing != nil {
		m.Signing = &manifest.Signing{Fingerprint: signing.Fingerprint, KeyID: signing.KeyID, UserID: signing.UserID,
			Signature: "SHA256SUMS.asc", PublicKey: "KEY.asc"}
	}
	m.RPMVersion = ver.NFPM("rpm", opts.Release).Full("rpm")
	if sv := cfg.Systemd; sv != nil && len(cfg.Targets) > 0 {
		m.Service = &manifest.Service{Unit: sv.Unit, Scope: sv.Scope, Enable: sv.Enabled(), RestartOnUpgrade: sv.RestartsOnUpgrade()}
	}
	for _, in := range inputs {
		m.Inputs = append(m.Inputs, manifest.Input{
			Triple: in.Triple, File: filepath.Base(in.Path), SHA256: in.SHA256, Machine: in.Facts.Machine,
			Libc: in.Facts.Libc, Linkage: in.Facts.Linkage, Needed: in.Facts.Needed, Highest: in.Facts.Highest,
			Z3: in.Z3, Z3So: in.Z3So,
		})
	}
	m.Inputs = sortInputs(m.Inputs)
	if opts.Warn != nil {
		warnings := modeWarnings(cfg)
		now := time.Now
		if opts.Now != nil {
			now = opts.Now
		}
		warnings = append(warnings, supportWarnings(cfg, now())...)
		if sel == nil { // a partial build does not see the whole release
			warnings = append(warnings, notBuilt(cfg, paths, release)...)
		}
		for _, w := range warnings {
			fmt.Fprintln(opts.Warn, "warning:", w)
		}
	}

	// 3. Plan every artifact; dependency resolution and every name fail
	// here, still before anything is written.
	mtime := time.Unix(opts.Epoch, 0).UTC()
	var plan []*artifact
	for _, in := range release {
		a := planTarball(pcfg, in, policy, mtime)
		plan = append(plan, &a)
		if pcfg.Tarball.Sidecar != nil && in.IsGNU() && len(bundledNeeds(in)) > 0 {
			sa, err := planSidecar(pcfg, in, policy, mtime, scratch, snap)
			if err != nil {
				return nil, err
			}
			plan = append(plan, sa)
		}
	}
	for _, t := range cfg.Targets {
		m.Distros = append(m.Distros, manifest.Distro{ID: t.ID, Name: t.Name, Format: t.Format, Glibc: t.Glibc, Support: supportOf(t.Distro)})
	}
	pv := newPrivatePlanner(cfg, snap, scratch, policy)
	// The debs of the build share their data members: identical payloads
	// (debian11 and debian12, the Ubuntu releases) are compressed once.
	payloads := pack.NewPayloadCache(filepath.Join(scratch, "payloads"))
	for _, pi := range pkgInputs {
		a, err := planPackage(pcfg, pi.in, pi.target.Distro, ver, opts.Release, policy, mtime, signing, scratch, pv, payloads)
		if err != nil {
			return nil, err
		}
		plan = append(plan, &a)
	}
	if opts.Warn != nil {
		for _, w := range pv.unused() {
			fmt.Fprintln(opts.Warn, "warning:", w)
		}
	}
	// Every artifact of the release is named, built here or not: a
	// partial build refuses what the full one would, and records them all.
	planned, err := plannedNames(cfg, paths, checked, ver, opts.Version, opts.Release, plan)
	if err != nil {
		return nil, err
	}
	if sel != nil {
		m.Partial, m.Selectors, m.Planned = true, sel.given, planned
	}
	seen := map[string]bool{}
	for _, a := range plan {
		if seen[a.entry.File] {
			return nil, fmt.Errorf("two artifacts would be named %s; give the distro targets distinct release_suffix values", a.entry.File)
		}
		seen[a.entry.File] = true
		if err := checkFileName(a.entry.File, opts.Version); err != nil {
			return nil, err
		}
	}

	// 4. Write into the staging directory, then publish.
	// Artifacts are independent: write them on every core. Compression
	// (xz above all) is nearly all of a build's time.
	if err := writeAll(ctx, plan, stage, progress); err != nil {
		return nil, err
	}
	for _, a := range plan {
		m.Artifacts = append(m.Artifacts, a.entry)
	}
	sort.Slice(m.Artifacts, func(i, j int) bool { return m.Artifacts[i].File < m.Artifacts[j].File })
	var names []string
	for _, a := range m.Artifacts {
		names = append(names, a.File)
	}
	mj, err := m.Marshal()
	if err != nil {
		return nil, err
	}
	if err := pack.WriteFileAtomic(filepath.Join(stage, "manifest.json"), func(w io.Writer) error { _, err := w.Write(mj); return err }); err != nil {
		return nil, err
	}
	var stagedPaths []string
	for _, n := range append(names, "manifest.json") {
		stagedPaths = append(stagedPaths, filepath.Join(stage, n))
	}
	if err := pack.WriteSHA256SUMS(filepath.Join(stage, "SHA256SUMS"), stagedPaths); err != nil {
		return nil, err
	}
	final := []string{"manifest.json", "SHA256SUMS"}
	if signing != nil {
		if err := signSums(stage, signing, mtime); err != nil {
			return nil, err
		}
		// SHA256SUMS stays last: when it appears, its signature and the
		// key are already there.
		final = []string{"manifest.json", "KEY.asc", "SHA256SUMS.asc", "SHA256SUMS"}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// The earlier release's files go: those written again are replaced,
	// its manifest, sums and signature always (an unsigned rebuild must
	// not leave a signature of other sums), and with --clean its other
	// artifacts, when they are provably its own (staleFiles).
	var displace []string
	if opts.Clean {
		displace = append(staleFiles(opts.OutDir, oldManifest, seen, opts.Warn), releaseFiles...)
	}
	if err := publish(opts.OutDir, stage, append(names, final...), displace); err != nil {
		return nil, fmt.Errorf("publishing into %s: %w; it holds the previous release unchanged", opts.OutDir, err)
	}
	return m, nil
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
