package templates

// RepoDoc is the data of repo.md.tmpl: how users set up the apt and dnf
// repositories relpack repo wrote, computed by pkg/docs from the tree's
// relpack-repo.json and already sorted. The commands and file contents
// come complete (each line of them goes through codeline).
type RepoDoc struct {
	Product string
	URL     string
	KeyURL  string
	// Fingerprint and UserID identify the key that signs the indexes.
	Fingerprint, UserID string
	// Versions are the releases the tree holds, oldest first.
	Versions []string
	// RetiredKeys are the fingerprints of keys that signed it before.
	RetiredKeys []string
	Apt         []RepoSuite
	Dnf         []RepoRPM
	// Keyring is where the apt set-up puts KEY.asc.
	Keyring string
	// ProvenanceURL is the newest release's provenance statement in the
	// tree (releases/VERSION/), "" when no release has one;
	// ProvenanceSignedBy the fingerprint of the key whose detached
	// signature (.asc) is beside it, "" when it is unsigned.
	ProvenanceURL, ProvenanceSignedBy string
}

// RepoSuite is one apt suite (deb distro target).
type RepoSuite struct {
	Name, Target, Suite string
	Arches              []string
	// SourcesURL and ListURL are the set-up files in the tree; Sources and
	// List their contents (lines).
	SourcesURL, ListURL string
	Sources             []string
	List                string
	// Commands are the lines of the set-up, one command each.
	Commands []string
	// AddOns are the repositories to enable before installing (universe).
	AddOns []DocAddOn
	// SBOMURL is one SBOM of the newest package for the target, beside it
	// in the pool; "" when its packages have none.
	SBOMURL string
	// Debug is the suite's debug suite (SUITE-debug, the -dbgsym
	// packages); nil when it has none.
	Debug *RepoDebugSuite
}

// RepoDebugSuite is the debug suite of an apt suite: its set-up file and
// the commands that add it and install the debug symbols.
type RepoDebugSuite struct {
	Suite, SourcesURL string
	Sources           []string
	Commands          []string
}

// RepoRPM is one rpm target's repository.
type RepoRPM struct {
	Name, Target string
	Arches       []string
	RepoURL      string
	Repo         []string // the .repo file's lines
	Commands     []string
	// AddOns are the repositories to enable before installing (EPEL).
	AddOns []DocAddOn
	// SBOMURL: as RepoSuite's.
	SBOMURL string
	// DebugRepo is the .repo section of the target's debuginfo repository
	// (disabled by default), DebugCommand the command that installs the
	// debug symbols from it; "" when it has none.
	DebugRepo, DebugCommand string
}
