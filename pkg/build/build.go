package build

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

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
	// Warn receives warnings (setuid or world-writable modes); nil: none.
	Warn io.Writer
	// Sign signs every package and SHA256SUMS with the configuration's
	// signing key (packaging.yaml signing:); without it nothing is signed.
	Sign bool
}

// EpochFromEnv reads SOURCE_DATE_EPOCH, or returns DefaultEpoch.
func EpochFromEnv() (int64, error) {
	s := os.Getenv("SOURCE_DATE_EPOCH")
	if s == "" {
		return DefaultEpoch, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("SOURCE_DATE_EPOCH=%q is not a non-negative number of seconds since 1970", s)
	}
	return n, nil
}

// writeAll writes every planned artifact into dir, GOMAXPROCS at a time,
// filling in each entry's name, size and sha256. The first error wins and
// stops the rest from starting.
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
	for _, a := range plan {
		slots <- struct{}{}
		if ctx.Err() != nil {
			<-slots
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
			a.entry.File, a.entry.SHA256, a.entry.Size = name, sum, size
			mu.Lock()
			done++
			progress("[%d/%d] %s", done, len(plan), name)
			mu.Unlock()
		}(a)
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("build interrupted; nothing was written: %w", err)
	}
	return nil
}

// artifact is one planned output and how to write it into a directory.
type artifact struct {
	entry manifest.Artifact
	write func(dir string) (string, error) // returns the file name written
}

// Run checks every input, plans every artifact, writes them into a staging
// directory inside OutDir, and moves them to their final names only when all
// of them (and manifest.json and SHA256SUMS) are complete.
func Run(opts Options) (*manifest.Manifest, error) {
	cfg := opts.Config
	if opts.Release == "" {
		opts.Release = version.DefaultRelease
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
	policy, err := cfg.Floor.Policy()
	if err != nil {
		return nil, fmt.Errorf("%s: floor: %w", cfg.File, err)
	}
	// The signing key is loaded (and unlocked) before any work, so a
	// missing or wrong passphrase fails in a second, not after the build.
	var signing *sign.Key
	if opts.Sign && cfg.Signing == nil {
		return nil, fmt.Errorf("--sign: %s has no signing section; add `signing: {key_file: PATH}` or `signing: {key_env: VARIABLE}` (docs/signing.md)", cfg.File)
	}
	if sg := cfg.Signing; sg != nil && opts.Sign {
		if sg.KeyFile != "" {
			signing, err = sign.LoadKey(sg.KeyFile)
		} else {
			signing, err = sign.LoadKeyFromEnv(sg.KeyEnv)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: signing: %w", cfg.File, err)
		}
	}
	progress := func(format string, args ...any) {
		if opts.Progress != nil {
			fmt.Fprintf(opts.Progress, format+"\n", args...)
		}
	}

	// 1. Inspect and verify every input before anything is written.
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
	// Packages may use per-target builds (targets[].inputs); every distinct
	// binary is inspected once.
	checked := map[[2]string]*Input{}
	var inputs []*Input // in manifest order
	check := func(triple, path string) (*Input, error) {
		if in, ok := checked[[2]string{triple, path}]; ok {
			return in, nil
		}
		progress("inspect %s", path)
		in, err := checkInput(cfg, triple, path, policy)
		if err != nil {
			return nil, err
		}
		checked[[2]string{triple, path}] = in
		inputs = append(inputs, in)
		return in, nil
	}
	var release []*Input
	for _, t := range slices.Sorted(maps.Keys(paths)) {
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
			path := paths[triple]
			if p, ok := t.Inputs[triple]; ok {
				path = p
			}
			if path == "" {
				continue // no glibc build for this arch in this release
			}
			in, err := check(triple, path)
			if err != nil {
				return nil, fmt.Errorf("target %s: %w", t.ID, err)
			}
			pkgInputs = append(pkgInputs, pkgInput{t, in})
		}
	}

	m := &manifest.Manifest{
		Schema: manifest.SchemaVersion, Product: cfg.Name, Summary: cfg.Summary,
		Version: ver.String(), DebVersion: ver.Deb(opts.Release), Homepage: cfg.Homepage, License: cfg.License,
		SourceDateEpoch: opts.Epoch,
		Floor:           manifest.Floor{Glibc: policy.Glibc(), Policy: policy.Name, Families: policy.Families, Covers: policy.Covers},
	}
	if signing != nil {
		m.Signing = &manifest.Signing{Fingerprint: signing.Fingerprint, KeyID: signing.KeyID, UserID: signing.UserID,
			Signature: "SHA256SUMS.asc", PublicKey: "KEY.asc"}
	}
	m.RPMVersion = ver.NFPM("rpm", opts.Release).Full("rpm")
	for _, in := range inputs {
		sum, _, err := pack.SHA256File(in.Path)
		if err != nil {
			return nil, err
		}
		m.Inputs = append(m.Inputs, manifest.Input{
			Triple: in.Triple, File: filepath.Base(in.Path), SHA256: sum, Machine: in.Facts.Machine,
			Libc: in.Facts.Libc, Linkage: in.Facts.Linkage, Needed: in.Facts.Needed, Highest: in.Facts.Highest,
			Z3: in.Z3, Z3So: in.Z3So,
		})
	}

	if err := checkSources(cfg); err != nil {
		return nil, err
	}
	if opts.Warn != nil {
		for _, w := range modeWarnings(cfg) {
			fmt.Fprintln(opts.Warn, "warning:", w)
		}
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

	// 2. Plan every artifact; dependency resolution fails here, still
	// before anything is written.
	mtime := time.Unix(opts.Epoch, 0).UTC()
	var plan []*artifact
	scratch, err := os.MkdirTemp("", "relpack-scratch-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(scratch)
	for _, in := range release {
		a := planTarball(cfg, in, policy, mtime)
		plan = append(plan, &a)
		if cfg.Tarball.Sidecar != nil && in.IsGNU() && in.Z3So != "" {
			sa, err := planSidecar(cfg, in, policy, mtime, scratch)
			if err != nil {
				return nil, err
			}
			plan = append(plan, sa)
		}
	}
	for _, t := range cfg.Targets {
		m.Distros = append(m.Distros, manifest.Distro{ID: t.ID, Name: t.Name, Format: t.Format, Glibc: t.Glibc})
	}
	for _, pi := range pkgInputs {
		a, err := planPackage(cfg, pi.in, pi.target.Distro, ver, opts.Release, policy, mtime, signing)
		if err != nil {
			return nil, err
		}
		plan = append(plan, &a)
	}

	// 3. Write into a staging directory, then move into place.
	if err := os.MkdirAll(opts.OutDir, 0o755); err != nil {
		return nil, fmt.Errorf("output directory %s: %w", opts.OutDir, err)
	}
	stage, err := os.MkdirTemp(opts.OutDir, ".relpack-staging-")
	if err != nil {
		return nil, fmt.Errorf("output directory %s is not writable: %w (choose another --out, or fix its permissions)", opts.OutDir, err)
	}
	defer os.RemoveAll(stage)

	ctx := opts.Context
	if ctx == nil {
		ctx = context.Background()
	}
	// Artifacts are independent: write them on every core. Compression
	// (xz above all) is nearly all of a build's time.
	if err := writeAll(ctx, plan, stage, progress); err != nil {
		return nil, err
	}
	for _, a := range plan {
		m.Artifacts = append(m.Artifacts, a.entry)
	}
	sort.Slice(m.Artifacts, func(i, j int) bool { return m.Artifacts[i].File < m.Artifacts[j].File })
	seen := map[string]bool{}
	var names []string
	for _, a := range m.Artifacts {
		if seen[a.File] {
			return nil, fmt.Errorf("two artifacts would be named %s; give the distro targets distinct release_suffix values", a.File)
		}
		seen[a.File] = true
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
	} else if opts.Clean {
		// An unsigned rebuild must not leave an earlier build's signature
		// next to a SHA256SUMS it does not match.
		for _, n := range []string{"SHA256SUMS.asc", "KEY.asc"} {
			os.Remove(filepath.Join(opts.OutDir, n))
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("build interrupted; nothing was written to %s: %w", opts.OutDir, err)
	}
	// Every file is complete; rename is atomic per file, and SHA256SUMS
	// goes last so a reader that sees it sees everything it lists.
	for _, n := range append(names, final...) {
		if err := os.Rename(filepath.Join(stage, n), filepath.Join(opts.OutDir, n)); err != nil {
			return nil, fmt.Errorf("moving %s into %s: %w", n, opts.OutDir, err)
		}
	}
	removeStale(opts.OutDir, oldManifest, seen, opts.Warn)
	return m, nil
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

// checkSources makes sure every file the artifacts will carry is readable
// before anything is written.
func checkSources(cfg *config.Config) error {
	check := func(what, p string) error {
		if err := checkConfined(cfg, what, p); err != nil {
			return err
		}
		st, err := os.Stat(p)
		switch {
		case err != nil:
			return fmt.Errorf("%s: %s %s: %w (fix the path in the configuration)", cfg.File, what, p, err)
		case st.IsDir():
			return fmt.Errorf("%s: %s %s is a directory; give a file", cfg.File, what, p)
		}
		return nil
	}
	if err := check("license_file", cfg.LicenseFile); err != nil {
		return err
	}
	for i, f := range cfg.Files {
		if err := check(fmt.Sprintf("files[%d].src", i), f.Src); err != nil {
			return err
		}
	}
	for i, f := range cfg.Tarball.Files {
		if err := check(fmt.Sprintf("tarball.files[%d]", i), f); err != nil {
			return err
		}
	}
	if sc := cfg.Tarball.Sidecar; sc != nil {
		for _, arch := range slices.Sorted(maps.Keys(sc.Libraries)) {
			if err := check("tarball.sidecar.libraries."+arch, sc.Libraries[arch]); err != nil {
				return err
			}
		}
	}
	return nil
}
