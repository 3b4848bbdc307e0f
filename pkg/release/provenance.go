package release

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"relpack/pkg/manifest"
	"relpack/pkg/pack"
	"relpack/pkg/provenance"
	"relpack/pkg/sign"
)

// The release's provenance statement (pkg/provenance) records what made
// it: the configuration, the inputs as the user named them, the tool and
// the builder. Its subjects are every artifact and SBOM; the manifest,
// sums and signatures are not subjects (they are made after it, and the
// signature of SHA256SUMS covers them).

// builderID reads the builder identity packaging.yaml's provenance:
// builder_id_env names, before any work: "" when the key is absent; a key
// naming an unset or empty variable is refused, since the statement would
// silently lack what the configuration asks it to record.
func (j *job) builderID() (string, error) {
	env := j.cfg.Provenance.BuilderIDEnv
	if env == "" {
		return "", nil
	}
	v := os.Getenv(env)
	if v == "" {
		return "", fmt.Errorf("%s: provenance.builder_id_env names %s, which is not set or empty; export it (e.g. the CI workflow run's URL) or remove the key", j.cfg.Where("provenance.builder_id_env"), env)
	}
	if strings.ContainsAny(v, "\n\r\x00") || len(v) > 1000 {
		return "", fmt.Errorf("%s: the builder id in %s holds a line break or is over 1000 bytes; give a single-line URL such as the CI workflow run's", j.cfg.Where("provenance.builder_id_env"), env)
	}
	return v, nil
}

// ProvenanceSubjects are the subjects of a release of arts: every
// artifact and every SBOM with its sha256, sorted by name. A merge
// computes them as a build does, from the merged artifacts.
func ProvenanceSubjects(arts []manifest.Artifact) []provenance.Subject {
	var out []provenance.Subject
	for _, a := range arts {
		out = append(out, provenance.Subject{Name: a.File, SHA256: a.SHA256})
		for _, s := range a.SBOMs {
			out = append(out, provenance.Subject{Name: s.File, SHA256: s.SHA256})
		}
	}
	sort.Slice(out, func(i, k int) bool { return out[i].Name < out[k].Name })
	return out
}

// SortProvenanceInputs puts a statement's inputs in one order (path, then
// role, triple, sha256) and drops repeats, so a merge of partial builds
// records the inputs as a full build does.
func SortProvenanceInputs(in []provenance.Input) []provenance.Input {
	key := func(i provenance.Input) string {
		return i.Path + "\x00" + i.Role + "\x00" + i.Triple + "\x00" + i.SHA256
	}
	sort.SliceStable(in, func(a, b int) bool { return key(in[a]) < key(in[b]) })
	var out []provenance.Input
	for i, x := range in {
		if i == 0 || key(x) != key(in[i-1]) {
			out = append(out, x)
		}
	}
	return out
}

// provenanceInputs are the files the build read, as the user named them:
// every source the snapshot copied, with its role.
func (j *job) provenanceInputs() []provenance.Input {
	var out []provenance.Input
	for _, src := range j.snap.copies {
		in := provenance.Input{Path: src.Name, SHA256: src.SHA256, Role: "file"}
		switch {
		case strings.HasPrefix(src.What, "input "):
			in.Role, in.Triple = "input", strings.TrimPrefix(src.What, "input ")
		case strings.Contains(src.What, "libraries"):
			in.Role = "library"
		case src.What == "license_file":
			in.Role = "license"
		}
		out = append(out, in)
	}
	return SortProvenanceInputs(out)
}

// writeProvenance reads the written plan with its SBOMs, the copies, the
// configuration digest and the selection; it writes the release's
// provenance statement into the staging folder and adds the manifest's
// provenance record (its signature is made with the sums).
func (j *job) writeProvenance() error {
	var arts []manifest.Artifact
	for _, a := range j.plan {
		arts = append(arts, a.entry)
	}
	r := &provenance.Release{
		Subjects: ProvenanceSubjects(arts),
		Product:  j.cfg.Name, Version: j.ver.String(), Release: j.opts.Release,
		ConfigFile: j.cfg.File, ConfigSHA256: j.cfg.SHA256, ConfigDigest: j.digest,
		SourceDateEpoch: j.opts.Epoch, Inputs: j.provenanceInputs(),
		Tool: toolName(j.opts.Tool.Version), ToolCommit: j.opts.Tool.Commit, ToolGo: j.opts.Tool.Go,
		BuilderID: j.builder,
	}
	if j.sel != nil {
		r.Selectors = j.sel.given
	}
	if err := WriteProvenance(j.stage, r); err != nil {
		return err
	}
	j.m.Provenance = &manifest.Provenance{File: provenance.FileName}
	return nil
}

// WriteProvenance writes the statement of r into stage.
func WriteProvenance(stage string, r *provenance.Release) error {
	b, err := provenance.Marshal(r)
	if err != nil {
		return fmt.Errorf("writing the provenance statement: %w", err)
	}
	return pack.WriteFileAtomic(filepath.Join(stage, provenance.FileName), func(w io.Writer) error { _, err := w.Write(b); return err })
}

// SignProvenance writes provenance.intoto.json.asc into stage: an
// armoured detached signature of the statement, made at SOURCE_DATE_EPOCH
// like SHA256SUMS.asc, so it is reproducible. `gpg --verify
// provenance.intoto.json.asc provenance.intoto.json` checks it.
func SignProvenance(stage string, key *sign.Key, mtime time.Time) error {
	f, err := os.Open(filepath.Join(stage, provenance.FileName))
	if err != nil {
		return err
	}
	defer f.Close()
	if err := pack.WriteFileAtomic(filepath.Join(stage, provenance.FileName+".asc"), func(w io.Writer) error {
		return sign.DetachSignAt(key, f, w, mtime)
	}); err != nil {
		return fmt.Errorf("signing %s: %w", provenance.FileName, err)
	}
	return nil
}
