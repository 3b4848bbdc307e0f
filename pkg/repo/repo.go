// Package repo turns relpack releases into a signed apt and dnf/yum
// repository tree that any static web server can serve (relpack repo,
// docs/repositories.md):
//
//	KEY.asc                                   the armoured public key
//	keys/FPR.asc                              every key that signed the tree
//	relpack-repo.json                         the record the indexes come from (State)
//	deb/pool/main/P/PRODUCT/FILE.deb          every deb, one pool for all suites
//	deb/pool/main/P/PRODUCT/FILE.deb.spdx.json its SBOMs beside it (.cdx.json too)
//	deb/dists/SUITE/...                       per deb target (pkg/repo/apt)
//	deb/PRODUCT-SUITE.sources, .list          apt set-up files
//	rpm/TARGET/ARCH/Packages/FILE.rpm         per rpm target and arch
//	rpm/TARGET/ARCH/repodata/...              (pkg/repo/rpmmd)
//	rpm/TARGET/PRODUCT.repo                   dnf set-up file
//	releases/VERSION/provenance.intoto.json   each release's provenance (+ .asc)
//
// Every run regenerates every index from the record, so the indexes list
// every package of every release added. The order of writes keeps the
// tree valid for a client at every moment: new pool files first (temporary
// name, then rename; an existing file is never replaced), then the index
// writers (which rename their top-level index last), then the record. On a
// writer's failure the previous indexes are written again and the pool
// files this run added are removed.
package repo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"relpack/internal/ctxio"
	"relpack/internal/pipeline"
	"relpack/pkg/config"
	"relpack/pkg/distro"
	"relpack/pkg/manifest"
	"relpack/pkg/releaseverify"
	"relpack/pkg/repo/apt"
	"relpack/pkg/repo/rpmmd"
	"relpack/pkg/sign"
)

// LockFile is flocked (exclusively) for the whole of a run.
const LockFile = ".relpack-repo.lock"

// Options are the inputs of one run.
type Options struct {
	// Dirs are release folders (relpack build --out).
	Dirs []string
	// Out is the repository tree; created when missing.
	Out string
	// URL is where Out will be served from.
	URL string
	// Config is packaging.yaml (-c): its targets name suites of inline
	// deb targets; its file name is used in messages about signing.
	Config *config.Config
	// Key signs the indexes (packaging.yaml's signing:); required.
	Key *sign.Key
	// Suites are --suite ID=NAME overrides of deb targets' suites.
	Suites map[string]string
	// RotateKey allows a key other than the one that signed Out before.
	RotateKey bool
	// AllowUnsignedRelease accepts releases built without --sign (no
	// SHA256SUMS.asc, no signing in the manifest); the Result and the
	// record say which (--allow-unsigned-release). Without it a release
	// is added only when its SHA256SUMS.asc verifies with Key.
	AllowUnsignedRelease bool
	// Context stops the run (Ctrl-C) between releases read, files copied
	// and indexes written; what was written is rolled back. nil: never.
	Context context.Context
}

// Result is what a run did (the --json output; docs/repositories.md).
type Result struct {
	Repo    string `json:"repo"`
	URL     string `json:"url"`
	Product string `json:"product"`
	Key     Key    `json:"key"`
	// Rotated is true when this run re-signed the tree with a new key.
	Rotated bool `json:"rotated,omitempty"`
	// Unchanged is true when every release given was already in the tree
	// and nothing was written.
	Unchanged bool `json:"unchanged"`
	// Added are the releases this run added; Present those given that the
	// tree already held, identical.
	Added   []ReleaseRef `json:"added"`
	Present []ReleaseRef `json:"present"`
	// Releases are every release the tree holds now.
	Releases []ReleaseRef    `json:"releases"`
	Suites   []SuiteResult   `json:"suites"`
	Repos    []RPMRepoResult `json:"repos"`
	// Files are the files this run wrote itself, relative to Repo, sorted
	// (the index writers' files are under each suite's and repo's index
	// folders).
	Files    []string `json:"files"`
	Warnings []string `json:"warnings"`
	// Unsigned are the releases of Added and Present whose signature was
	// not verified because they have none (--allow-unsigned-release).
	Unsigned []ReleaseRef `json:"unsigned"`
}

// ReleaseRef names a release.
type ReleaseRef struct {
	Product string `json:"product"`
	Version string `json:"version"`
}

// SuiteResult is one apt suite of the tree.
type SuiteResult struct {
	Suite    string   `json:"suite"`
	Target   string   `json:"target"`
	Arches   []string `json:"arches"`
	Packages int      `json:"packages"`
	Index    string   `json:"index"` // deb/dists/SUITE
	Sources  string   `json:"sources"`
	List     string   `json:"list"`
	// Debug is the suite's debug suite (SUITE-debug: the -dbgsym
	// packages), nil when its releases have none.
	Debug *DebugSuiteResult `json:"debug,omitempty"`
}

// DebugSuiteResult is the debug suite of an apt suite.
type DebugSuiteResult struct {
	Suite    string   `json:"suite"`
	Arches   []string `json:"arches"`
	Packages int      `json:"packages"`
	Index    string   `json:"index"` // deb/dists/SUITE-debug
	Sources  string   `json:"sources"`
	List     string   `json:"list"`
}

// RPMRepoResult is one rpm target of the tree.
type RPMRepoResult struct {
	Target   string   `json:"target"`
	Arches   []string `json:"arches"`
	Packages int      `json:"packages"`
	Dirs     []string `json:"dirs"` // rpm/TARGET/ARCH, each holding repodata/
	RepoFile string   `json:"repo_file"`
	BaseURL  string   `json:"baseurl"`
	// Debug is the target's debuginfo repository (its section of
	// RepoFile, disabled by default), nil when its releases have none.
	Debug *DebugRepoResult `json:"debug,omitempty"`
}

// DebugRepoResult is the debuginfo repository of an rpm target.
type DebugRepoResult struct {
	Repo     string   `json:"repo"` // the .repo section: PRODUCT-debuginfo
	Arches   []string `json:"arches"`
	Packages int      `json:"packages"`
	Dirs     []string `json:"dirs"` // rpm/TARGET/ARCH/debug, each holding repodata/
	BaseURL  string   `json:"baseurl"`
}

// stages are relpack repo's job, in order. Nothing is touched before
// "take the repository folder" (every release is verified first), which
// creates the folder and its lock file and removes a failed run's
// temporary files; nothing else is written before "copy the new pool
// files" (every file and index of the tree is held to the record first).
// From there to "write the indexes" a failure rolls the tree back
// (job.undo). The order of the writes keeps the tree valid for a client
// at every moment (the package comment).
var stages = []pipeline.Stage[*job]{
	{Name: "check the options", Run: (*job).checkOptions},              // --out, --url, signing key, --suite names
	{Name: "verify the releases", Run: (*job).verifyReleases},          // lock each, releaseverify with the tree's key
	{Name: "take the repository folder", Run: (*job).takeTree},         // create, lock, remove a failed run's temporary files
	{Name: "read the record", Run: (*job).readRecord},                  // relpack-repo.json, or a folder fit for a new tree
	{Name: "check the signing key", Run: (*job).checkKey},              // the tree's key, or --rotate-key
	{Name: "add the releases to the record", Run: (*job).addReleases},  // one product; new, or identical to the published
	{Name: "plan suites and rpm repositories", Run: (*job).plan},       // suites, rpm targets, date, signature warnings
	{Name: "check the pool", Run: (*job).checkPool},                    // recorded files in place, new files to copy
	{Name: "check the indexes", Run: (*job).checkTreeIndexes},          // the tree's indexes are the record's
	{Name: "stop when nothing changed", Run: (*job).stopWhenUnchanged}, // every release already there: nothing written
	{Name: "copy the new pool files", Run: (*job).copyPool},            // temporary name, sha256 checked, link into place
	{Name: "write the public key", Run: (*job).writeKey},               // keys/FPR.asc, KEY.asc
	{Name: "write the indexes", Run: (*job).writeIndexes},              // apt dists/SUITE (InRelease, Release.gpg), rpm repodata (repomd.xml.asc)
	{Name: "write the set-up files", Run: (*job).writeSetupFiles},      // deb .sources and .list, rpm .repo
	{Name: "write the record", Run: (*job).writeRecord},                // relpack-repo.json, last
	{Name: "report", Run: (*job).report},                               // the Result's files and lists
}

// Stages names relpack repo's stages, in the order Run runs them.
func Stages() []string { return pipeline.Names(stages) }

// errUnchanged ends a run that has nothing to write: Run returns its
// Result, with no error.
var errUnchanged = errors.New("nothing to write")

// job is one run of relpack repo: the options, and what each stage adds.
type job struct {
	o   Options
	ctx context.Context // o.Context, or one never done

	// added by "check the options"
	url string // o.URL without trailing slashes

	// added by "verify the releases": each release folder, verified and
	// locked (shared) until Run returns
	ins []*input

	// added by "take the repository folder": created, locked, released
	// by Run
	t *tree

	// added by "read the record": the tree's record, nil for a new tree
	old *State

	// added by "check the signing key": the Result, filled in by the
	// stages after it (Rotated: the tree moves to o.Key)
	res *Result

	// added by "add the releases to the record": the record this run
	// writes (its Suites and RPMRepos set by "plan suites and rpm
	// repositories")
	st *State

	// added by "plan suites and rpm repositories": the date of every
	// index, the newest release's SOURCE_DATE_EPOCH
	at time.Time

	// added by "check the pool": the pool files to copy, and the release
	// file each is copied from, by tree path
	copies []poolEntry
	src    map[string]string

	// added by "write the indexes": the index folders begun, for undo
	done []string
}

// Run adds the releases in o.Dirs to the tree o.Out.
func Run(o Options) (res *Result, err error) {
	j := &job{o: o, ctx: o.Context}
	if j.ctx == nil {
		j.ctx = context.Background()
	}
	defer func() {
		for _, in := range j.ins {
			in.lock.Close()
		}
	}()
	// A run that fails removes the lock file and the folders it created.
	defer func() {
		if j.t != nil {
			j.t.release(err != nil)
		}
	}()
	// No context for pipeline.Run: the stages look at j.ctx themselves,
	// where an interruption can be reported as such ("holds what it held
	// before") and, once the tree is written, rolled back.
	if err := pipeline.Run(nil, j, stages); err != nil && err != errUnchanged {
		return nil, err
	}
	return j.res, nil
}

// stopped is the error of a run interrupted (o.Context done) by err.
func (j *job) stopped(err error) error {
	return fmt.Errorf("interrupted (%w); %s holds what it held before", err, j.o.Out)
}

// undo rolls the tree back after cause (rollback) and says how the tree
// was left.
func (j *job) undo(cause error) error {
	msg := rollback(j.t, j.old, j.o.Key, j.at, j.done)
	if msg == "" {
		return cause
	}
	return fmt.Errorf("%w; %s", cause, msg)
}

// checkOptions reads the options; adds url. Nothing is touched yet.
func (j *job) checkOptions() error {
	o := j.o
	if len(o.Dirs) == 0 {
		return errors.New("no release folders given; name the --out folders of relpack build")
	}
	if o.Out == "" {
		return errors.New("no --out given: name the repository folder")
	}
	u, err := CheckURL(o.URL)
	if err != nil {
		return err
	}
	j.url = u
	if o.Key == nil {
		file := "packaging.yaml"
		if o.Config != nil && o.Config.File != "" {
			file = o.Config.File
		}
		return fmt.Errorf("%s has no signing: section, and a repository is always signed (apt and dnf refuse an unsigned one); add `signing: {key_file: PATH}` or `signing: {key_env: VARIABLE}` to %s (docs/signing.md), the key relpack build --sign uses", file, file)
	}
	for id, s := range o.Suites {
		if !suiteRE.MatchString(s) || len(s) > 64 {
			return fmt.Errorf("--suite %s=%s: %q is not an apt suite name: lower-case letters, digits, '.', '_' or '-' (e.g. bookworm)", id, s, s)
		}
	}
	return nil
}

// verifyReleases reads o.Dirs and o.Key; adds ins. Each release is
// verified as a user would (pkg/releaseverify) against the public part of
// the key that signs the tree, before the tree is touched, so a refused
// release leaves no --out and no lock file: the tree signs only what was
// verified.
func (j *job) verifyReleases() error {
	keyring, err := releaseverify.PublicKeyring(j.o.Key)
	if err != nil {
		return err
	}
	for _, d := range j.o.Dirs {
		if err := j.ctx.Err(); err != nil {
			return j.stopped(err)
		}
		in, err := readRelease(d, j.o, keyring)
		if err != nil {
			if j.ctx.Err() != nil {
				return j.stopped(j.ctx.Err())
			}
			return err
		}
		j.ins = append(j.ins, in)
	}
	return nil
}

// takeTree reads o.Out; adds t: the tree, created when missing, locked
// (one run at a time per tree), walked, a failed run's temporary files
// removed.
func (j *job) takeTree() error {
	t, err := openTree(j.o.Out)
	if err != nil {
		return err
	}
	j.t = t
	temps, err := t.scan()
	if err != nil {
		return err
	}
	return t.removeTemps(temps)
}

// readRecord reads t; adds old, the tree's record. A tree without one
// must hold nothing but what a failed first run leaves.
func (j *job) readRecord() error {
	old, err := j.t.readState()
	if err != nil {
		return err
	}
	j.old = old
	if old == nil {
		return j.t.checkFresh()
	}
	return nil
}

// checkKey reads old and o.Key; adds res, Rotated when the tree moves to
// a new key (only with --rotate-key: users trust the first one).
func (j *job) checkKey() error {
	o, old := j.o, j.old
	res := &Result{Repo: o.Out, URL: j.url, Key: Key{Fingerprint: o.Key.Fingerprint, KeyID: o.Key.KeyID, UserID: o.Key.UserID}, Added: []ReleaseRef{}, Present: []ReleaseRef{}, Files: []string{}, Warnings: []string{}, Unsigned: []ReleaseRef{}}
	if old != nil && old.Key.Fingerprint != o.Key.Fingerprint {
		if !o.RotateKey {
			return fmt.Errorf("%s is signed with key %s (%s), but %s's signing: key is %s: users trust the first one. To move the repository to the new key, run again with --rotate-key (docs/repositories.md, \"Rotating the signing key\"); otherwise sign with the repository's key",
				o.Out, old.Key.Fingerprint, StateFile, configFile(o.Config), o.Key.Fingerprint)
		}
		res.Rotated = true
	}
	j.res = res
	return nil
}

// addReleases reads old and ins; adds st, the record with every release
// given that the tree does not hold (res.Added; res.Present those it
// holds, identical; res.Unsigned those accepted unsigned).
func (j *job) addReleases() error {
	old, res := j.old, j.res
	st := &State{Schema: StateSchema, URL: j.url, Key: res.Key}
	if old != nil {
		st.Product = old.Product
		st.RetiredKeys = slices.Clone(old.RetiredKeys)
		if res.Rotated {
			st.RetiredKeys = append(st.RetiredKeys, old.Key.Fingerprint)
		}
		st.Releases = slices.Clone(old.Releases)
		st.Suites = slices.Clone(old.Suites)
		st.RPMRepos = slices.Clone(old.RPMRepos)
	}
	j.st = st
	given := map[string]*input{}
	for _, in := range j.ins {
		if err := j.addRelease(in, given); err != nil {
			return err
		}
	}
	sortReleases(st.Releases)
	return nil
}

// addRelease adds one release given to st, unless given (the releases
// given before it, by version) or the tree holds it.
func (j *job) addRelease(in *input, given map[string]*input) error {
	st, res := j.st, j.res
	if st.Product == "" {
		st.Product = in.m.Product
	}
	if in.m.Product != st.Product {
		where := "the repository holds"
		if j.old == nil {
			where = "the other releases given are of"
		}
		return fmt.Errorf("%s is a release of %s, but %s %s: one repository holds one product (its .repo and .sources files and keyring are named after it); publish %s into a repository of its own",
			in.dir, in.m.Product, where, st.Product, in.m.Product)
	}
	key := in.m.Version
	if prev, ok := given[key]; ok {
		if prev.rel.ManifestSHA256 != in.rel.ManifestSHA256 {
			return fmt.Errorf("%s and %s are both %s %s, with different manifests; give one of them", prev.dir, in.dir, in.m.Product, key)
		}
		return nil
	}
	given[key] = in
	if in.rel.UnsignedAccepted {
		res.Unsigned = append(res.Unsigned, ReleaseRef{in.m.Product, key})
		res.Warnings = append(res.Warnings, fmt.Sprintf("%s %s (%s) is unsigned: accepted with --allow-unsigned-release, so nothing but its own SHA256SUMS vouches for its packages; %s records it as unsigned_accepted", in.m.Product, key, in.dir, StateFile))
	}
	if i := slices.IndexFunc(st.Releases, func(r Release) bool { return r.Product == in.m.Product && r.Version == key }); i >= 0 {
		if err := sameRelease(j.o.Out, st.Releases[i], in); err != nil {
			return err
		}
		res.Present = append(res.Present, ReleaseRef{in.m.Product, key})
		return nil
	}
	st.Releases = append(st.Releases, in.rel)
	res.Added = append(res.Added, ReleaseRef{in.m.Product, key})
	return nil
}

// plan reads st, ins and o.Suites; adds st's suites, rpm repositories and
// SOURCE_DATE_EPOCH, at, and a warning for each release whose rpms dnf
// would refuse.
func (j *job) plan() error {
	st := j.st
	if err := planTargets(st, j.ins, j.o); err != nil {
		return err
	}
	for _, r := range st.Releases {
		st.SourceDateEpoch = max(st.SourceDateEpoch, r.SourceDateEpoch)
	}
	j.at = time.Unix(st.SourceDateEpoch, 0).UTC()
	j.res.Warnings = append(j.res.Warnings, rpmSignatureWarnings(st)...)
	return nil
}

// rpmSignatureWarnings names each release of st whose rpms dnf's
// gpgcheck=1 refuses: unsigned, or signed by a key the .repo files do
// not list.
func rpmSignatureWarnings(st *State) []string {
	var out []string
	for _, r := range st.Releases {
		if !slices.ContainsFunc(r.Artifacts, func(a Artifact) bool { return manifest.Format(a.Kind) == "rpm" }) {
			continue
		}
		switch r.SignedBy {
		case "":
			out = append(out, fmt.Sprintf("%s %s is unsigned: the .repo files set gpgcheck=1, so dnf refuses its rpms; build it with relpack build --sign and the repository's key", r.Product, r.Version))
		case st.Key.Fingerprint:
		default:
			if slices.Contains(st.RetiredKeys, r.SignedBy) {
				continue // the .repo files list the retired keys too
			}
			out = append(out, fmt.Sprintf("%s %s's rpms are signed by %s, not by the repository's key %s: dnf's gpgcheck=1 refuses them unless that key is imported too (rpm --import)", r.Product, r.Version, r.SignedBy, st.Key.Fingerprint))
		}
	}
	return out
}

// poolEntry is one file the tree holds for a release: a package, an
// SBOM beside it, or the release's provenance (releases/VERSION/); File
// is its name in the release folder.
type poolEntry struct {
	File, Path, SHA256 string
	Size               int64
}

// poolEntries lists every file the tree holds for r: each package, then
// its SBOMs, then the provenance.
func poolEntries(r Release) []poolEntry {
	var out []poolEntry
	for _, a := range r.Artifacts {
		out = append(out, poolEntry{a.File, a.Path, a.SHA256, a.Size})
		for _, f := range a.SBOMs {
			out = append(out, poolEntry{f.File, SBOMPath(a, f), f.SHA256, f.Size})
		}
	}
	for _, f := range r.Provenance {
		out = append(out, poolEntry{f.File, ReleaseDir(r.Version) + "/" + f.File, f.SHA256, f.Size})
	}
	return out
}

// checkPool reads st, res.Added, ins and the pool in t; adds copies and
// src. Every file of the record (packages, SBOMs, provenance) must be in
// place with its recorded bytes, and no new file may land on a different
// one.
func (j *job) checkPool() error {
	j.src = map[string]string{}
	for _, in := range j.ins {
		for _, a := range poolEntries(in.rel) {
			j.src[a.Path] = filepath.Join(in.dir, a.File)
		}
	}
	byPath := map[string]poolEntry{}
	for _, r := range j.st.Releases {
		isNew := slices.ContainsFunc(j.res.Added, func(x ReleaseRef) bool { return x.Version == r.Version })
		for _, a := range poolEntries(r) {
			if prev, ok := byPath[a.Path]; ok {
				if prev.SHA256 != a.SHA256 {
					return fmt.Errorf("%s: %s %s's %s differs from the file of that name another release put there (sha256 %s, recorded %s); a published file is never replaced: give the new build a new version",
						filepath.Join(j.o.Out, a.Path), r.Product, r.Version, a.File, a.SHA256, prev.SHA256)
				}
				continue
			}
			byPath[a.Path] = a
			missing, err := j.checkPoolFile(r, a, isNew)
			if err != nil {
				return err
			}
			if missing {
				j.copies = append(j.copies, a)
			}
		}
	}
	return nil
}

// checkPoolFile holds a's file in the pool to the record: missing is true
// when it is not there and belongs to a release this run adds.
func (j *job) checkPoolFile(r Release, a poolEntry, isNew bool) (missing bool, err error) {
	p := filepath.Join(j.o.Out, a.Path)
	sum, size, err := j.t.hash(a.Path, a.Size)
	switch {
	case os.IsNotExist(err) && isNew:
		return true, nil
	case os.IsNotExist(err):
		return false, fmt.Errorf("%s is missing, but %s lists it (%s %s): restore it from the release folder (its sha256 is %s)", p, StateFile, r.Product, r.Version, a.SHA256)
	case err != nil:
		return false, err
	case sum != a.SHA256 || size != a.Size:
		if isNew {
			return false, fmt.Errorf("%s already exists with sha256 %s, not %s's %s: a published file is never replaced; if no index lists it (a run that failed), remove it, otherwise give the new build a new version", p, sum, r.Version, a.SHA256)
		}
		return false, fmt.Errorf("%s has sha256 %s, but %s records %s (%s %s): it was changed outside relpack; restore it from the release folder", p, sum, StateFile, a.SHA256, r.Product, r.Version)
	}
	return false, nil
}

// checkTreeIndexes reads old, st and the indexes in t; adds nothing. The
// indexes users see must be the ones the record gives, or the ones this
// run writes (a run killed after some of its index writes).
func (j *job) checkTreeIndexes() error {
	if j.old == nil {
		return nil
	}
	return checkIndexes(j.t, j.old, j.st, j.o.Key)
}

// stopWhenUnchanged reads old, st and res; adds res.Unchanged, and ends
// the run (errUnchanged) when it would write nothing new: no release
// added, the same key, URL, suites and rpm repositories.
func (j *job) stopWhenUnchanged() error {
	old, st, res := j.old, j.st, j.res
	if old != nil && len(res.Added) == 0 && !res.Rotated && old.URL == j.url && sameTargets(old, st) {
		res.Unchanged = true
		fillResult(res, st)
		res.Files = []string{}
		return errUnchanged
	}
	return nil
}

// copyPool reads copies and src; adds the new pool files to the tree and
// res.Files. From here on the tree is written, and a failure undone.
func (j *job) copyPool() error {
	if err := j.ctx.Err(); err != nil {
		return j.stopped(err)
	}
	for _, a := range j.copies {
		if err := j.ctx.Err(); err != nil {
			return j.undo(j.stopped(err))
		}
		if err := copyVerified(j.ctx, j.src[a.Path], j.t, a); err != nil {
			return j.undo(err)
		}
		j.res.Files = append(j.res.Files, a.Path)
	}
	return nil
}

// writeKey reads o.Key; adds keys/FPR.asc and KEY.asc, its public part,
// to the tree and res.Files.
func (j *job) writeKey() error {
	pub, err := sign.PublicKey(j.o.Key)
	if err != nil {
		return j.undo(err)
	}
	for _, name := range []string{"keys/" + j.o.Key.Fingerprint + ".asc", "KEY.asc"} {
		if err := j.t.WriteFile(name, pub); err != nil {
			return j.undo(err)
		}
		j.res.Files = append(j.res.Files, name)
	}
	return nil
}

// writeIndexes reads st, at and o.Key; adds every index st gives to the
// tree, signed by its writer (apt: InRelease, Release.gpg; rpm-md:
// repomd.xml.asc), and done.
func (j *job) writeIndexes() error {
	for _, ix := range indexes(j.t, j.st, j.o.Key) {
		// Recorded before the write: a writer that fails may have renamed
		// some of its files already.
		if err := j.ctx.Err(); err != nil {
			return j.undo(j.stopped(err))
		}
		j.done = append(j.done, ix.dir)
		if err := ix.write(j.at); err != nil {
			return j.undo(err)
		}
		if failIndexForTest != nil {
			if err := failIndexForTest(ix.dir); err != nil {
				return j.undo(err)
			}
		}
	}
	return nil
}

// writeSetupFiles reads st; adds each suite's .sources and .list file and
// each rpm target's .repo file to the tree and res.Files.
func (j *job) writeSetupFiles() error {
	st, t := j.st, j.t
	for _, s := range st.Suites {
		if err := t.WriteFile(SourcesName(st.Product, s.Suite), []byte(SourcesFile(st, s.Suite))); err != nil {
			return err
		}
		if err := t.WriteFile(ListName(st.Product, s.Suite), []byte(ListFile(st, s.Suite))); err != nil {
			return err
		}
		j.res.Files = append(j.res.Files, SourcesName(st.Product, s.Suite), ListName(st.Product, s.Suite))
		if debugArches(st, s.Target, manifest.KindDdeb) == nil {
			continue
		}
		d := DebugSuite(s.Suite)
		if err := t.WriteFile(SourcesName(st.Product, d), []byte(SourcesFile(st, d))); err != nil {
			return err
		}
		if err := t.WriteFile(ListName(st.Product, d), []byte(ListFile(st, d))); err != nil {
			return err
		}
		j.res.Files = append(j.res.Files, SourcesName(st.Product, d), ListName(st.Product, d))
	}
	for _, r := range st.RPMRepos {
		if err := t.WriteFile(RepoFileName(st.Product, r.Target), []byte(RepoFile(st, r.Target))); err != nil {
			return err
		}
		j.res.Files = append(j.res.Files, RepoFileName(st.Product, r.Target))
	}
	return nil
}

// writeRecord reads st; adds relpack-repo.json to the tree and res.Files,
// last: the record of what the indexes now list.
func (j *job) writeRecord() error {
	b, err := j.st.Marshal()
	if err != nil {
		return err
	}
	if err := j.t.WriteFile(StateFile, b); err != nil {
		return err
	}
	j.res.Files = append(j.res.Files, StateFile)
	return nil
}

// report reads st and res; adds res's files in order and what the tree
// now holds.
func (j *job) report() error {
	sort.Strings(j.res.Files)
	fillResult(j.res, j.st)
	return nil
}

// failIndexForTest, set only by tests, fails a run right after the index
// writer of a folder has written it: the rollback tests need a writer
// failing mid-way, which a package can no longer cause (every release is
// verified, pkg/releaseverify, before anything is written).
var failIndexForTest func(dir string) error

func configFile(c *config.Config) string {
	if c == nil || c.File == "" {
		return "packaging.yaml"
	}
	return c.File
}

// checkFresh refuses to write into a folder that holds something other
// than a relpack repository's files (no relpack-repo.json: a new tree, or
// the leftovers of a first run that failed).
func (t *tree) checkFresh() error {
	d, err := t.Root().Open(".")
	if err != nil {
		return fmt.Errorf("repository %s: %w", t.dir, err)
	}
	defer d.Close()
	names, err := d.Readdirnames(-1) // bounded: scan counted them
	if err != nil {
		return fmt.Errorf("repository %s: %w", t.dir, err)
	}
	slices.Sort(names)
	for _, n := range names {
		switch n {
		case LockFile, "deb", "rpm", "keys", "releases", "KEY.asc":
			continue
		}
		return fmt.Errorf("%s holds %s but no %s: it is not a relpack repository; give an empty or new folder as --out", t.dir, n, StateFile)
	}
	return nil
}

// sameRelease accepts a release given again when it is the one the tree
// holds, and otherwise names the first file whose bytes differ.
func sameRelease(out string, have Release, in *input) error {
	if have.ManifestSHA256 == in.rel.ManifestSHA256 {
		return nil
	}
	got := map[string]poolEntry{}
	for _, a := range poolEntries(in.rel) {
		got[a.File] = a
	}
	// Packages first, then their SBOMs, then the provenance: the first
	// file whose published bytes differ.
	for _, a := range poolEntries(have) {
		if g, ok := got[a.File]; ok && g.SHA256 != a.SHA256 {
			return fmt.Errorf("%s %s is already in %s, and %s differs from the published file (sha256 %s, published %s): a published release is never replaced; give the new build a new version",
				have.Product, have.Version, out, filepath.Join(in.dir, a.File), g.SHA256, a.SHA256)
		}
	}
	return fmt.Errorf("%s %s is already in %s from another build (%s/manifest.json has sha256 %s, the published one %s): a published release is never replaced; give the new build a new version",
		have.Product, have.Version, out, in.dir, in.rel.ManifestSHA256, have.ManifestSHA256)
}

// planTargets sets the suite of every deb target and the list of rpm
// targets, with the architectures every release gives them.
func planTargets(st *State, ins []*input, o Options) error {
	names := map[string]string{}
	for _, in := range ins {
		for _, d := range in.m.Distros {
			names[d.ID] = d.Name
		}
	}
	debArches := map[string]map[string]bool{}
	rpmArches := map[string]map[string]bool{}
	for _, r := range st.Releases {
		for _, a := range r.Artifacts {
			if manifest.IsDebug(a.Kind) {
				continue // beside its package: the same target and arch
			}
			m := rpmArches
			if a.Kind == "deb" {
				m = debArches
			}
			if m[a.Distro] == nil {
				m[a.Distro] = map[string]bool{}
			}
			m[a.Distro][distro.ArchName(a.Arch, a.Kind)] = true
		}
	}
	for id := range o.Suites {
		if debArches[id] == nil {
			return fmt.Errorf("--suite %s=%s: no release given or published has deb packages for target %s; name a deb target (%s)", id, o.Suites[id], id, strings.Join(slices.Sorted(maps.Keys(debArches)), ", "))
		}
	}
	bySuite := map[string]string{}
	var suites []Suite
	for _, id := range slices.Sorted(maps.Keys(debArches)) {
		var have *Suite
		for i := range st.Suites {
			if st.Suites[i].Target == id {
				have = &st.Suites[i]
			}
		}
		name := o.Suites[id]
		switch {
		case have != nil && name != "" && name != have.Suite:
			return fmt.Errorf("--suite %s=%s: %s publishes %s as suite %s (%s), and a suite cannot be renamed under its users; drop --suite %s, or publish into a new repository", id, name, o.Out, id, have.Suite, StateFile, id)
		case have != nil:
			name = have.Suite
		case name != "":
		default:
			name = configSuite(o.Config, id)
		}
		if name == "" {
			return fmt.Errorf("deb target %s has no apt suite: it is not in relpack's catalogue and %s gives it no suite:; name one with --suite %s=NAME (its codename, e.g. bookworm) or add suite: to the target in packaging.yaml", id, configFile(o.Config), id)
		}
		if other, ok := bySuite[name]; ok {
			return fmt.Errorf("deb targets %s and %s would both be published as suite %s; give one another name with --suite %s=NAME", other, id, name, id)
		}
		bySuite[name] = id
		s := Suite{Suite: name, Target: id, Name: names[id], Arches: slices.Sorted(maps.Keys(debArches[id]))}
		if have != nil && s.Name == "" {
			s.Name = have.Name
		}
		suites = append(suites, s)
	}
	for _, s := range suites {
		if other, ok := bySuite[DebugSuite(s.Suite)]; ok {
			return fmt.Errorf("deb target %s is published as suite %s, the name of deb target %s's debug suite (the -dbgsym packages, as Debian's bookworm-debug); give %s another name with --suite %s=NAME", other, DebugSuite(s.Suite), s.Target, other, other)
		}
	}
	sort.Slice(suites, func(i, j int) bool { return suites[i].Suite < suites[j].Suite })
	st.Suites = suites
	st.RPMRepos = planRPMRepos(st, names, rpmArches)
	return nil
}

// planRPMRepos lists the rpm targets with their architectures (rpmArches),
// each named as the releases' distros (names) or, failing that, the
// record name it had.
func planRPMRepos(st *State, names map[string]string, rpmArches map[string]map[string]bool) []RPMRepo {
	var repos []RPMRepo
	for _, id := range slices.Sorted(maps.Keys(rpmArches)) {
		r := RPMRepo{Target: id, Name: names[id], Arches: slices.Sorted(maps.Keys(rpmArches[id]))}
		if r.Name == "" {
			for _, h := range st.RPMRepos {
				if h.Target == id {
					r.Name = h.Name
				}
			}
		}
		repos = append(repos, r)
	}
	return repos
}

// configSuite is the suite packaging.yaml's target id has (an inline
// target's suite:, or the catalogue's through it), else the catalogue's.
func configSuite(c *config.Config, id string) string {
	if c != nil {
		for _, t := range c.Targets {
			if t.ID == id && t.Suite != "" {
				return t.Suite
			}
		}
	}
	if d, ok := distro.Lookup(id); ok {
		return d.Suite
	}
	return ""
}

func sameTargets(a, b *State) bool {
	if len(a.Suites) != len(b.Suites) || len(a.RPMRepos) != len(b.RPMRepos) {
		return false
	}
	for i := range a.Suites {
		if a.Suites[i].Suite != b.Suites[i].Suite || a.Suites[i].Target != b.Suites[i].Target || !slices.Equal(a.Suites[i].Arches, b.Suites[i].Arches) {
			return false
		}
	}
	for i := range a.RPMRepos {
		if a.RPMRepos[i].Target != b.RPMRepos[i].Target || !slices.Equal(a.RPMRepos[i].Arches, b.RPMRepos[i].Arches) {
			return false
		}
	}
	return true
}

// index is one index the writers produce: an apt suite (deb/dists/SUITE)
// or an rpm repository (rpm/TARGET/ARCH), by its folder relative to the
// root. check holds the index in the tree to what write would write
// (apt.CheckSuite, rpmmd.CheckRepo).
type index struct {
	dir   string
	write func(at time.Time) error
	check func() error
}

// indexes lists the indexes of everything st records, apt suites first
// (sorted by suite; each followed by its debug suite when it has debug
// packages), then each rpm target and arch (each followed by its
// debuginfo repository when it has debuginfo rpms).
func indexes(t *tree, st *State, key *sign.Key) []index {
	var out []index
	for _, s := range st.Suites {
		out = append(out, aptIndex(t, st, s, s.Suite, "deb", key))
		if debugArches(st, s.Target, manifest.KindDdeb) != nil {
			out = append(out, aptIndex(t, st, s, DebugSuite(s.Suite), manifest.KindDdeb, key))
		}
	}
	for _, r := range st.RPMRepos {
		debug := debugArches(st, r.Target, manifest.KindDebuginfo)
		for _, arch := range r.Arches {
			out = append(out, rpmIndex(t, st, r.Target, arch, "rpm", key))
			if slices.Contains(debug, arch) {
				out = append(out, rpmIndex(t, st, r.Target, arch, manifest.KindDebuginfo, key))
			}
		}
	}
	return out
}

// debugArches are the architectures (as the package format names them)
// of target's debug packages of kind in st, sorted; nil when it has none.
func debugArches(st *State, target, kind string) []string {
	set := map[string]bool{}
	for _, r := range st.Releases {
		for _, a := range r.Artifacts {
			if a.Kind == kind && a.Distro == target {
				set[distro.ArchName(a.Arch, manifest.Format(kind))] = true
			}
		}
	}
	if len(set) == 0 {
		return nil
	}
	return slices.Sorted(maps.Keys(set))
}

// aptIndex is the index of apt suite name, holding s.Target's packages of
// kind: "deb" for the suite itself, manifest.KindDdeb for its debug suite
// (DebugSuite), which lists the debug packages only, under the arches they
// are built for.
func aptIndex(t *tree, st *State, s Suite, name, kind string, key *sign.Key) index {
	var pkgs []apt.Package
	for _, r := range st.Releases {
		for _, a := range r.Artifacts {
			if a.Kind == kind && a.Distro == s.Target {
				rel := strings.TrimPrefix(a.Path, "deb/")
				pkgs = append(pkgs, apt.Package{Root: t.Root(), Path: a.Path, Filename: rel})
			}
		}
	}
	sort.Slice(pkgs, func(i, j int) bool { return pkgs[i].Filename < pkgs[j].Filename })
	pkgs = slices.CompactFunc(pkgs, func(a, b apt.Package) bool { return a.Filename == b.Filename })
	suite := apt.Suite{
		Suite: name, Codename: name, Component: "main", Arches: s.Arches, Packages: pkgs,
		Origin: st.Product, Label: st.Product, Description: st.Product + " packages for " + s.Target,
	}
	if kind == manifest.KindDdeb {
		suite.Arches = debugArches(st, s.Target, kind)
		suite.Label = st.Product + " debug symbols"
		suite.Description = st.Product + " debug symbol packages (-dbgsym) for " + s.Target
	}
	dir := "deb/dists/" + name
	return index{dir, func(at time.Time) error {
		if err := apt.WriteSuiteIn(t.Sub("deb"), suite, apt.Options{Date: at, Key: key}); err != nil {
			return fmt.Errorf("writing %s: %w", filepath.Join(t.dir, dir), err)
		}
		return nil
	}, func() error { return apt.CheckSuite(t.Sub("deb"), suite) }}
}

// rpmIndex is the rpm-md repository of target's packages of kind for
// arch: "rpm" at rpm/TARGET/ARCH, manifest.KindDebuginfo at DebugRepoDir.
func rpmIndex(t *tree, st *State, target, arch, kind string, key *sign.Key) index {
	dir := "rpm/" + target + "/" + arch
	if kind == manifest.KindDebuginfo {
		dir = DebugRepoDir(target, arch)
	}
	var pkgs []rpmmd.Package
	for _, rel := range st.Releases {
		for _, a := range rel.Artifacts {
			if a.Kind == kind && a.Distro == target && distro.ArchName(a.Arch, "rpm") == arch {
				pkgs = append(pkgs, rpmmd.Package{Root: t.Root(), Path: a.Path, Href: "Packages/" + a.File})
			}
		}
	}
	sort.Slice(pkgs, func(i, j int) bool { return pkgs[i].Href < pkgs[j].Href })
	pkgs = slices.CompactFunc(pkgs, func(a, b rpmmd.Package) bool { return a.Href == b.Href })
	return index{dir, func(at time.Time) error {
		if err := rpmmd.WriteRepoIn(t.Sub(dir), pkgs, rpmmd.Options{Time: at, Key: key}); err != nil {
			return fmt.Errorf("writing %s: %w", filepath.Join(t.dir, dir, "repodata"), err)
		}
		return nil
	}, func() error { return rpmmd.CheckRepo(t.Sub(dir), pkgs) }}
}

// checkIndexes holds every index of the previous record to the files in
// the tree, before anything is added: each must be what old gives (its
// date aside: a rolled-back run dates them later), or what next gives (a
// run killed after writing some indexes, before its record). Otherwise
// the record is not the one the indexes were written from (copied from
// another tree, or the tree edited by hand), and adding to it would
// publish what the record lists, not what users see; the error names the
// file that differs.
func checkIndexes(t *tree, old, next *State, key *sign.Key) error {
	alt := map[string]index{}
	for _, ix := range indexes(t, next, key) {
		alt[ix.dir] = ix
	}
	for _, ix := range indexes(t, old, key) {
		err := ix.check()
		if err == nil {
			continue
		}
		if a, ok := alt[ix.dir]; ok && a.check() == nil {
			continue
		}
		return fmt.Errorf("%s does not match the tree's indexes: %v. The indexes were not written from this record (a record copied from another tree, or a tree changed by hand), and adding to it would publish what the record lists, not what users get now; nothing was written. Restore the tree (record and indexes) from a backup, or build a new tree from the releases: relpack repo RELEASE... --out NEW-FOLDER",
			filepath.Join(t.dir, StateFile), err)
	}
	return nil
}

// rollback puts the tree back after a writer failed: each index this run
// had begun to rewrite that the previous record has is written again from
// the previous record (dated at, this run's date: apt clients ignore a
// Release older than the one they hold, so a date never goes back; with
// the same date the bytes are the previous ones), and everything else
// this run created is removed, newest first (a new index's top-level file
// before the files it lists, files before their folders), each only while
// it is still the file or folder this run created (rootfs.Tree.Undo:
// nothing outside the tree, nothing someone else put there). It returns
// "" when the tree is as before, or what it holds now.
func rollback(t *tree, old *State, key *sign.Key, at time.Time, done []string) string {
	prev := map[string]index{}
	if old != nil {
		for _, ix := range indexes(t, old, key) {
			prev[ix.dir] = ix
		}
	}
	var rewritten []string
	for _, dir := range done {
		if ix, ok := prev[dir]; ok {
			rewritten = append(rewritten, dir+"/")
			if err := ix.write(at); err != nil {
				return fmt.Sprintf("writing the previous %s again failed too (%v); every index lists only files the tree holds, this run's new pool files are kept", dir, err)
			}
		}
	}
	// Kept: what this run wrote into the indexes it restored (by-hash and
	// repodata files a client holding the failed run's index may fetch),
	// and every file it replaced outside a new index (KEY.asc).
	newIndex := func(name string) bool {
		for _, dir := range done {
			if _, ok := prev[dir]; !ok && strings.HasPrefix(name, dir+"/") {
				return true
			}
		}
		return false
	}
	left := t.Undo(func(name string, replaced bool) bool {
		for _, d := range rewritten {
			if strings.HasPrefix(name, d) {
				return true
			}
		}
		return replaced && !newIndex(name)
	})
	msg := ""
	if len(left) > 0 {
		msg = fmt.Sprintf("%s changed while relpack repo ran, so these were left: %s; ", t.dir, strings.Join(left, ", "))
	}
	if old != nil && old.Key.Fingerprint != key.Fingerprint {
		return msg + fmt.Sprintf("the tree was being moved to a new key: up to %d indexes are signed by it already, listing what they listed before; run relpack repo --rotate-key again to finish", len(rewritten))
	}
	if old == nil {
		return strings.TrimSuffix(msg, "; ")
	}
	return msg + fmt.Sprintf("%s lists what it listed before", t.dir)
}

// copyVerified copies a release file into the tree: a temporary file in
// the destination folder (pack.TempPattern), its sha256 checked against
// the record while it is written (the release folder could change after
// it was verified), then link(2) to the final name, which fails rather
// than replace a file another run put there in the meantime.
func copyVerified(ctx context.Context, src string, t *tree, a poolEntry) error {
	in, err := os.OpenFile(src, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return fmt.Errorf("copying %s: %w", src, err)
	}
	defer in.Close()
	if st, err := in.Stat(); err != nil || !st.Mode().IsRegular() {
		return fmt.Errorf("copying %s: not a regular file", src)
	}
	return t.CreateFile(a.Path, func(w io.Writer) error {
		h := sha256.New()
		if _, err := io.Copy(io.MultiWriter(w, h), ctxio.Reader(ctx, io.LimitReader(in, a.Size+1))); err != nil {
			return fmt.Errorf("copying %s: %w", src, err)
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != a.SHA256 {
			return fmt.Errorf("%s changed while it was copied (sha256 %s, its manifest records %s); copy the release again", src, got, a.SHA256)
		}
		return nil
	})
}

func fillResult(res *Result, st *State) {
	res.Product = st.Product
	res.Releases = []ReleaseRef{}
	for _, r := range st.Releases {
		res.Releases = append(res.Releases, ReleaseRef{r.Product, r.Version})
	}
	res.Suites = []SuiteResult{}
	for _, s := range st.Suites {
		sr := SuiteResult{Suite: s.Suite, Target: s.Target, Arches: s.Arches, Packages: countKind(st, s.Target, "deb"),
			Index: "deb/dists/" + s.Suite, Sources: SourcesName(st.Product, s.Suite), List: ListName(st.Product, s.Suite)}
		if arches := debugArches(st, s.Target, manifest.KindDdeb); arches != nil {
			d := DebugSuite(s.Suite)
			sr.Debug = &DebugSuiteResult{Suite: d, Arches: arches, Packages: countKind(st, s.Target, manifest.KindDdeb),
				Index: "deb/dists/" + d, Sources: SourcesName(st.Product, d), List: ListName(st.Product, d)}
		}
		res.Suites = append(res.Suites, sr)
	}
	res.Repos = []RPMRepoResult{}
	for _, r := range st.RPMRepos {
		rr := RPMRepoResult{Target: r.Target, Arches: r.Arches, RepoFile: RepoFileName(st.Product, r.Target), BaseURL: st.URL + "/rpm/" + r.Target + "/$basearch/", Dirs: []string{},
			Packages: countKind(st, r.Target, "rpm")}
		for _, a := range r.Arches {
			rr.Dirs = append(rr.Dirs, "rpm/"+r.Target+"/"+a)
		}
		if arches := debugArches(st, r.Target, manifest.KindDebuginfo); arches != nil {
			d := &DebugRepoResult{Repo: DebugRepoID(st.Product), Arches: arches, Packages: countKind(st, r.Target, manifest.KindDebuginfo),
				BaseURL: DebugBaseURL(st, r.Target)}
			for _, a := range arches {
				d.Dirs = append(d.Dirs, DebugRepoDir(r.Target, a))
			}
			rr.Debug = d
		}
		res.Repos = append(res.Repos, rr)
	}
}

// countKind counts the packages of kind st records for target.
func countKind(st *State, target, kind string) int {
	n := 0
	for _, r := range st.Releases {
		for _, a := range r.Artifacts {
			if a.Kind == kind && a.Distro == target {
				n++
			}
		}
	}
	return n
}
