package repo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/Masterminds/semver/v3"

	"relpack/pkg/distro"
	"relpack/pkg/manifest"
)

// StateFile is the repository's own record, written last by every run:
// what the indexes were generated from.
const StateFile = "relpack-repo.json"

// StateSchema is the current relpack-repo.json schema.
const StateSchema = 1

// State is relpack-repo.json: the URL the tree is served from, the key
// that signs it, the suite of each deb target, and every release added,
// with the sha256 of each package it contributed. Indexes are regenerated
// from it on every run, so adding a release lists every package of every
// release. It holds no paths of the machine that wrote it (the tree is
// byte-reproducible).
type State struct {
	Schema  int    `json:"schema"`
	Product string `json:"product"`
	URL     string `json:"url"`
	Key     Key    `json:"key"`
	// RetiredKeys are the fingerprints of keys that signed the tree before
	// a --rotate-key, oldest first; each stays published as keys/FPR.asc.
	RetiredKeys []string `json:"retired_keys,omitempty"`
	// SourceDateEpoch is the newest release's: the Date of every Release
	// and the timestamps of repodata.
	SourceDateEpoch int64 `json:"source_date_epoch"`
	// Suites maps each deb target to its apt suite, sorted by suite.
	Suites []Suite `json:"suites"`
	// RPMRepos lists the rpm targets, sorted by target id.
	RPMRepos []RPMRepo `json:"rpm_repos"`
	// Releases are sorted by product, then semver.
	Releases []Release `json:"releases"`
}

// Key identifies the signing key (public facts only).
type Key struct {
	Fingerprint string `json:"fingerprint"`
	KeyID       string `json:"key_id"`
	UserID      string `json:"user_id,omitempty"`
}

// Suite is one dists/SUITE of the apt tree: the packages of one deb target.
type Suite struct {
	Suite  string   `json:"suite"`
	Target string   `json:"target"`
	Name   string   `json:"name"`   // the distro's name, for docs
	Arches []string `json:"arches"` // Debian architecture names
}

// RPMRepo is one rpm target: a repository per architecture under
// rpm/TARGET/ARCH/.
type RPMRepo struct {
	Target string   `json:"target"`
	Name   string   `json:"name"`
	Arches []string `json:"arches"` // rpm architecture names ($basearch)
}

// Release is one release added to the tree.
type Release struct {
	Product         string `json:"product"`
	Version         string `json:"version"`
	ConfigDigest    string `json:"config_digest,omitempty"`
	ManifestSHA256  string `json:"manifest_sha256"`
	SourceDateEpoch int64  `json:"source_date_epoch"`
	// SignedBy is the fingerprint of the key that signed the release's
	// packages ("" for an unsigned release).
	SignedBy string `json:"signed_by,omitempty"`
	// UnsignedAccepted is true for a release added without a signature
	// to verify (relpack repo --allow-unsigned-release): nothing but its
	// own SHA256SUMS vouched for its packages.
	UnsignedAccepted bool       `json:"unsigned_accepted,omitempty"`
	Artifacts        []Artifact `json:"artifacts"`
	// Provenance are the release's provenance.intoto.json and, when it is
	// signed, its .asc, published under releases/VERSION/ (ReleaseDir):
	// one name per release, so not in a pool folder releases share. None
	// for a release built without one.
	Provenance []PoolFile `json:"provenance,omitempty"`
}

// PoolFile is a file published beside the packages (an SBOM, a
// provenance statement or its signature): its name in the release
// folder and in the tree, its sha256 and size as the release's manifest
// records them.
type PoolFile struct {
	File   string `json:"file"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// Artifact is one deb or rpm of a release, or its debug package (a
// ddeb, a debuginfo rpm), and where the tree holds it (Path, relative to
// the tree's root: Layout).
type Artifact struct {
	File   string `json:"file"`
	Kind   string `json:"kind"` // deb, rpm, ddeb or debuginfo-rpm
	Distro string `json:"distro"`
	Arch   string `json:"arch"` // x86_64 or aarch64, as the manifest says
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	Path   string `json:"path"`
	// Repositories are the add-on repositories the package's relations
	// need (the release manifest's), for the set-up docs.
	Repositories []manifest.Repository `json:"repositories,omitempty"`
	// SBOMs are the artifact's SBOMs (FILE.spdx.json, FILE.cdx.json),
	// published beside it in the pool (SBOMPath); none for a release
	// built without them. apt's and rpm-md's indexes do not list them.
	SBOMs []PoolFile `json:"sboms,omitempty"`
	// BuildID is, for a debug package, the GNU build-id of the binary it
	// carries the symbols of (the manifest's build_id), and DebugFor the
	// package of that binary: what debuginfod and the docs look it up by.
	BuildID  string `json:"build_id,omitempty"`
	DebugFor string `json:"debug_for,omitempty"`
}

var (
	nameRE        = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+~-]*$`)
	idRE          = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)
	suiteRE       = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)
	fileRE        = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._+~-]*$`)
	sha256RE      = regexp.MustCompile(`^[0-9a-f]{64}$`)
	fingerprintRE = regexp.MustCompile(`^[0-9A-F]{40}$`)
	keyIDRE       = regexp.MustCompile(`^[0-9A-F]{16}$`)
	buildIDRE     = regexp.MustCompile(`^([0-9a-f]{2}){2,64}$`)
)

// DebugSuffix names a deb target's debug suite (SUITE-debug, as Debian's
// debug archive names bookworm-debug) and, as a folder under each
// rpm/TARGET/ARCH, the debuginfo repository beside the main one (as EL's
// .../ARCH/debug/ trees).
const DebugSuffix = "-debug"

// DebugSuite is the apt suite that holds suite's debug packages.
func DebugSuite(suite string) string { return suite + DebugSuffix }

// DebugRepoDir is the folder of an rpm target's debuginfo repository for
// arch (an rpm architecture name), relative to the tree's root.
func DebugRepoDir(target, arch string) string { return "rpm/" + target + "/" + arch + "/debug" }

// format is the package format of a record's kind: deb for a ddeb, rpm for
// a debuginfo rpm.
func format(kind string) string { return manifest.Format(kind) }

// Layout is where the tree holds an artifact of product, relative to its
// root: deb/pool/main/P/PRODUCT/FILE (P the first letter) for debs and
// ddebs, one pool for every suite and its debug suite;
// rpm/TARGET/ARCH/Packages/FILE for rpms, and
// rpm/TARGET/ARCH/debug/Packages/FILE for debuginfo rpms (DebugRepoDir).
func Layout(product string, a Artifact) string {
	if format(a.Kind) == "deb" {
		return "deb/pool/main/" + strings.ToLower(product[:1]) + "/" + product + "/" + a.File
	}
	arch := distro.ArchName(a.Arch, "rpm")
	if a.Kind == manifest.KindDebuginfo {
		return DebugRepoDir(a.Distro, arch) + "/Packages/" + a.File
	}
	return "rpm/" + a.Distro + "/" + arch + "/Packages/" + a.File
}

// SBOMPath is where the tree holds SBOM f of artifact a: beside it, in
// the same folder (f.File is a's name with an SBOM suffix).
func SBOMPath(a Artifact, f PoolFile) string { return path.Dir(a.Path) + "/" + f.File }

// ReleaseDir is the folder of the tree that holds the provenance of
// release version: releases/VERSION. The version is semver (validated
// with the record), which holds no '/' and is never "." or "..".
func ReleaseDir(version string) string { return "releases/" + version }

// Marshal renders the state as indented JSON with a final newline.
func (s *State) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// ReadState reads root/relpack-repo.json; it returns nil, nil when there
// is none (a new repository). The file is checked like a manifest: it may
// have been edited, and its strings reach .repo files, .sources files and
// Markdown.
//
// The record is read beneath root through os.Root, as a regular file of
// at most stateLimit bytes (regular.ReadFileIn): a symbolic link, a named
// pipe or a device in its place is refused, never followed or read.
func ReadState(root string) (*State, error) {
	r, err := os.OpenRoot(root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(root, StateFile), err)
	}
	defer r.Close()
	return readStateIn(r, root)
}

// parseState decodes and validates the record read from p.
func parseState(p string, b []byte) (*State, error) {
	var s State
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("%s: not a relpack repository record (%v); it is written by relpack repo, do not edit it", p, err)
	}
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %v; it is written by relpack repo, do not edit it (restore it from the published tree)", p, err)
	}
	return &s, nil
}

// Validate holds every field to the grammar relpack repo writes, and
// names the first that breaks it.
func (s *State) Validate() error {
	if err := s.validateHead(); err != nil {
		return err
	}
	if err := s.validateTargets(); err != nil {
		return err
	}
	for _, r := range s.Releases {
		if err := s.validateRelease(r); err != nil {
			return err
		}
	}
	return nil
}

// validateHead holds the record's own fields: schema, product, URL, keys
// and date.
func (s *State) validateHead() error {
	if s.Schema != StateSchema {
		return fmt.Errorf("schema %d, this relpack reads schema %d", s.Schema, StateSchema)
	}
	if !nameRE.MatchString(s.Product) {
		return fmt.Errorf("product %q is not a package name", s.Product)
	}
	if _, err := CheckURL(s.URL); err != nil {
		return fmt.Errorf("url: %v", err)
	}
	if !fingerprintRE.MatchString(s.Key.Fingerprint) || !keyIDRE.MatchString(s.Key.KeyID) {
		return fmt.Errorf("key %q/%q is not a fingerprint and key id", s.Key.Fingerprint, s.Key.KeyID)
	}
	if strings.ContainsFunc(s.Key.UserID, isControl) {
		return fmt.Errorf("key.user_id holds a control character")
	}
	for _, f := range s.RetiredKeys {
		if !fingerprintRE.MatchString(f) {
			return fmt.Errorf("retired_keys: %q is not a fingerprint", f)
		}
	}
	if err := manifest.CheckEpoch(s.SourceDateEpoch); err != nil {
		return fmt.Errorf("source_date_epoch %w", err)
	}
	return nil
}

// validateTargets holds the suites and rpm repositories: each suite name
// and target once (a target is a suite or an rpm repository, not both).
func (s *State) validateTargets() error {
	seen := map[string]bool{}
	for _, su := range s.Suites {
		if !suiteRE.MatchString(su.Suite) || !idRE.MatchString(su.Target) || strings.ContainsFunc(su.Name, isControl) {
			return fmt.Errorf("suites: %q for %q is not a suite and target id", su.Suite, su.Target)
		}
		if seen["s "+su.Suite] || seen["t "+su.Target] {
			return fmt.Errorf("suites: %s (%s) listed twice", su.Suite, su.Target)
		}
		seen["s "+su.Suite], seen["t "+su.Target] = true, true
		for _, a := range su.Arches {
			if !idRE.MatchString(a) {
				return fmt.Errorf("suites: %s: arch %q", su.Suite, a)
			}
		}
	}
	for _, r := range s.RPMRepos {
		if !idRE.MatchString(r.Target) || strings.ContainsFunc(r.Name, isControl) || seen["t "+r.Target] {
			return fmt.Errorf("rpm_repos: target %q", r.Target)
		}
		seen["t "+r.Target] = true
		for _, a := range r.Arches {
			if distro.ArchName(a, "rpm") != a {
				return fmt.Errorf("rpm_repos: %s: arch %q", r.Target, a)
			}
		}
	}
	return nil
}

// validateRelease holds one release and its artifacts.
func (s *State) validateRelease(r Release) error {
	if r.Product != s.Product {
		return fmt.Errorf("release %s %s: product differs from the repository's %s", r.Product, r.Version, s.Product)
	}
	if _, err := semver.StrictNewVersion(r.Version); err != nil {
		return fmt.Errorf("release %s: version %q is not semver", r.Product, r.Version)
	}
	if !sha256RE.MatchString(r.ManifestSHA256) || (r.ConfigDigest != "" && !sha256RE.MatchString(r.ConfigDigest)) {
		return fmt.Errorf("release %s %s: bad manifest_sha256 or config_digest", r.Product, r.Version)
	}
	if r.SignedBy != "" && !fingerprintRE.MatchString(r.SignedBy) {
		return fmt.Errorf("release %s %s: signed_by %q", r.Product, r.Version, r.SignedBy)
	}
	if strings.ContainsAny(r.Version, "/\\") || r.Version == "." || r.Version == ".." {
		return fmt.Errorf("release %s: version %q cannot name a folder", r.Product, r.Version)
	}
	want := []string{manifest.ProvenanceFile, manifest.ProvenanceFile + ".asc"}
	if err := validatePoolFiles(r.Provenance, want); err != nil {
		return fmt.Errorf("release %s %s: provenance: %v", r.Product, r.Version, err)
	}
	for _, a := range r.Artifacts {
		if err := s.validateArtifact(r, a); err != nil {
			return err
		}
		if a.DebugFor != "" && !slices.ContainsFunc(r.Artifacts, func(b Artifact) bool {
			return b.File == a.DebugFor && b.Kind == manifest.Format(a.Kind) && b.Distro == a.Distro && b.Arch == a.Arch
		}) {
			return fmt.Errorf("release %s %s: debug package %s is the symbols of %s, which the release does not hold for %s %s", r.Product, r.Version, a.File, a.DebugFor, a.Distro, a.Arch)
		}
	}
	return nil
}

// validateArtifact holds one deb or rpm of release r: its fields, the
// add-on repositories it needs, and its place in the pool (Layout).
func (s *State) validateArtifact(r Release, a Artifact) error {
	if !fileRE.MatchString(a.File) || !sha256RE.MatchString(a.SHA256) || a.Size < 0 || !idRE.MatchString(a.Distro) ||
		!repoKind(a.Kind) || distro.ArchName(a.Arch, format(a.Kind)) == "" {
		return fmt.Errorf("release %s %s: artifact %q is not a deb, rpm or debug package of the grammar relpack writes", r.Product, r.Version, a.File)
	}
	if err := validateDebug(a); err != nil {
		return fmt.Errorf("release %s %s: artifact %s: %v", r.Product, r.Version, a.File, err)
	}
	for _, ro := range a.Repositories {
		if strings.ContainsFunc(ro.Name, isControl) || !manifest.ValidEnable(ro.Enable) {
			return fmt.Errorf("release %s %s: artifact %s: repository %q: its name or enable command is not what relpack writes", r.Product, r.Version, a.File, ro.Name)
		}
		for _, p := range ro.Packages {
			if !nameRE.MatchString(p) {
				return fmt.Errorf("release %s %s: artifact %s: repository %s: package %q", r.Product, r.Version, a.File, ro.Name, p)
			}
		}
	}
	sboms := []string{a.File + manifest.SBOMSuffix[manifest.SBOMSPDX], a.File + manifest.SBOMSuffix[manifest.SBOMCycloneDX]}
	if err := validatePoolFiles(a.SBOMs, sboms); err != nil {
		return fmt.Errorf("release %s %s: artifact %s: sboms: %v", r.Product, r.Version, a.File, err)
	}
	if a.Path != Layout(s.Product, a) {
		return fmt.Errorf("release %s %s: artifact %s: path %q, relpack places it at %s", r.Product, r.Version, a.File, a.Path, Layout(s.Product, a))
	}
	return nil
}

// repoKind reports whether a repository publishes artifacts of kind: the
// packages and their debug packages (tarballs have no place in apt or dnf
// repositories).
func repoKind(kind string) bool {
	return kind == "deb" || kind == "rpm" || kind == manifest.KindDdeb || kind == manifest.KindDebuginfo
}

// validateDebug holds a debug package's build-id and the package it is
// the symbols of; the other packages carry neither.
func validateDebug(a Artifact) error {
	if !manifest.IsDebug(a.Kind) {
		if a.BuildID != "" || a.DebugFor != "" {
			return errors.New("build_id and debug_for belong to a debug package")
		}
		return nil
	}
	if !buildIDRE.MatchString(a.BuildID) || !fileRE.MatchString(a.DebugFor) {
		return fmt.Errorf("build_id %q or debug_for %q is not what relpack writes (a lower-case hex build-id, the file name of its package)", a.BuildID, a.DebugFor)
	}
	return nil
}

// validatePoolFiles holds files published beside the packages: each a
// plain file name of want, in want's order, once, with a sha256 and a
// size.
func validatePoolFiles(fs []PoolFile, want []string) error {
	next := 0
	for _, f := range fs {
		i := slices.Index(want, f.File)
		if !fileRE.MatchString(f.File) || i < 0 {
			return fmt.Errorf("%q is not a file name relpack publishes there (%s)", f.File, strings.Join(want, ", "))
		}
		if i < next {
			return fmt.Errorf("%s listed twice or out of order", f.File)
		}
		next = i + 1
		if !sha256RE.MatchString(f.SHA256) || f.Size < 0 {
			return fmt.Errorf("%s: bad sha256 or size", f.File)
		}
	}
	return nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }

// sortReleases orders releases by product, then semver precedence, so
// the record does not depend on the order releases were added in.
func sortReleases(rs []Release) {
	slices.SortFunc(rs, func(a, b Release) int {
		if c := strings.Compare(a.Product, b.Product); c != 0 {
			return c
		}
		va, ea := semver.StrictNewVersion(a.Version)
		vb, eb := semver.StrictNewVersion(b.Version)
		if ea == nil && eb == nil {
			if c := va.Compare(vb); c != 0 {
				return c
			}
		}
		return strings.Compare(a.Version, b.Version)
	})
}
