// Package releaseverify checks a release folder (relpack build --out) the
// way a user who downloaded it would, before anything trusts it: the
// OpenPGP signature SHA256SUMS.asc over SHA256SUMS against a key the
// caller chooses, every file SHA256SUMS and manifest.json list against
// both, and every deb and rpm against its own metadata, its digests and
// its package signature. One verifier serves relpack verify-release,
// relpack repo (before it signs indexes that list the packages) and
// relpack merge (before it signs the sums of the partials it joins);
// docs/verify-release.md.
//
// Everything a release folder holds is hostile input: files are opened
// without following symbolic links, only regular files are read, every
// read is bounded or streamed (a data.tar is never held in memory), and a
// refusal names the file and what differs.
package releaseverify

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"

	"github.com/ProtonMail/go-crypto/openpgp"

	"relpack/internal/ctxio"
	"relpack/internal/pipeline"
	"relpack/pkg/manifest"
)

// Limits of the small files of a release. A release's SHA256SUMS lists a
// few dozen files; a manifest is tens of KiB; a key or signature a few KiB.
const (
	maxSums      = 1 << 20
	maxManifest  = 16 << 20
	maxKey       = 1 << 20
	maxSignature = 64 << 10
)

// Trust says what the key that checked SHA256SUMS.asc proves.
const (
	// TrustKey: the key the caller gave (--key, packaging.yaml's signing
	// key): the release comes from its holder.
	TrustKey = "key"
	// TrustReleaseKey: the release's own KEY.asc. It proves the files are
	// intact and consistent with each other, not who made them: whoever
	// can replace the files can replace KEY.asc too.
	TrustReleaseKey = "release-key"
	// TrustNone: no signature was checked (an unsigned release accepted
	// by the caller).
	TrustNone = "none"
)

// Options are the inputs of one verification.
type Options struct {
	// Dir is the release folder.
	Dir string
	// Keyring holds the public key the release must be signed by; nil
	// when the caller has none (see ReleaseKey).
	Keyring openpgp.EntityList
	// KeyName names where Keyring came from, for messages ("--key
	// pub.asc", "packaging.yaml's signing key").
	KeyName string
	// ReleaseKey, with no Keyring, checks the signatures with Dir/KEY.asc
	// (Trust is then TrustReleaseKey).
	ReleaseKey bool
	// AllowUnsigned accepts a release whose manifest records no signing
	// and which has no SHA256SUMS.asc; every other check still runs. A
	// release whose manifest says it is signed must always verify.
	AllowUnsigned bool
	// UnsignedHint ends the refusal of an unsigned release ("pass
	// --allow-unsigned-release to publish it anyway").
	UnsignedHint string
	// Partial expects a partial release (relpack build --only), as merge
	// reads; otherwise a partial release is refused.
	Partial bool
	// Product, when set (packaging.yaml's name), is the only product the
	// release may be of.
	Product string
	// Context stops the verification (Ctrl-C); nil: none.
	Context context.Context
}

// Report is what a verification found (relpack verify-release --json;
// docs/verify-release.md).
type Report struct {
	Dir     string `json:"dir"`
	Product string `json:"product"`
	Version string `json:"version"`
	Partial bool   `json:"partial,omitempty"`
	// ManifestSHA256 is the sha256 of the manifest.json verified.
	ManifestSHA256 string `json:"manifest_sha256"`
	// Signed: the manifest records a signing key.
	Signed bool `json:"signed"`
	// SignatureVerified: SHA256SUMS.asc is a good signature of SHA256SUMS
	// by SignedBy, with the key Trust names.
	SignatureVerified bool   `json:"signature_verified"`
	SignedBy          string `json:"signed_by,omitempty"`
	UserID            string `json:"user_id,omitempty"`
	Trust             string `json:"trust"`
	// OriginVerified: the signature was checked with a key the caller
	// gave, so the release comes from that key's holder.
	OriginVerified bool               `json:"origin_verified"`
	Files          []FileReport       `json:"files"`
	Problems       []Problem          `json:"problems"`
	Warnings       []string           `json:"warnings"`
	Manifest       *manifest.Manifest `json:"-"`
}

// FileReport is one file of the release and what was checked of it.
type FileReport struct {
	File   string   `json:"file"`
	Kind   string   `json:"kind"` // manifest, or the artifact's kind (tarball, deb, rpm, debug-tarball, ddeb, debuginfo-rpm)
	Size   int64    `json:"size"`
	SHA256 string   `json:"sha256"`
	Checks []string `json:"checks"`
	OK     bool     `json:"ok"`
}

// Problem is one refusal: the file (a path under Dir) and what differs.
type Problem struct {
	File    string `json:"file"`
	Message string `json:"message"`
}

// Count is "1 problem" or "N problems".
func Count(n int) string {
	if n == 1 {
		return "1 problem"
	}
	return fmt.Sprintf("%d problems", n)
}

func (p Problem) String() string { return p.File + ": " + p.Message }

// OK reports whether the release is exactly what its signature (or, for
// an accepted unsigned release, its sums) vouches for.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

// Err is nil for a release that verified, else an error listing every
// problem, one per line.
func (r *Report) Err() error {
	if r.OK() {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "release %s does not verify (%s; nothing was written):", r.Dir, Count(len(r.Problems)))
	for _, p := range r.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	return errors.New(b.String())
}

// verifier carries one run's state: the options and the report, then what
// each check of verifyChecks adds for the checks after it.
type verifier struct {
	o       Options
	ctx     context.Context
	r       *Report
	keyring openpgp.EntityList // what checks signatures; nil: none (added by "check the signature of SHA256SUMS" with ReleaseKey)

	// added by "read SHA256SUMS"
	sumsData []byte            // its bytes, which SHA256SUMS.asc signs
	sums     map[string]string // file name to sha256
	order    []string          // the file names in SHA256SUMS's order

	// added by "read the manifest"
	m *manifest.Manifest
}

func (v *verifier) path(name string) string { return filepath.Join(v.o.Dir, name) }

func (v *verifier) fail(name, format string, args ...any) {
	v.r.Problems = append(v.r.Problems, Problem{File: v.path(name), Message: fmt.Sprintf(format, args...)})
}

// Verify checks the release in o.Dir. The error is for a release that
// could not be checked at all (no such folder, an I/O error, Ctrl-C);
// everything wrong with the release itself is a Problem of the report.
// The caller holds whatever lock keeps a build from writing Dir meanwhile.
func Verify(o Options) (*Report, error) {
	ctx := o.Context
	if ctx == nil {
		ctx = context.Background()
	}
	st, err := os.Stat(o.Dir)
	if err != nil {
		return nil, fmt.Errorf("release %s: %w (give the --out folder of relpack build)", o.Dir, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("release %s is not a folder; give the --out folder of relpack build", o.Dir)
	}
	v := &verifier{o: o, ctx: ctx, keyring: o.Keyring, r: &Report{Dir: o.Dir, Trust: TrustNone, Files: []FileReport{}, Problems: []Problem{}, Warnings: []string{}}}
	if err := v.run(); err != nil {
		return nil, err
	}
	return v.r, nil
}

var sumLineRE = regexp.MustCompile(`^([0-9a-f]{64})  ([A-Za-z0-9_][A-Za-z0-9._+~-]*)$`)

// verifyChecks are Verify's checks, in order. Each reads what the checks
// before it added to the verifier and records what is wrong with the
// release as problems of the report; one that returns errStop has found a
// problem that leaves the later checks nothing to hold the release to.
var verifyChecks = []pipeline.Stage[*verifier]{
	{Name: "read SHA256SUMS", Run: (*verifier).readSums},                             // adds sums: what everything else is held to
	{Name: "read the manifest", Run: (*verifier).readManifest},                       // held to SHA256SUMS, then parsed; adds m
	{Name: "check the kind of release", Run: (*verifier).checkKind},                  // partial or full, the product asked for
	{Name: "check the signature of SHA256SUMS", Run: (*verifier).checkSumsSignature}, // with the caller's key or KEY.asc; adds keyring
	{Name: "match SHA256SUMS and the manifest", Run: (*verifier).matchSums},          // every file listed in both, once
	{Name: "check every artifact", Run: (*verifier).checkArtifacts},                  // size, sha256, a deb's or rpm's own metadata
	{Name: "check every SBOM", Run: (*verifier).checkSBOMs},                          // size, sha256, the artifact it describes
	{Name: "check the provenance", Run: (*verifier).checkProvenance},                 // signature, subjects exactly the artifacts and SBOMs
}

// errStop ends the checks after a problem that leaves the later ones
// nothing to check; the problem is in the report.
var errStop = errors.New("verification stopped at a problem")

// stopAfter is fatal's result as a check's: its error, or errStop once
// the problem is recorded.
func stopAfter(err error) error {
	if err != nil {
		return err
	}
	return errStop
}

// run is Verify's body: the checks in order; an error means the release
// could not be checked. The checks watch v.ctx themselves (before each
// artifact and in every read), so the pipeline is given none.
func (v *verifier) run() error {
	err := pipeline.Run(nil, v, verifyChecks)
	if errors.Is(err, errStop) {
		return nil
	}
	return err
}

// readSums reads SHA256SUMS, the list everything else is held to, and
// adds its bytes, its sums and its order.
func (v *verifier) readSums() error {
	b, err := v.readSmall("SHA256SUMS", maxSums, "a SHA256SUMS")
	if err != nil {
		return stopAfter(v.fatal("SHA256SUMS", err, "it is not a finished relpack release (relpack build writes SHA256SUMS last)"))
	}
	sums, order, ok := v.parseSums(b)
	if !ok {
		return errStop
	}
	v.sumsData, v.sums, v.order = b, sums, order
	return nil
}

// readManifest reads manifest.json, holds it to SHA256SUMS, then parses
// the bytes whose sha256 was compared; it adds m and the report's
// manifest fields.
func (v *verifier) readManifest() error {
	mb, err := v.readSmall("manifest.json", maxManifest, "a manifest")
	if err != nil {
		return stopAfter(v.fatal("manifest.json", err, "give the --out folder of a finished relpack build"))
	}
	msum := sha256hex(mb)
	v.r.ManifestSHA256 = msum
	v.r.Files = append(v.r.Files, FileReport{File: "manifest.json", Kind: "manifest", Size: int64(len(mb)), SHA256: msum, Checks: []string{"sha256"}})
	switch want, listed := v.sums["manifest.json"]; {
	case !listed:
		v.fail("manifest.json", "SHA256SUMS does not list it, so nothing vouches for it; relpack build lists the manifest in SHA256SUMS")
		return errStop
	case want != msum:
		v.fail("manifest.json", "has sha256 %s, but SHA256SUMS records %s: the manifest was edited after the build", msum, want)
		return errStop
	}
	m, ok := v.parseManifest(mb)
	if !ok {
		return errStop
	}
	v.m, v.r.Manifest = m, m
	v.r.Product, v.r.Version, v.r.Partial, v.r.Signed = m.Product, m.Version, m.Partial, m.Signing != nil
	v.r.Files[0].OK = true
	return nil
}

// parseManifest parses manifest.json; ok is false when its problems were
// recorded.
func (v *verifier) parseManifest(mb []byte) (*manifest.Manifest, bool) {
	m, err := manifest.Parse(mb)
	var invalid *manifest.InvalidError
	if errors.As(err, &invalid) {
		for _, p := range invalid.Problems {
			v.fail("manifest.json", "%v", p)
		}
		if invalid.More > 0 {
			v.fail("manifest.json", "and %d more problems", invalid.More)
		}
		return nil, false
	}
	if err != nil {
		v.fail("manifest.json", "%v", err)
		return nil, false
	}
	return m, true
}

// checkKind holds the manifest to the kind of release the caller expects:
// partial or full, and of the caller's product.
func (v *verifier) checkKind() error {
	m := v.m
	switch {
	case m.Partial && !v.o.Partial:
		v.fail("manifest.json", "is a partial release (relpack build --only %s): join the partials first with relpack merge DIR... --out DIR, then use the merged folder", strings.Join(m.Selectors, " --only "))
	case !m.Partial && v.o.Partial:
		v.fail("manifest.json", "is a full release, not a partial one (no partial: true)")
	}
	if v.o.Product != "" && m.Product != v.o.Product {
		v.fail("manifest.json", "is a release of %s, but the configuration is %s's", m.Product, v.o.Product)
	}
	return nil
}

// matchSums holds SHA256SUMS and the manifest to each other: the manifest
// lists each artifact once, and every file SHA256SUMS lists is one of
// them (the other way round is checkArtifacts', with the sha256).
func (v *verifier) matchSums() error {
	byFile := map[string]*manifest.Artifact{}
	for i := range v.m.Artifacts {
		a := &v.m.Artifacts[i]
		if byFile[a.File] != nil {
			v.fail("manifest.json", "lists %s twice", a.File)
			continue
		}
		byFile[a.File] = a
	}
	for _, name := range sumsFiles(v.m) {
		byFile[name] = &manifest.Artifact{File: name}
	}
	for _, name := range v.order {
		if name != "manifest.json" && byFile[name] == nil {
			v.fail(name, "SHA256SUMS lists it, but manifest.json does not: it is not an artifact of the release")
		}
	}
	return nil
}

// checkArtifacts holds every artifact of the manifest to SHA256SUMS (the
// same sha256) and then to itself (checkArtifact).
func (v *verifier) checkArtifacts() error {
	v.checkDebugLinks()
	for i := range v.m.Artifacts {
		if err := v.ctx.Err(); err != nil {
			return err
		}
		a := &v.m.Artifacts[i]
		want, listed := v.sums[a.File]
		if !listed {
			v.fail(a.File, "manifest.json lists it, but SHA256SUMS does not, so no signature covers it")
			continue
		}
		if want != a.SHA256 {
			v.fail(a.File, "SHA256SUMS records sha256 %s, manifest.json records %s", want, a.SHA256)
			continue
		}
		if err := v.checkArtifact(a); err != nil {
			return err
		}
	}
	return nil
}

// fatal turns a failure to read one of the release's own files into a
// problem (the file is missing, not regular, a link, too large) or, for
// an I/O error or Ctrl-C, the error that stops the verification.
func (v *verifier) fatal(name string, err error, advice string) error {
	if err := v.ctx.Err(); err != nil {
		return err
	}
	var ue *unfitError
	switch {
	case errors.As(err, &ue):
		v.fail(name, "%s; %s", ue.msg, advice)
		return nil
	case errors.Is(err, os.ErrNotExist):
		v.fail(name, "is missing; %s", advice)
		return nil
	}
	return err
}

// parseSums reads SHA256SUMS as relpack writes it (pack.WriteSHA256SUMS):
// "SHA256  NAME" lines, names of the release's own grammar, each once.
func (v *verifier) parseSums(b []byte) (map[string]string, []string, bool) {
	sums := map[string]string{}
	var order []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	n := 0
	for sc.Scan() {
		n++
		m := sumLineRE.FindStringSubmatch(sc.Text())
		if m == nil {
			v.fail("SHA256SUMS", "line %d is not \"SHA256  FILE\" with a file name relpack writes (%.60q)", n, sc.Text())
			return nil, nil, false
		}
		if _, dup := sums[m[2]]; dup {
			v.fail("SHA256SUMS", "line %d lists %s a second time", n, m[2])
			return nil, nil, false
		}
		sums[m[2]] = m[1]
		order = append(order, m[2])
	}
	if err := sc.Err(); err != nil {
		// A line past bufio's 64 KiB: without this, the lines after it
		// were dropped (or the file called empty).
		v.fail("SHA256SUMS", "line %d: %v; relpack writes \"SHA256  FILE\" lines", n+1, err)
		return nil, nil, false
	}
	if len(sums) == 0 {
		v.fail("SHA256SUMS", "is empty")
		return nil, nil, false
	}
	return sums, order, true
}

// checkSumsSignature checks SHA256SUMS.asc over the bytes of SHA256SUMS
// read, with the caller's key or (ReleaseKey) the release's KEY.asc
// (loadKeyring adds it); what is wrong is a problem, never a stop.
func (v *verifier) checkSumsSignature() error {
	m := v.m
	asc, err := v.readSmall("SHA256SUMS.asc", maxSignature, "a signature")
	absent := errors.Is(err, os.ErrNotExist)
	switch {
	case absent && m.Signing == nil:
		if v.o.AllowUnsigned {
			v.r.Warnings = append(v.r.Warnings, fmt.Sprintf("%s %s is unsigned (no SHA256SUMS.asc): nothing vouches for its files but its own sums", m.Product, m.Version))
			return nil
		}
		hint := v.o.UnsignedHint
		if hint == "" {
			hint = "build it with relpack build --sign"
		}
		v.fail("SHA256SUMS.asc", "is missing: the release is unsigned, so nothing vouches for its files; %s", hint)
		return nil
	case absent:
		v.fail("SHA256SUMS.asc", "is missing, but manifest.json says the release is signed by %s: the signature was removed", m.Signing.Fingerprint)
		return nil
	case err != nil:
		var ue *unfitError
		if errors.As(err, &ue) {
			v.fail("SHA256SUMS.asc", "%s", ue.msg)
		} else {
			v.fail("SHA256SUMS.asc", "%v", err)
		}
		return nil
	}
	if m.Signing == nil {
		v.fail("SHA256SUMS.asc", "is there, but manifest.json records no signing key (relpack writes both or neither)")
		return nil
	}
	if !v.loadKeyring() {
		return nil
	}
	fp, uid, err := checkDetached(v.keyring, bytes.NewReader(v.sumsData), asc, true)
	if err != nil {
		v.fail("SHA256SUMS.asc", "is not a good signature of SHA256SUMS by %s: %v", v.keyDesc(), err)
		return nil
	}
	if fp != m.Signing.Fingerprint {
		v.fail("SHA256SUMS.asc", "is signed by %s, but manifest.json says the release is signed by %s", fp, m.Signing.Fingerprint)
		return nil
	}
	v.r.SignatureVerified, v.r.SignedBy, v.r.UserID = true, fp, uid
	v.r.OriginVerified = v.r.Trust == TrustKey
	v.r.Files = append(v.r.Files, FileReport{File: "SHA256SUMS.asc", Kind: "signature", Size: int64(len(asc)), SHA256: sha256hex(asc), Checks: []string{"openpgp signature of SHA256SUMS"}, OK: true})
	return nil
}

// loadKeyring settles the keyring that checks every signature: the
// caller's, else (ReleaseKey) the release's KEY.asc.
func (v *verifier) loadKeyring() bool {
	if v.keyring != nil {
		v.r.Trust = TrustKey
		return true
	}
	if !v.o.ReleaseKey {
		v.fail("SHA256SUMS.asc", "no public key to check it with; give the key the release must be signed by")
		return false
	}
	b, err := v.readSmall("KEY.asc", maxKey, "a public key")
	if err != nil {
		var ue *unfitError
		switch {
		case errors.As(err, &ue):
			v.fail("KEY.asc", "%s; give the publisher's key with --key", ue.msg)
		case errors.Is(err, os.ErrNotExist):
			v.fail("KEY.asc", "is missing and no key was given: nothing to check SHA256SUMS.asc with; give the publisher's key with --key")
		default:
			v.fail("KEY.asc", "%v", err)
		}
		return false
	}
	kr, err := ParsePublicKey(b, v.path("KEY.asc"))
	if err != nil {
		v.fail("KEY.asc", "%v", err)
		return false
	}
	v.keyring = kr
	v.r.Trust = TrustReleaseKey
	v.r.Warnings = append(v.r.Warnings, fmt.Sprintf("checked with the release's own KEY.asc (%s): this proves the files are intact and consistent, NOT who made them (whoever can replace the files can replace KEY.asc); give --key with the publisher's key, from a source you trust, to check the origin", fingerprints(kr)))
	return true
}

func (v *verifier) keyDesc() string {
	if v.r.Trust == TrustReleaseKey {
		return "the release's KEY.asc (" + fingerprints(v.keyring) + ")"
	}
	name := v.o.KeyName
	if name == "" {
		name = "the given key"
	}
	return name + " (" + fingerprints(v.keyring) + ")"
}

// checkArtifact holds one artifact to its recorded size and sha256 and,
// for a deb or rpm, to its own metadata and signatures. It opens the file
// once, without following a link, and reads every check from that
// descriptor.
func (v *verifier) checkArtifact(a *manifest.Artifact) error {
	f, size, err := v.openNoFollow(a.File)
	if err != nil {
		return v.fatal(a.File, err, "copy the whole release folder relpack build wrote")
	}
	defer f.Close()
	fr := FileReport{File: a.File, Kind: a.Kind, Size: size, Checks: []string{"sha256"}}
	defer func() { v.r.Files = append(v.r.Files, fr) }()
	h := sha256.New()
	if _, err := io.Copy(h, ctxio.Reader(v.ctx, io.NewSectionReader(f, 0, size))); err != nil {
		return v.ioErr(a.File, err)
	}
	fr.SHA256 = hex.EncodeToString(h.Sum(nil))
	before := len(v.r.Problems)
	switch {
	case size != a.Size:
		v.fail(a.File, "is %d bytes, but manifest.json records %d: it is not the file relpack build wrote", size, a.Size)
		return nil
	case fr.SHA256 != a.SHA256:
		v.fail(a.File, "has sha256 %s, but SHA256SUMS and manifest.json record %s: it was changed after the build", fr.SHA256, a.SHA256)
		return nil
	}
	checks, err := v.checkPackage(a, f, size)
	if err != nil {
		return err
	}
	fr.Checks = append(fr.Checks, checks...)
	fr.OK = len(v.r.Problems) == before
	return nil
}

// checkPackage holds a deb or rpm, read from f (size bytes, already held
// to its sha256), to its own metadata and signatures; problems go to the
// report. It returns the checks made; the error stops the verification
// (Ctrl-C, an I/O error). Other kinds have nothing more to check.
func (v *verifier) checkPackage(a *manifest.Artifact, f *os.File, size int64) ([]string, error) {
	pc := &pkgCheck{v: v, a: a, f: f, size: size}
	var err error
	// A ddeb is a deb, a debuginfo rpm an rpm: held to the same metadata,
	// digests and signatures, with their own names and fields.
	switch manifest.Format(a.Kind) {
	case "deb":
		err = pc.deb()
	case "rpm":
		err = pc.rpm()
	}
	return pc.checks, err
}

// ioErr is a read error of an artifact: Ctrl-C, or an I/O error that
// stops the verification.
func (v *verifier) ioErr(name string, err error) error {
	if cerr := v.ctx.Err(); cerr != nil {
		return cerr
	}
	return fmt.Errorf("%s: %w", v.path(name), err)
}

// unfitError is a file of the release that is not a regular file inside
// the folder (a link, a FIFO, a device) or is too large for its kind.
type unfitError struct{ msg string }

func (e *unfitError) Error() string { return e.msg }

// openNoFollow opens name inside Dir: a regular file, not a symbolic link
// (O_NOFOLLOW; a release holds its files, not links to elsewhere), opened
// non-blocking so a FIFO cannot hang the run.
func (v *verifier) openNoFollow(name string) (*os.File, int64, error) {
	if name != filepath.Base(name) || name == "." || name == ".." {
		return nil, 0, &unfitError{fmt.Sprintf("%q is not a file name inside the release folder", name)}
	}
	p := v.path(name)
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return nil, 0, &unfitError{"is a symbolic link: a release folder holds its files themselves, not links that could point anywhere"}
		}
		return nil, 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, 0, &unfitError{fmt.Sprintf("is not a regular file (mode %v)", st.Mode())}
	}
	return f, st.Size(), nil
}

// readSmall reads a small file of the release whole, at most limit bytes.
func (v *verifier) readSmall(name string, limit int64, what string) ([]byte, error) {
	f, size, err := v.openNoFollow(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if size > limit {
		return nil, &unfitError{fmt.Sprintf("is %d bytes, more than the %d bytes %s may hold", size, limit, what)}
	}
	b, err := io.ReadAll(io.LimitReader(ctxio.Reader(v.ctx, f), limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, &unfitError{fmt.Sprintf("grew past the %d bytes %s may hold while it was read", limit, what)}
	}
	return b, nil
}

func sha256hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func fingerprints(kr openpgp.EntityList) string {
	var fs []string
	for _, e := range kr {
		fs = append(fs, fmt.Sprintf("%X", e.PrimaryKey.Fingerprint))
	}
	slices.Sort(fs)
	return strings.Join(fs, ", ")
}
