// Package merge joins partial releases (relpack build --only) into one
// release: one manifest.json, one SHA256SUMS and, signed, one
// SHA256SUMS.asc and KEY.asc. The result is byte-identical to a single
// relpack build of the same inputs, and is published with a build's
// guarantees (pkg/release.Publish): one writer, nothing visible until
// complete, the old release back on any failure.
package merge

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"

	"relpack/internal/ctxio"
	"relpack/internal/pipeline"
	"relpack/internal/regular"
	"relpack/pkg/config"
	"relpack/pkg/manifest"
	"relpack/pkg/pack"
	"relpack/pkg/provenance"
	"relpack/pkg/release"
	"relpack/pkg/releaseverify"
	"relpack/pkg/sign"
)

// Options are the inputs of one merge.
type Options struct {
	// Dirs are the partial releases, each a folder relpack build --only
	// wrote.
	Dirs []string
	// OutDir receives the release; created when missing.
	OutDir string
	// Sign makes SHA256SUMS.asc and KEY.asc with Config's signing key. The
	// partials must have been built with --sign by the same key (packages
	// are signed where they are built).
	Sign   bool
	Config *config.Config
	// Clean allows replacing an earlier release in OutDir.
	Clean bool
	// Warn receives warnings; nil: none.
	Warn io.Writer
	// Context stops the merge (Ctrl-C); OutDir keeps what it held.
	Context context.Context
}

// partial is one partial release, read and locked.
type partial struct {
	dir  string
	m    *manifest.Manifest
	sum  string // manifest.json's sha256
	lock *os.File
}

// stages are a merge, in order. Each reads only what the stages before it
// added to the job; nothing touches OutDir before publish.
var stages = []pipeline.Stage[*job]{
	{Name: "check the options", Run: (*job).checkOptions},                      // partials and --out named, each folder once, --out none of them
	{Name: "read and lock the partials", Run: (*job).readPartials},             // shared lock on each; its manifest, held to its SHA256SUMS
	{Name: "check the partials form one release", Run: (*job).checkOneRelease}, // version, config digest, epoch, signing, every header field
	{Name: "collect the artifacts", Run: (*job).collectArtifacts},              // each artifact from one partial, one input per planned file, none missing
	{Name: "load the signing key", Run: (*job).loadSigningKey},                 // --sign as the partials were signed; the key that signed the packages
	{Name: "verify each partial", Run: (*job).verifyPartials},                  // pkg/releaseverify as a user would; manifest unchanged since read
	{Name: "check every artifact is there", Run: (*job).checkArtifactFiles},    // each file present at its recorded size
	{Name: "make the merged manifest", Run: (*job).makeManifest},               // partial fields dropped, inputs joined and sorted
	{Name: "make the merged provenance", Run: (*job).mergeProvenance},          // the partials' statements agree; subjects of all, no selectors
	{Name: "publish", Run: (*job).publish},                                     // release.Publish: lock --out, staging folder (stagingStages), journaled swap
}

// stagingStages fill the staging folder release.Publish hands the publish
// stage, between taking --out and the swap.
var stagingStages = []pipeline.Stage[*job]{
	{Name: "stage the artifacts", Run: (*job).stageArtifacts},                // verified copies: sha256 and size checked as copied
	{Name: "write the provenance", Run: (*job).writeProvenance},              // the merged statement, as a single build writes it
	{Name: "manifest, sums and signature", Run: (*job).writeManifestAndSums}, // manifest.json, SHA256SUMS; signed: SHA256SUMS.asc, KEY.asc
}

// Stages names a merge's stages in the order they run; the stages run in
// publish's staging folder follow it, as "publish: NAME".
func Stages() []string {
	names := pipeline.Names(stages)
	for _, n := range pipeline.Names(stagingStages) {
		names = append(names, "publish: "+n)
	}
	return names
}

// job is one merge: its options, then what each stage adds.
type job struct {
	opts Options
	ctx  context.Context // opts.Context, or a context that is never done

	// added by "read and lock the partials" (Run's defer unlocks them)
	parts []*partial

	// added by "collect the artifacts"
	owner map[string]*partial // artifact file -> the partial holding it
	arts  []manifest.Artifact // every artifact, sorted by file

	// added by "load the signing key"; nil: unsigned
	key *sign.Key

	// added by "make the merged manifest"
	merged       manifest.Manifest
	manifestJSON []byte

	// added by "make the merged provenance"; nil: the partials have none
	prov *provenance.Release

	// added by "publish", for stagingStages
	stage  string   // the staging folder release.Publish made
	staged []string // names to publish, in order (SHA256SUMS last)
}

// Run checks that the partials form one release and publishes it into
// OutDir. Every refusal names the folders; OutDir is touched only when the
// partials agree, and holds what it held before on any error.
func Run(opts Options) (*manifest.Manifest, error) {
	j := &job{opts: opts, ctx: opts.Context}
	if j.ctx == nil {
		j.ctx = context.Background()
	}
	defer func() {
		for _, p := range j.parts {
			p.lock.Close()
		}
	}()
	// No context for pipeline.Run: a stage that waits (the signing key,
	// verifying, copying) notices Ctrl-C itself and says what OutDir holds.
	if err := pipeline.Run(nil, j, stages); err != nil {
		return nil, err
	}
	return &j.merged, nil
}

// checkOptions reads opts: partial folders and --out are named, each
// partial once (after symlinks), and --out is none of them. Adds nothing.
func (j *job) checkOptions() error {
	opts := j.opts
	if len(opts.Dirs) == 0 {
		return errors.New("no partial releases given; name the folders relpack build --only wrote")
	}
	if opts.OutDir == "" {
		return errors.New("no --out folder given")
	}
	outAbs, err := filepath.Abs(opts.OutDir)
	if err != nil {
		return err
	}
	seenDir := map[string]string{}
	for _, d := range opts.Dirs {
		abs, err := filepath.Abs(d)
		if err != nil {
			return err
		}
		if real, err := filepath.EvalSymlinks(abs); err == nil {
			abs = real
		}
		if other, ok := seenDir[abs]; ok {
			return fmt.Errorf("%s and %s are the same folder; name each partial release once", other, d)
		}
		seenDir[abs] = d
		out := outAbs
		if real, err := filepath.EvalSymlinks(outAbs); err == nil {
			out = real
		}
		if out == abs {
			return fmt.Errorf("--out %s is the partial release %s itself; merge into a folder of its own", opts.OutDir, d)
		}
	}
	return nil
}

// readPartials reads opts.Dirs, each under a shared lock (a build still
// writing one holds it exclusively), and adds parts: every partial's
// manifest, valid, partial and held to its SHA256SUMS.
func (j *job) readPartials() error {
	for _, d := range j.opts.Dirs {
		p, err := readPartial(d)
		if err != nil {
			return err
		}
		j.parts = append(j.parts, p)
	}
	return nil
}

// checkOneRelease reads parts: one release, so one version, configuration,
// epoch and signer, then everything else the manifests say about the
// release as a whole. Adds nothing.
func (j *job) checkOneRelease() error {
	parts := j.parts
	if err := same(parts, "version", func(m *manifest.Manifest) string { return m.Version },
		"partials of different versions; merge the partial releases of one relpack build --version"); err != nil {
		return err
	}
	if err := sameTool(parts); err != nil {
		return err
	}
	if err := same(parts, "config_digest", func(m *manifest.Manifest) string { return m.ConfigDigest },
		"partials built from different configurations (packaging.yaml, the files it names, the inputs' triples) or relpack versions; build every partial from the same commit with the same relpack"); err != nil {
		return err
	}
	if err := same(parts, "source_date_epoch", func(m *manifest.Manifest) string { return fmt.Sprint(m.SourceDateEpoch) },
		"partials built with different SOURCE_DATE_EPOCH; export the same value (the release commit's time) in every job"); err != nil {
		return err
	}
	if err := same(parts, "signing", signer,
		"partials signed differently; build every partial with --sign and the same key, or none"); err != nil {
		return err
	}
	return sameHeader(parts)
}

// signer is how a manifest's packages are signed, for same.
func signer(m *manifest.Manifest) string {
	if m.Signing == nil {
		return "unsigned"
	}
	return "signed by " + m.Signing.Fingerprint
}

// collectArtifacts reads parts and adds owner and arts: each artifact
// comes from one partial, the partials planning a file read one input
// binary for it, and every planned file is some partial's artifact.
func (j *job) collectArtifacts() error {
	j.owner = map[string]*partial{}
	for _, p := range j.parts {
		for _, a := range p.m.Artifacts {
			if o, ok := j.owner[a.File]; ok {
				return fmt.Errorf("%s and %s both hold %s (overlap: --only %s and --only %s select it both); give each artifact to one partial build",
					o.dir, p.dir, a.File, strings.Join(o.m.Selectors, " --only "), strings.Join(p.m.Selectors, " --only "))
			}
			j.owner[a.File] = p
			for _, s := range a.SBOMs {
				j.owner[s.File] = p // an artifact's SBOMs come with it
			}
			j.arts = append(j.arts, a)
		}
	}
	planned, err := plannedFiles(j.parts)
	if err != nil {
		return err
	}
	if err := j.checkNoneMissing(planned); err != nil {
		return err
	}
	if err := j.checkDebugPairs(); err != nil {
		return err
	}
	slices.SortFunc(j.arts, func(a, b manifest.Artifact) int { return strings.Compare(a.File, b.File) })
	return nil
}

// plannedFiles joins the partials' planned files, refusing two partials
// that read different input binaries for one file. It returns the set of
// planned file names.
func plannedFiles(parts []*partial) (map[string]bool, error) {
	type plan struct {
		input string
		dir   string
	}
	planned := map[string]plan{}
	for _, p := range parts {
		for _, pl := range p.m.Planned {
			q, ok := planned[pl.File]
			if ok && q.input != "" && pl.Input != "" && q.input != pl.Input {
				return nil, fmt.Errorf("%s and %s read different input binaries for %s (sha256 %s and %s); build every partial from the same inputs",
					q.dir, p.dir, pl.File, q.input, pl.Input)
			}
			if !ok || q.input == "" {
				planned[pl.File] = plan{pl.Input, p.dir}
			}
		}
	}
	files := map[string]bool{}
	for f := range planned {
		files[f] = true
	}
	return files, nil
}

// checkNoneMissing refuses planned files no partial holds, naming them
// in order and every partial with its selectors.
func (j *job) checkNoneMissing(planned map[string]bool) error {
	var missing []string
	for _, f := range slices.Sorted(maps.Keys(planned)) {
		if j.owner[f] == nil {
			missing = append(missing, f)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	var sels []string
	for _, p := range j.parts {
		sels = append(sels, fmt.Sprintf("%s (--only %s)", p.dir, strings.Join(p.m.Selectors, " --only ")))
	}
	return fmt.Errorf("the partials %s leave %d planned artifacts missing: %s; build them with relpack build --only and merge all the partials",
		strings.Join(sels, ", "), len(missing), strings.Join(missing, ", "))
}

// checkDebugPairs refuses a merged release in which a debug artifact
// (docs/debug-symbols.md) is without the artifact it holds the symbols
// of, or an artifact without the debug artifact its record names, or the
// two disagree on the build-id: users look debug symbols up by the
// build-id of the binary they installed, and one without the other is
// a release whose symbols match nothing (or a crash nobody can read).
func (j *job) checkDebugPairs() error {
	byFile := map[string]manifest.Artifact{}
	for _, a := range j.arts {
		byFile[a.File] = a
	}
	for _, a := range j.arts {
		switch {
		case manifest.IsDebug(a.Kind):
			of, ok := byFile[a.DebugFor]
			if !ok {
				return fmt.Errorf("%s/manifest.json: %s holds the debug symbols of %s, which no partial holds; build %s too (relpack build --only with a selector that picks it) and merge every partial", j.owner[a.File].dir, a.File, a.DebugFor, a.DebugFor)
			}
			if of.BuildID != a.BuildID {
				return fmt.Errorf("%s (%s) has build-id %s, but %s (%s), whose symbols it holds, has build-id %s: the partials were built from different binaries; build every partial from the same inputs",
					a.File, j.owner[a.File].dir, a.BuildID, of.File, j.owner[of.File].dir, of.BuildID)
			}
		case a.Debug != "":
			if _, ok := byFile[a.Debug]; !ok {
				return fmt.Errorf("%s/manifest.json: %s's debug symbols are in %s, which no partial holds; build it too and merge every partial", j.owner[a.File].dir, a.File, a.Debug)
			}
		}
	}
	return nil
}

// loadSigningKey reads opts.Sign, opts.Config and parts: --sign exactly
// when the partials' packages are signed, and then by the configuration's
// key, so SHA256SUMS is signed here, once, by the key that signed the
// packages. Adds key (nil unsigned).
func (j *job) loadSigningKey() error {
	opts, first := j.opts, j.parts[0].m
	switch {
	case opts.Sign && first.Signing == nil:
		return fmt.Errorf("--sign: the partials %s were built without --sign: their packages are unsigned (packages are signed where they are built); build them with --sign", dirList(j.parts))
	case !opts.Sign && first.Signing != nil:
		return fmt.Errorf("the partials %s hold packages signed by %s; pass --sign (with the configuration holding that key) so SHA256SUMS is signed too, as a signed build does", dirList(j.parts), first.Signing.Fingerprint)
	case !opts.Sign:
		return nil
	}
	if opts.Config == nil {
		return errors.New("--sign needs the configuration naming the signing key (-c packaging.yaml)")
	}
	key, err := release.SigningKeyContext(j.ctx, opts.Config)
	if err != nil {
		if j.ctx.Err() != nil {
			return fmt.Errorf("%w while loading the signing key; %s holds what it held before", release.ErrInterrupted, opts.OutDir)
		}
		return err
	}
	if key.Fingerprint != first.Signing.Fingerprint {
		return fmt.Errorf("--sign: %s's signing key is %s, but the partials %s were signed by %s; sign with the key that signed the packages",
			opts.Config.File, key.Fingerprint, dirList(j.parts), first.Signing.Fingerprint)
	}
	j.key = key
	return nil
}

// verifyPartials reads parts and key: each partial verified as a user
// would (pkg/releaseverify): signed, its SHA256SUMS.asc and every package
// signature by the key that signs the merged sums; every file against its
// SHA256SUMS and manifest; every package against its own metadata and
// digests; and its manifest.json still the one read. Adds nothing: merge
// signs only what it verified.
func (j *job) verifyPartials() error {
	var keyring openpgp.EntityList
	if j.key != nil {
		var err error
		if keyring, err = releaseverify.PublicKeyring(j.key); err != nil {
			return err
		}
	}
	for _, p := range j.parts {
		if err := j.verifyPartial(p, keyring); err != nil {
			return err
		}
	}
	return nil
}

// verifyPartial verifies one partial with keyring (nil: unsigned).
func (j *job) verifyPartial(p *partial, keyring openpgp.EntityList) error {
	opts := j.opts
	vo := releaseverify.Options{Dir: p.dir, Keyring: keyring, AllowUnsigned: !opts.Sign, Partial: true, Context: j.ctx}
	if opts.Config != nil {
		vo.Product, vo.KeyName = opts.Config.Name, opts.Config.File+"'s signing key"
	}
	rep, err := releaseverify.Verify(vo)
	if err != nil {
		if j.ctx.Err() != nil {
			return fmt.Errorf("%w; %s was not touched", release.ErrInterrupted, opts.OutDir)
		}
		return err
	}
	if err := rep.Err(); err != nil {
		return err
	}
	if rep.ManifestSHA256 != p.sum {
		return fmt.Errorf("%s/manifest.json changed while it was read; merge again when nothing writes the partial", p.dir)
	}
	return nil
}

// checkArtifactFiles reads arts and owner: every artifact is there, at
// its recorded size, before the output folder is touched (its sha256 is
// checked on the copy published). Adds nothing.
func (j *job) checkArtifactFiles() error {
	for _, a := range withSBOMs(j.arts) {
		dir := j.owner[a.File].dir
		p := filepath.Join(dir, a.File)
		st, err := regular.Check(p)
		switch {
		case os.IsNotExist(err):
			return fmt.Errorf("%s is missing: %s/manifest.json lists it; copy the whole partial release (every file relpack build wrote)", p, dir)
		case err != nil:
			return fmt.Errorf("%s: %w", p, err)
		case st.Size() != a.Size:
			return fmt.Errorf("%s is %d bytes, but %s/manifest.json records %d: the file is not the one relpack build wrote; copy the partial release again", p, st.Size(), dir, a.Size)
		}
	}
	return nil
}

// makeManifest reads parts and arts and adds merged and manifestJSON: the
// first partial's manifest without its partial fields, holding every
// artifact and every partial's inputs.
func (j *job) makeManifest() error {
	m := *j.parts[0].m
	m.Partial, m.Selectors, m.Planned = false, nil, nil
	m.Artifacts = j.arts
	m.Inputs = nil
	for _, p := range j.parts {
		m.Inputs = append(m.Inputs, p.m.Inputs...)
	}
	m.Inputs = release.SortInputs(m.Inputs)
	mj, err := m.Marshal()
	if err != nil {
		return err
	}
	j.merged, j.manifestJSON = m, mj
	return nil
}

// publish hands release.Publish the stagingStages: it locks OutDir,
// recovers what killed runs left, makes the staging folder (added as
// stage) for them to fill, and swaps the staged names in; on any error
// OutDir holds what it held before. Reads everything the staging stages do.
func (j *job) publish() error {
	err := release.Publish(j.opts.OutDir, j.opts.Clean, j.opts.Warn, func(stage string) ([]string, error) {
		j.stage, j.staged = stage, nil
		if err := pipeline.Run(nil, j, stagingStages); err != nil {
			return nil, err
		}
		if err := j.ctx.Err(); err != nil {
			return nil, err
		}
		return j.staged, nil
	})
	if err != nil {
		if j.ctx.Err() != nil {
			return fmt.Errorf("%w; %s holds what it held before: %v", release.ErrInterrupted, j.opts.OutDir, err)
		}
		return err
	}
	return nil
}

// stageArtifacts reads arts, owner and stage: copies every artifact into
// stage, refusing one whose bytes are not the manifest's, and adds each to
// staged.
func (j *job) stageArtifacts() error {
	for _, a := range withSBOMs(j.arts) {
		if err := copyVerified(j.ctx, j.owner[a.File].dir, a, j.stage); err != nil {
			return err
		}
		j.staged = append(j.staged, a.File)
	}
	return nil
}

// writeManifestAndSums reads manifestJSON, merged's epoch, key and staged:
// writes manifest.json, SHA256SUMS over the artifacts and manifest.json
// and, signed, SHA256SUMS.asc and KEY.asc into stage, and adds them to
// staged in publishing order (SHA256SUMS last).
func (j *job) writeManifestAndSums() error {
	if j.key != nil && j.prov != nil {
		if err := release.SignProvenance(j.stage, j.key, time.Unix(j.merged.SourceDateEpoch, 0).UTC()); err != nil {
			return err
		}
		j.staged = append(j.staged, provenance.FileName+".asc")
	}
	var paths []string
	for _, n := range j.staged {
		paths = append(paths, filepath.Join(j.stage, n))
	}
	mp := filepath.Join(j.stage, "manifest.json")
	if err := pack.WriteFileAtomic(mp, func(w io.Writer) error { _, err := w.Write(j.manifestJSON); return err }); err != nil {
		return err
	}
	if err := pack.WriteSHA256SUMS(filepath.Join(j.stage, "SHA256SUMS"), append(paths, mp)); err != nil {
		return err
	}
	final := []string{"manifest.json", "SHA256SUMS"}
	if j.key != nil {
		if err := release.SignSums(j.stage, j.key, time.Unix(j.merged.SourceDateEpoch, 0).UTC()); err != nil {
			return err
		}
		final = []string{"manifest.json", "KEY.asc", "SHA256SUMS.asc", "SHA256SUMS"}
	}
	j.staged = append(j.staged, final...)
	return nil
}

// readPartial locks dir (shared) and reads its manifest, which must be a
// valid partial one whose sha256 SHA256SUMS records.
func readPartial(dir string) (*partial, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("partial release %s: %w", dir, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("partial release %s is not a folder; give the --out folder of relpack build --only", dir)
	}
	f, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("partial release %s: %w", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("partial release %s is in use by a relpack build; merge when it has finished", dir)
		}
		return nil, fmt.Errorf("partial release %s: cannot lock it: %w", dir, err)
	}
	p := &partial{dir: dir, lock: f}
	mp := filepath.Join(dir, "manifest.json")
	if _, err := regular.Check(mp); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s holds no manifest.json (%v); give the folder relpack build --only wrote", dir, err)
	}
	m, err := manifest.ReadValid(mp)
	if err != nil {
		f.Close()
		return nil, err
	}
	if !m.Partial {
		f.Close()
		return nil, fmt.Errorf("%s holds a full release, not a partial one (its manifest.json has no partial: true; it was built without --only): merge joins the partial releases of relpack build --only", dir)
	}
	sum, err := checkSums(dir, mp)
	if err != nil {
		f.Close()
		return nil, err
	}
	p.sum = sum
	p.m = m
	return p, nil
}

// checkSums holds manifest.json to the sha256 SHA256SUMS records for it,
// so a manifest edited after the build is refused.
func checkSums(dir, mp string) (string, error) {
	want, err := listedSum(dir, "manifest.json")
	if err != nil {
		return "", err
	}
	got, _, err := pack.SHA256File(mp)
	if err != nil {
		return "", err
	}
	if want != got {
		return "", fmt.Errorf("%s/manifest.json does not match its SHA256SUMS (sha256 %s, SHA256SUMS says %q): the partial release was changed after relpack wrote it", dir, got, want)
	}
	return got, nil
}

// same refuses partials that differ in one manifest field.
func same(parts []*partial, field string, get func(*manifest.Manifest) string, advice string) error {
	v0 := get(parts[0].m)
	for _, p := range parts[1:] {
		if v := get(p.m); v != v0 {
			return fmt.Errorf("%s: %s has %s %s, %s has %s %s", advice, parts[0].dir, field, v0, p.dir, field, v)
		}
	}
	return nil
}

// sameTool refuses partials made by different relpacks, naming both: each
// one's version, commit and Go are in its config_digest too, so the digest
// check would refuse them as well, but only as "different configurations
// or relpack versions". Saying which relpacks tells the user what to fix.
func sameTool(parts []*partial) error {
	t0 := parts[0].m.Tool
	for _, p := range parts[1:] {
		t := p.m.Tool
		if t0 == nil && t == nil || t0 != nil && t != nil && *t0 == *t {
			continue
		}
		return fmt.Errorf("%s and %s were made by different relpacks: %s by %s, %s by %s (their config_digest differs for that reason too); run the same pinned relpack (one version, built from one commit with one Go) in every job of the split build, and build the partials again",
			parts[0].dir, p.dir, parts[0].dir, t0, p.dir, t)
	}
	return nil
}

// sameHeader refuses partials whose manifests differ in anything but
// their inputs, artifacts and partial fields (the config digest covers
// it; this catches a relpack that does not, or an edited manifest).
func sameHeader(parts []*partial) error {
	header := func(m *manifest.Manifest) (map[string]json.RawMessage, error) {
		c := *m
		c.Inputs, c.Artifacts, c.Selectors, c.Planned = nil, nil, nil, nil
		b, err := json.Marshal(c)
		if err != nil {
			return nil, err
		}
		var out map[string]json.RawMessage
		return out, json.Unmarshal(b, &out)
	}
	h0, err := header(parts[0].m)
	if err != nil {
		return err
	}
	for _, p := range parts[1:] {
		h, err := header(p.m)
		if err != nil {
			return err
		}
		keys := slices.Sorted(maps.Keys(h0))
		for k := range h {
			if _, ok := h0[k]; !ok {
				keys = append(keys, k)
			}
		}
		for _, k := range keys {
			if string(h0[k]) != string(h[k]) {
				return fmt.Errorf("%s and %s describe different releases: their manifests differ in %s (%s vs %s); build every partial from the same configuration, version and relpack",
					parts[0].dir, p.dir, k, short(h0[k]), short(h[k]))
			}
		}
	}
	return nil
}

func short(b []byte) string {
	if len(b) == 0 {
		return "absent"
	}
	if len(b) > 80 {
		return string(b[:77]) + "..."
	}
	return string(b)
}

func dirList(parts []*partial) string {
	var ds []string
	for _, p := range parts {
		ds = append(ds, p.dir)
	}
	return strings.Join(ds, ", ")
}

// withSBOMs lists arts and, after each, its SBOMs as files of the same
// kind (a name, a size, a sha256), for the checks and copies that treat
// them alike.
func withSBOMs(arts []manifest.Artifact) []manifest.Artifact {
	var out []manifest.Artifact
	for _, a := range arts {
		out = append(out, a)
		for _, s := range a.SBOMs {
			out = append(out, manifest.Artifact{File: s.File, Size: s.Size, SHA256: s.SHA256})
		}
	}
	return out
}

// copyVerified copies dir/a.File into stage, hashing what it copies, and
// refuses a file whose size or sha256 is not the manifest's: the published
// bytes are the verified bytes.
func copyVerified(ctx context.Context, dir string, a manifest.Artifact, stage string) error {
	src := filepath.Join(dir, a.File)
	f, _, err := regular.Open(src)
	if err != nil {
		return fmt.Errorf("%s: %w", src, err)
	}
	defer f.Close()
	h := sha256.New()
	var n int64
	err = pack.WriteFileAtomic(filepath.Join(stage, a.File), func(w io.Writer) error {
		var err error
		n, err = io.Copy(io.MultiWriter(w, h), ctxio.Reader(ctx, f))
		return err
	})
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("copying %s: %w", src, err)
	}
	if sum := hex.EncodeToString(h.Sum(nil)); n != a.Size || sum != a.SHA256 {
		return fmt.Errorf("%s does not match %s/manifest.json (sha256 %s, %d bytes; the manifest records %s, %d bytes): the file is not the one relpack build wrote; copy the partial release again",
			src, dir, sum, n, a.SHA256, a.Size)
	}
	return nil
}
