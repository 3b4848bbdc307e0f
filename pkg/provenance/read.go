package provenance

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
)

// MaxSize is the largest statement Read takes: a release's statement is
// a few kilobytes per artifact and input, so 16 MiB is thousands of times
// any real one, and a larger file is not a statement relpack wrote.
// Callers read the file with regular.ReadFile(path, MaxSize, ...).
const MaxSize = 16 << 20

// Statement is what Read recovers from a statement: its subjects, and the
// whole Release it was written from (Release.Subjects holds the same
// subjects).
type Statement struct {
	Subjects []Subject
	Release  Release
}

// Read parses a statement Marshal wrote and checks its shape: at most
// MaxSize bytes, one JSON value with no field relpack does not write, the
// in-toto Statement v1 type, the SLSA Provenance v1 predicate type,
// relpack's build type, and a Release that Marshal accepts (every digest a
// sha256, no subject twice). Last, the bytes must be the ones Marshal
// writes for that Release, so a statement edited by hand (reordered,
// reindented, a key given twice) is refused even where it would parse.
// Read(Marshal(r)) gives r back with its lists sorted as Marshal writes
// them (an empty list reads back as nil). Read does not check a
// signature; verify the .asc first.
func Read(b []byte) (*Statement, error) {
	if len(b) > MaxSize {
		return nil, fmt.Errorf("provenance statement is %d bytes, more than the %d a statement relpack writes can be", len(b), MaxSize)
	}
	st, err := decode(b)
	if err != nil {
		return nil, fmt.Errorf("provenance statement: %w", err)
	}
	parsed, err := st.release()
	if err != nil {
		return nil, fmt.Errorf("provenance statement: %w", err)
	}
	// Sorted, so that check sees a name listed twice even when the two
	// are apart, and the comparison below refuses any other order.
	r := sorted(parsed)
	if err := r.check(); err != nil {
		return nil, fmt.Errorf("provenance statement: %w", err)
	}
	want, err := encode(r.statement())
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(b, want) {
		return nil, fmt.Errorf("provenance statement is not byte for byte as relpack writes it (first difference at byte %d); it was changed after it was written", firstDiff(b, want))
	}
	// Subjects is a list of its own, so changing one leaves the other.
	return &Statement{Subjects: slices.Clone(r.Subjects), Release: *r}, nil
}

// decode reads exactly one JSON object into the statement's fields,
// refusing fields relpack does not write and anything after the object.
func decode(b []byte) (*statementJSON, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var st statementJSON
	if err := dec.Decode(&st); err != nil {
		return nil, fmt.Errorf("not a statement relpack writes: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("more data after the statement's JSON object")
	}
	return &st, nil
}

// release checks the type URIs and turns the statement's JSON back into
// the Release it was written from.
func (st *statementJSON) release() (*Release, error) {
	switch {
	case st.Type != StatementType:
		return nil, fmt.Errorf("_type is %q, not an in-toto Statement v1 (%s)", st.Type, StatementType)
	case st.PredicateType != PredicateType:
		return nil, fmt.Errorf("predicateType is %q, not SLSA Provenance v1 (%s)", st.PredicateType, PredicateType)
	}
	bd, rd := st.Predicate.BuildDefinition, st.Predicate.RunDetails
	if bd.BuildType != BuildType {
		return nil, fmt.Errorf("buildType is %q, not relpack's %s", bd.BuildType, BuildType)
	}
	if rd.Builder.ID == "" {
		return nil, errors.New("runDetails.builder.id is empty; SLSA requires it")
	}
	ep := bd.ExternalParameters
	r := &Release{
		Product: ep.Product, Version: ep.Version, Release: ep.Release,
		ConfigFile: ep.Config.Path, ConfigSHA256: ep.Config.SHA256,
		ConfigDigest:    bd.InternalParameters.ConfigDigest,
		Selectors:       ep.Selectors,
		SourceDateEpoch: ep.SourceDateEpoch,
		Tool:            rd.Builder.Version.Relpack,
		ToolCommit:      rd.Builder.Version.Commit,
		ToolGo:          rd.Builder.Version.Go,
		BuilderID:       rd.Builder.ID,
	}
	if r.BuilderID == LocalBuilderID {
		r.BuilderID = ""
	}
	for _, s := range st.Subject {
		if s.Annotations != nil {
			return nil, fmt.Errorf("subject %q has annotations; relpack writes none", s.Name)
		}
		r.Subjects = append(r.Subjects, Subject{Name: s.Name, SHA256: s.Digest.SHA256})
	}
	for _, d := range bd.ResolvedDependencies {
		if d.Annotations == nil {
			return nil, fmt.Errorf("resolved dependency %q has no annotations (role, triple)", d.Name)
		}
		r.Inputs = append(r.Inputs, Input{Path: d.Name, SHA256: d.Digest.SHA256,
			Role: d.Annotations.Role, Triple: d.Annotations.Triple})
	}
	return r, nil
}

func firstDiff(a, b []byte) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}
