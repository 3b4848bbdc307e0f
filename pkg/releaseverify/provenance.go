package releaseverify

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"

	"relpack/pkg/manifest"
	"relpack/pkg/provenance"
	"relpack/pkg/sbom"
)

// Limits of an SBOM and a provenance statement: an SBOM lists an
// artifact's files and a binary's few hundred components (tens of KiB); a
// statement lists a release's artifacts and inputs.
const (
	maxSBOM       = 16 << 20
	maxProvenance = 4 << 20
)

// sumsFiles are the files besides the artifacts that SHA256SUMS lists
// and the manifest accounts for: each artifact's SBOMs, the provenance
// statement and its signature.
func sumsFiles(m *manifest.Manifest) []string {
	var out []string
	for _, a := range m.Artifacts {
		for _, s := range a.SBOMs {
			out = append(out, s.File)
		}
	}
	if p := m.Provenance; p != nil {
		out = append(out, p.File)
		if p.Signature != "" {
			out = append(out, p.Signature)
		}
	}
	return out
}

// checkSBOMs holds every SBOM the manifest lists to SHA256SUMS and the
// manifest (size, sha256), then to its artifact: the artifact it
// describes (sbom.ReadSubject) is its own, with the artifact's sha256.
func (v *verifier) checkSBOMs() error {
	for _, a := range v.m.Artifacts {
		for _, s := range a.SBOMs {
			if err := v.ctx.Err(); err != nil {
				return err
			}
			if err := v.checkSBOM(a, s); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkSBOM checks one SBOM s of artifact a.
func (v *verifier) checkSBOM(a manifest.Artifact, s manifest.SBOM) error {
	b, ok, err := v.readListed(s.File, maxSBOM, "an SBOM", s.SHA256)
	if !ok {
		return err
	}
	fr := FileReport{File: s.File, Kind: "sbom", Size: int64(len(b)), SHA256: sha256hex(b), Checks: []string{"sha256", "describes " + a.File}}
	defer func() { v.r.Files = append(v.r.Files, fr) }()
	if int64(len(b)) != s.Size {
		v.fail(s.File, "is %d bytes, but manifest.json records %d: it is not the SBOM relpack build wrote", len(b), s.Size)
		return nil
	}
	file, sum, err := sbom.ReadSubject(s.File, b)
	var other *sbom.OtherArtifactError
	if errors.As(err, &other) {
		file, err = other.Describes, nil
	}
	switch {
	case err != nil:
		v.fail(s.File, "is not an SBOM relpack wrote: %v", err)
	case file != a.File:
		v.fail(s.File, "describes %s, not its artifact %s: it was changed or moved after the build", file, a.File)
	case sum != a.SHA256:
		v.fail(s.File, "describes %s with sha256 %s, but the artifact's is %s: the SBOM is not the artifact's", file, sum, a.SHA256)
	default:
		fr.OK = true
	}
	return nil
}

// readListed reads a small file of the release that SHA256SUMS and the
// manifest list with sha256 want; ok is false when a problem was
// recorded or err stops the verification.
func (v *verifier) readListed(name string, limit int64, what, want string) (b []byte, ok bool, err error) {
	listed, inSums := v.sums[name]
	switch {
	case !inSums:
		v.fail(name, "manifest.json lists it, but SHA256SUMS does not, so no signature covers it")
		return nil, false, nil
	case want != "" && listed != want:
		v.fail(name, "SHA256SUMS records sha256 %s, manifest.json records %s", listed, want)
		return nil, false, nil
	}
	b, err = v.readSmall(name, limit, what)
	if err != nil {
		return nil, false, v.fatal(name, err, "copy the whole release folder relpack build wrote")
	}
	if got := sha256hex(b); got != listed {
		v.fail(name, "has sha256 %s, but SHA256SUMS records %s: it was changed after the build", got, listed)
		return nil, false, nil
	}
	return b, true, nil
}

// checkProvenance holds the release's provenance statement to SHA256SUMS,
// its signature (made by the key that signed SHA256SUMS, checked with the
// same keyring) and the release: its subjects are exactly the artifacts
// and SBOMs with their sha256, and its product, version, configuration
// digest and selectors the manifest's.
func (v *verifier) checkProvenance() error {
	p := v.m.Provenance
	if p == nil {
		return nil // a release written before relpack wrote provenance
	}
	b, ok, err := v.readListed(p.File, maxProvenance, "a provenance statement", "")
	if !ok {
		return err
	}
	fr := FileReport{File: p.File, Kind: "provenance", Size: int64(len(b)), SHA256: sha256hex(b), Checks: []string{"sha256", "subjects"}}
	defer func() { v.r.Files = append(v.r.Files, fr) }()
	before := len(v.r.Problems)
	if p.Signature != "" {
		if err := v.checkProvenanceSignature(p, b); err != nil {
			return err
		}
		fr.Checks = append(fr.Checks, "openpgp signature")
	} else if _, err := os.Lstat(v.path(p.File + ".asc")); err == nil {
		v.fail(p.File+".asc", "is there, but manifest.json records no provenance signature (relpack writes both or neither)")
	}
	st, err := provenance.Read(b)
	if err != nil {
		v.fail(p.File, "is not a provenance statement relpack wrote: %v", err)
		return nil
	}
	v.matchSubjects(p.File, st.Subjects)
	v.matchRelease(p.File, st.Release)
	fr.OK = len(v.r.Problems) == before
	return nil
}

// checkProvenanceSignature checks the statement's detached signature with
// the keyring that checked SHA256SUMS.asc.
func (v *verifier) checkProvenanceSignature(p *manifest.Provenance, statement []byte) error {
	asc, ok, err := v.readListed(p.Signature, maxSignature, "a signature", "")
	if !ok {
		return err
	}
	if v.keyring == nil {
		// SHA256SUMS.asc could not be checked either: that problem is
		// in the report already.
		if len(v.r.Problems) == 0 {
			v.fail(p.Signature, "no public key to check it with; give the key the release must be signed by")
		}
		return nil
	}
	fp, _, err := checkDetached(v.keyring, bytes.NewReader(statement), asc, true)
	switch {
	case err != nil:
		v.fail(p.Signature, "is not a good signature of %s by %s: %v", p.File, v.keyDesc(), err)
	case v.m.Signing != nil && fp != v.m.Signing.Fingerprint:
		v.fail(p.Signature, "is signed by %s, but manifest.json says the release is signed by %s", fp, v.m.Signing.Fingerprint)
	default:
		v.r.Files = append(v.r.Files, FileReport{File: p.Signature, Kind: "signature", Size: int64(len(asc)), SHA256: sha256hex(asc), Checks: []string{"openpgp signature of " + p.File}, OK: true})
	}
	return nil
}

// matchSubjects holds the statement's subjects to the release: exactly
// its artifacts and SBOMs, each with its sha256. The differences are
// reported in one problem (a statement of another release differs in
// every subject), naming the first few.
func (v *verifier) matchSubjects(name string, subjects []provenance.Subject) {
	want := map[string]string{}
	for _, a := range v.m.Artifacts {
		want[a.File] = a.SHA256
		for _, s := range a.SBOMs {
			want[s.File] = s.SHA256
		}
	}
	var diffs []string
	got := map[string]bool{}
	for _, s := range subjects {
		sum, ok := want[s.Name]
		switch {
		case got[s.Name]:
			diffs = append(diffs, fmt.Sprintf("names the subject %s twice", s.Name))
		case !ok:
			diffs = append(diffs, fmt.Sprintf("names the subject %s, which is not an artifact or SBOM of the release", s.Name))
		case s.SHA256 != sum:
			diffs = append(diffs, fmt.Sprintf("records sha256 %s for %s, whose sha256 is %s", s.SHA256, s.Name, sum))
		}
		got[s.Name] = true
	}
	var missing []string
	for f := range want {
		if !got[f] {
			missing = append(missing, f)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		diffs = append(diffs, "does not name "+strings.Join(missing, ", ")+" among its subjects")
	}
	if len(diffs) == 0 {
		return
	}
	more := ""
	if len(diffs) > 3 {
		more = fmt.Sprintf(", and %d more differences", len(diffs)-3)
		diffs = diffs[:3]
	}
	v.fail(name, "%s%s: the statement is not this release's", strings.Join(diffs, "; "), more)
}

// matchRelease holds what the statement says of the release to the
// manifest.
func (v *verifier) matchRelease(name string, r provenance.Release) {
	m := v.m
	var diffs []string
	if r.Product != m.Product {
		diffs = append(diffs, fmt.Sprintf("product %q (manifest.json: %q)", r.Product, m.Product))
	}
	if r.Version != m.Version {
		diffs = append(diffs, fmt.Sprintf("version %q (manifest.json: %q)", r.Version, m.Version))
	}
	if r.ConfigDigest != m.ConfigDigest {
		diffs = append(diffs, fmt.Sprintf("configuration digest %q (manifest.json: %q)", r.ConfigDigest, m.ConfigDigest))
	}
	if !slices.Equal(r.Selectors, m.Selectors) {
		diffs = append(diffs, fmt.Sprintf("selectors %q (manifest.json: %q)", r.Selectors, m.Selectors))
	}
	// The relpack that made the release, as pkg/release writes it in both:
	// builder.version {relpack: "relpack VERSION", commit, go}.
	if t := m.Tool; t != nil && (r.Tool != t.Name+" "+t.Version || r.ToolCommit != t.Commit || r.ToolGo != t.Go) {
		diffs = append(diffs, fmt.Sprintf("tool %q, commit %q, go %q (manifest.json: %s)", r.Tool, r.ToolCommit, r.ToolGo, t))
	}
	if len(diffs) > 0 {
		v.fail(name, "records %s: the statement is not this release's", strings.Join(diffs, ", "))
	}
}
