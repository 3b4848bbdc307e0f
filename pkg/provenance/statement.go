package provenance

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// The two type URIs an in-toto Statement v1 with an SLSA Provenance v1
// predicate carries, as their specifications spell them.
const (
	StatementType = "https://in-toto.io/Statement/v1"
	PredicateType = "https://slsa.dev/provenance/v1"
)

// BuildType names what a relpack release build is and which parameters
// it records (externalParameters and internalParameters below; their
// meaning is documented in docs/sbom.md). SLSA asks for a URI that
// documents the build type. relpack has no web site of its own, and a
// host name we do not control (or a package registry's) could change hands
// and then "document" relpack's statements for anyone who reads them; a URN
// names the build type without pointing anywhere, and its ":v1" changes
// when the parameters change meaning, so a reader can refuse a layout it
// does not know.
const BuildType = "urn:relpack:build-type:release:v1"

// LocalBuilderID is the builder.id of a release built with no builder
// identity configured (Release.BuilderID ""): SLSA requires builder.id,
// and relpack does not invent one from the machine (a host name or user
// name would leak facts and break reproducibility). It says "a relpack run
// whoever started it": such a statement vouches for its inputs and
// outputs through the release key's signature alone, not for a CI
// platform. Read gives "" back for it.
const LocalBuilderID = "urn:relpack:builder:local"

// The statement's JSON, field by field. encoding/json writes struct fields
// in declaration order and map keys sorted, so one Release always gives the
// same bytes; protojson (the in-toto bindings' encoder) deliberately adds
// random spaces that differ between builds of a program, so it cannot
// write a file that is signed and rebuilt byte for byte. The fields are declared in the order
// the specifications list them, for a human reader.
type statementJSON struct {
	Type          string        `json:"_type"`
	Subject       []descriptor  `json:"subject"`
	PredicateType string        `json:"predicateType"`
	Predicate     predicateJSON `json:"predicate"`
}

// descriptor is an in-toto ResourceDescriptor: a subject (name, digest) or
// a resolved dependency (with annotations).
type descriptor struct {
	Name        string       `json:"name"`
	Digest      digestSet    `json:"digest"`
	Annotations *annotations `json:"annotations,omitempty"`
}

type digestSet struct {
	SHA256 string `json:"sha256"`
}

// annotations say what an input was to the build (Input.Role, .Triple).
type annotations struct {
	Role   string `json:"role"`
	Triple string `json:"triple,omitempty"`
}

type predicateJSON struct {
	BuildDefinition buildDefinition `json:"buildDefinition"`
	RunDetails      runDetails      `json:"runDetails"`
}

type buildDefinition struct {
	BuildType            string             `json:"buildType"`
	ExternalParameters   externalParameters `json:"externalParameters"`
	InternalParameters   internalParameters `json:"internalParameters"`
	ResolvedDependencies []descriptor       `json:"resolvedDependencies"`
}

// externalParameters are what the user chose: the product and version,
// packaging.yaml (path and bytes' digest), a partial build's selectors
// (left out for a full or merged release) and SOURCE_DATE_EPOCH.
type externalParameters struct {
	Product         string      `json:"product"`
	Version         string      `json:"version"`
	Release         string      `json:"release"`
	Config          configParam `json:"config"`
	Selectors       []string    `json:"selectors,omitempty"`
	SourceDateEpoch int64       `json:"source_date_epoch"`
}

type configParam struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
}

// internalParameters are what relpack derived: manifest.json's
// config_digest, the configuration that shaped the artifacts.
type internalParameters struct {
	ConfigDigest string `json:"config_digest"`
}

// runDetails has no metadata: SLSA's invocationId, startedOn and
// finishedOn are optional, relpack has no invocation ID, and a time from
// the clock would make two builds of the same inputs differ.
type runDetails struct {
	Builder builder `json:"builder"`
}

type builder struct {
	ID      string      `json:"id"`
	Version toolVersion `json:"version"`
}

// toolVersion is builder.version, which SLSA defines as a map of the
// builder's components to their versions: relpack's version, the commit
// relpack was built from and the Go that built it (the last two left out
// when unknown, as statements written before relpack recorded them).
type toolVersion struct {
	Relpack string `json:"relpack"`
	Commit  string `json:"commit,omitempty"`
	Go      string `json:"go,omitempty"`
}

// Marshal writes r as an in-toto Statement v1 with an SLSA Provenance v1
// predicate: indented JSON ending in "\n", the subjects sorted by name,
// the inputs by path (then role and triple), the selectors sorted, and the
// same bytes for the same Release. r is checked first (see check) and is
// not changed.
func Marshal(r *Release) ([]byte, error) {
	if r == nil {
		return nil, fmt.Errorf("provenance: no release to describe")
	}
	c := sorted(r)
	if err := c.check(); err != nil {
		return nil, fmt.Errorf("provenance: %w", err)
	}
	return encode(c.statement())
}

// sorted returns a copy of r with its lists in the order Marshal writes
// them, so the caller's order never changes the bytes.
func sorted(r *Release) *Release {
	c := *r
	c.Subjects = slices.Clone(r.Subjects)
	slices.SortFunc(c.Subjects, func(a, b Subject) int { return strings.Compare(a.Name, b.Name) })
	c.Inputs = slices.Clone(r.Inputs)
	slices.SortFunc(c.Inputs, compareInputs)
	c.Selectors = slices.Clone(r.Selectors)
	slices.Sort(c.Selectors)
	return &c
}

func compareInputs(a, b Input) int {
	if c := strings.Compare(a.Path, b.Path); c != 0 {
		return c
	}
	if c := strings.Compare(a.Role, b.Role); c != 0 {
		return c
	}
	return strings.Compare(a.Triple, b.Triple)
}

// statement lays a checked, sorted Release out as the statement's JSON.
func (r *Release) statement() *statementJSON {
	st := &statementJSON{Type: StatementType, PredicateType: PredicateType}
	for _, s := range r.Subjects {
		st.Subject = append(st.Subject, descriptor{Name: s.Name, Digest: digestSet{s.SHA256}})
	}
	deps := []descriptor{} // [] rather than null when there is no input
	for _, in := range r.Inputs {
		deps = append(deps, descriptor{Name: in.Path, Digest: digestSet{in.SHA256},
			Annotations: &annotations{Role: in.Role, Triple: in.Triple}})
	}
	id := r.BuilderID
	if id == "" {
		id = LocalBuilderID
	}
	st.Predicate = predicateJSON{
		BuildDefinition: buildDefinition{
			BuildType: BuildType,
			ExternalParameters: externalParameters{
				Product: r.Product, Version: r.Version, Release: r.Release,
				Config:          configParam{Path: r.ConfigFile, SHA256: r.ConfigSHA256},
				Selectors:       r.Selectors,
				SourceDateEpoch: r.SourceDateEpoch,
			},
			InternalParameters:   internalParameters{ConfigDigest: r.ConfigDigest},
			ResolvedDependencies: deps,
		},
		RunDetails: runDetails{Builder: builder{ID: id, Version: toolVersion{Relpack: r.Tool, Commit: r.ToolCommit, Go: r.ToolGo}}},
	}
	return st
}

// encode writes st indented by two spaces, with '<', '>' and '&' as
// themselves (the statement is read as JSON, never embedded in HTML).
func encode(st *statementJSON) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(st); err != nil { // Encode ends the value with "\n"
		return nil, fmt.Errorf("provenance: writing the statement: %w", err)
	}
	return buf.Bytes(), nil
}
