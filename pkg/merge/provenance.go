package merge

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"relpack/internal/regular"
	"relpack/pkg/provenance"
	"relpack/pkg/release"
)

// maxProvenance bounds a partial's statement (releaseverify's limit).
const maxProvenance = 4 << 20

// The merged release's provenance is written as a single build writes
// it: one statement whose subjects are every artifact and SBOM of the
// merged release, with no selectors, and whose inputs are every partial's.
// The partials' statements were verified (signature, subjects) with the
// partials; they are read here for what a build knows and a merge does
// not (the configuration file and its sha256, the tool, the builder id),
// and then dropped.

// mergeProvenance reads parts (verified) and arts; it adds the merged
// statement (nil when the partials have none). The partials must agree on
// everything the statement records of the build.
func (j *job) mergeProvenance() error {
	var has []bool
	var rels []provenance.Release
	for _, p := range j.parts {
		has = append(has, p.m.Provenance != nil)
		if p.m.Provenance == nil {
			continue
		}
		st, err := readStatement(p.dir, p.m.Provenance.File)
		if err != nil {
			return err
		}
		rels = append(rels, st.Release)
	}
	if len(rels) == 0 {
		return nil
	}
	if len(rels) != len(j.parts) {
		return fmt.Errorf("%s: some partials hold a provenance statement and some do not; build every partial with the same relpack", dirList(j.parts))
	}
	r := rels[0]
	for i, o := range rels[1:] {
		if d := provenanceDiff(r, o); d != "" {
			return fmt.Errorf("the partials' provenance statements differ in %s (%s and %s): build every partial from the same packaging.yaml, with the same relpack and builder id",
				d, j.parts[0].dir, j.parts[i+1].dir)
		}
	}
	r.Selectors = nil
	r.Subjects = release.ProvenanceSubjects(j.arts)
	r.Inputs = nil
	for _, o := range rels {
		r.Inputs = append(r.Inputs, o.Inputs...)
	}
	r.Inputs = release.SortProvenanceInputs(r.Inputs)
	j.prov = &r
	return nil
}

// provenanceDiff names the first field of a statement's build that a and
// b record differently, "" when none.
func provenanceDiff(a, b provenance.Release) string {
	for _, f := range []struct{ name, a, b string }{
		{"product", a.Product, b.Product},
		{"version", a.Version, b.Version},
		{"release", a.Release, b.Release},
		{"configuration file", a.ConfigFile, b.ConfigFile},
		{"configuration sha256", a.ConfigSHA256, b.ConfigSHA256},
		{"configuration digest", a.ConfigDigest, b.ConfigDigest},
		{"tool", a.Tool, b.Tool},
		{"tool commit", a.ToolCommit, b.ToolCommit},
		{"tool Go version", a.ToolGo, b.ToolGo},
		{"builder id", a.BuilderID, b.BuilderID},
		{"source date epoch", fmt.Sprint(a.SourceDateEpoch), fmt.Sprint(b.SourceDateEpoch)},
	} {
		if f.a != f.b {
			return f.name
		}
	}
	return ""
}

// readStatement reads dir's statement name, bounded, held to the sha256
// dir's SHA256SUMS records for it.
func readStatement(dir, name string) (*provenance.Statement, error) {
	p := filepath.Join(dir, name)
	b, err := regular.ReadFile(p, maxProvenance, "a provenance statement")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	want, err := listedSum(dir, name)
	if err != nil {
		return nil, err
	}
	if s := sha256.Sum256(b); hex.EncodeToString(s[:]) != want {
		return nil, fmt.Errorf("%s does not match its SHA256SUMS: the partial release was changed after relpack wrote it", p)
	}
	st, err := provenance.Read(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return st, nil
}

// listedSum is the sha256 dir's SHA256SUMS records for name.
func listedSum(dir, name string) (string, error) {
	sp := filepath.Join(dir, "SHA256SUMS")
	f, _, err := regular.Open(sp)
	if err != nil {
		return "", fmt.Errorf("%s holds no SHA256SUMS (%v): it is not a finished partial release", dir, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(io.LimitReader(f, 1<<20))
	for sc.Scan() {
		if sum, n, ok := strings.Cut(sc.Text(), "  "); ok && n == name {
			return sum, nil
		}
	}
	return "", fmt.Errorf("%s does not list %s: the partial release was changed after relpack wrote it", sp, name)
}

// writeProvenance reads prov and stage: writes the merged statement into
// stage (signed with the sums) and adds it to staged.
func (j *job) writeProvenance() error {
	if j.prov == nil {
		return nil
	}
	if err := release.WriteProvenance(j.stage, j.prov); err != nil {
		return err
	}
	j.staged = append(j.staged, provenance.FileName)
	return nil
}
