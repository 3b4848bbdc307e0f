// Package provenance writes and reads the provenance of one release: an
// in-toto Statement v1 whose predicate is SLSA Provenance v1, saying which
// inputs, which configuration and which tool made each artifact. relpack
// signs it offline with the release's signing key (a detached OpenPGP
// signature beside it, like SHA256SUMS.asc).
//
// The statement is plain JSON written from the Release value with no time
// from the clock, so two builds of the same inputs give the same bytes.
package provenance

// Release is everything a provenance statement records.
type Release struct {
	// Subjects are every artifact (and every SBOM) of the release with its
	// sha256, sorted by Name.
	Subjects []Subject
	// Product and Version (semver) of the release; Release is the package
	// release number ("1").
	Product, Version, Release string
	// ConfigFile is packaging.yaml's path as the user gave it, ConfigSHA256
	// its bytes' sha256, ConfigDigest relpack's configuration digest
	// (manifest.json config_digest).
	ConfigFile, ConfigSHA256, ConfigDigest string
	// Selectors are a partial build's --only values; a merged or full
	// release has none.
	Selectors []string
	// SourceDateEpoch is the release's SOURCE_DATE_EPOCH.
	SourceDateEpoch int64
	// Inputs are every input binary and bundled library with its sha256
	// and the path the user gave, sorted by Path.
	Inputs []Input
	// Tool is relpack's version; BuilderID the builder identity the user
	// configures (e.g. the CI workflow's URL), "" when none is given.
	Tool, BuilderID string
	// ToolCommit is the commit relpack was built from ("-dirty" when its
	// tree held changes), ToolGo the Go that built it ("go1.26.0"); ""
	// when unknown (a statement from before relpack recorded them).
	ToolCommit, ToolGo string
}

// Subject is one file the statement vouches for.
type Subject struct {
	Name   string // file name in the release
	SHA256 string
}

// Input is one file relpack read to make the release.
type Input struct {
	Path   string // as the user gave it (packaging.yaml or --bin)
	SHA256 string
	// Role says what it is: "input" (a binary, with Triple) or "library"
	// (a sidecar or private library), "file" (packaging.yaml files:),
	// "license".
	Role, Triple string
}

// FileName is the statement's name in a release; the detached signature
// is FileName + ".asc".
const FileName = "provenance.intoto.json"
