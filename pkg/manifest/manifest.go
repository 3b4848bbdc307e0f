// Package manifest is the schema of manifest.json: the record of one release
// that install docs, installers and CI read. docs/manifest.md documents it;
// fields are only ever added, and Schema changes when meaning changes.
package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"relpack/internal/regular"
	"relpack/pkg/abi"
)

// SchemaVersion is the current manifest schema.
const SchemaVersion = 1

// MaxEpoch is the latest source_date_epoch (SOURCE_DATE_EPOCH) a release
// may carry: the rpm BUILDTIME tag, the gzip header's MTIME and an
// OpenPGP signature's creation time are unsigned 32-bit seconds
// (2106-02-07T06:28:15Z). Past it rpm's build time wraps silently, gpgv
// rejects the signatures, and a repository's Release file dated after it
// can never be followed by another release. Build, merge, repo and docs
// all hold a release to this one range (CheckEpoch).
const MaxEpoch int64 = 1<<32 - 1

// ReleaseFiles are the names relpack itself writes beside a release's
// artifacts. An artifact of one of these names would take the place of
// the release's own record, checksums, signature or public key (a KEY.asc
// users import, a provenance statement), so Validate refuses it.
var ReleaseFiles = []string{"manifest.json", "SHA256SUMS", "SHA256SUMS.asc", "KEY.asc", ProvenanceFile, ProvenanceFile + ".asc"}

// ProvenanceFile is the release's provenance statement (pkg/provenance's
// FileName; this package imports none of the writers, so the names are
// repeated here and pkg/release's tests hold them equal).
const ProvenanceFile = "provenance.intoto.json"

// SBOM formats and the suffix each adds to its artifact's file name
// (pkg/sbom's SPDXSuffix and CycloneDXSuffix).
const (
	SBOMSPDX      = "spdx"
	SBOMCycloneDX = "cyclonedx"
)

// SBOMSuffix maps an SBOM format to its suffix: ARTIFACT.spdx.json,
// ARTIFACT.cdx.json.
var SBOMSuffix = map[string]string{SBOMSPDX: ".spdx.json", SBOMCycloneDX: ".cdx.json"}

// CheckEpoch refuses a source_date_epoch outside 0..MaxEpoch; the message
// says the range and what it comes from, for the caller to prefix with
// where the value was read.
func CheckEpoch(epoch int64) error {
	if epoch < 0 || epoch > MaxEpoch {
		return fmt.Errorf("%d is outside 0..%d (1970 to 2106-02-07, the seconds rpm and gzip headers and OpenPGP signatures hold)", epoch, MaxEpoch)
	}
	return nil
}

// MaxSize is the most bytes Read and ReadValid read of a manifest.json: a
// release of a thousand artifacts listing a thousand files each stays
// under it, and a file past it (or a FIFO or device in its place) is
// refused before it is read, so a hostile release folder cannot exhaust
// memory or block.
const MaxSize = 16 << 20

// readFile reads a manifest through internal/regular with MaxSize.
func readFile(path string) ([]byte, error) {
	b, err := regular.ReadFile(path, MaxSize, "a manifest")
	var nr *regular.NotRegularError
	var tl *regular.TooLargeError
	switch {
	case errors.As(err, &nr): // names the file and what it is
		return nil, fmt.Errorf("%w; give the manifest.json relpack build wrote", err)
	case errors.As(err, &tl): // names the file, its size and the limit
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("%s: cannot read the manifest: %w", path, err)
	}
	return b, nil
}

// Manifest describes every artifact of one release.
type Manifest struct {
	Schema  int    `json:"schema"`
	Product string `json:"product"`
	Summary string `json:"summary"`
	// Version is the release's semver; DebVersion and RPMVersion are how
	// the packages spell it (before the per-distro release suffix).
	Version    string `json:"version"`
	DebVersion string `json:"deb_version"`
	RPMVersion string `json:"rpm_version"`
	Homepage   string `json:"homepage"`
	License    string `json:"license"`
	// SourceDateEpoch is the time every archive entry and package carries.
	SourceDateEpoch int64 `json:"source_date_epoch"`
	// ConfigDigest is the sha256 of the resolved configuration that
	// shaped the artifacts (packaging.yaml's values, the sha256 of the
	// files it names, the release's triples) and relpack's version; no
	// paths. Partial releases merge only when their digests are equal.
	ConfigDigest string     `json:"config_digest,omitempty"`
	Floor        Floor      `json:"floor"`
	Inputs       []Input    `json:"inputs"`
	Distros      []Distro   `json:"distros"`
	Artifacts    []Artifact `json:"artifacts"`
	// Signing is set when the release is signed: the key that signed
	// every deb and rpm and SHA256SUMS (in SHA256SUMS.asc). The manifest
	// is listed in SHA256SUMS, so this record is itself covered by the
	// signature.
	Signing *Signing `json:"signing,omitempty"`
	// Service is the systemd unit the packages install, and what their
	// maintainer scripts do with it; nil when there is none.
	Service *Service `json:"service,omitempty"`
	// Partial marks the manifest of a partial release (relpack build
	// --only SELECTOR): it lists only the selected artifacts. relpack
	// merge joins partials into one release and drops these fields.
	Partial bool `json:"partial,omitempty"`
	// Selectors are the --only values of a partial release.
	Selectors []string `json:"selectors,omitempty"`
	// Planned lists every artifact the whole release plans (a partial
	// release's own and the others'), so a merge can tell what is missing.
	Planned []Planned `json:"planned,omitempty"`
	// Provenance names the release's provenance statement and, when the
	// release is signed, its detached signature; nil in a release written
	// before relpack wrote one.
	Provenance *Provenance `json:"provenance,omitempty"`
	// Tool is the relpack that made the release (its version, the commit
	// it was built from, the Go that built it); nil in a release written
	// before relpack recorded it, or by a caller of pkg/release that gave
	// none. Partial releases merge only when their records are equal.
	Tool *Tool `json:"tool,omitempty"`
}

// ToolName is Tool.Name: the one tool that writes a relpack manifest.
const ToolName = "relpack"

// Tool identifies one build of relpack (pkg/buildinfo reads the running
// one's): `relpack version --json` prints it, manifest.json and the
// provenance statement record it.
type Tool struct {
	Name    string `json:"name"`    // ToolName
	Version string `json:"version"` // as stamped: "v1.2.3", a module pseudo-version, or "dev"
	// Commit is the git commit relpack was built from, with "-dirty"
	// appended when the work tree held changes; "" when the build
	// recorded none.
	Commit string `json:"commit,omitempty"`
	Go     string `json:"go"` // runtime.Version() of the build: "go1.26.0"
}

// String is t as one line: "relpack v1.2.3 (commit abc123, go1.26.0)".
func (t *Tool) String() string {
	if t == nil {
		return "a relpack that records no tool (written before relpack recorded one)"
	}
	s := t.Name + " " + t.Version
	if t.Commit != "" {
		s += " (commit " + t.Commit + ", " + t.Go + ")"
	} else {
		s += " (no commit recorded, " + t.Go + ")"
	}
	return s
}

// Check holds t to the grammar Validate holds a manifest's tool record
// to, so a relpack stamped with a bad version or commit refuses to build
// rather than write a manifest every reader refuses.
func (t *Tool) Check() error {
	var c checker
	c.tool(t)
	if len(c.e.Problems) == 0 {
		return nil
	}
	return &c.e
}

// Provenance is the release's in-toto statement (docs/sbom.md).
type Provenance struct {
	File      string `json:"file"`                // "provenance.intoto.json"
	Signature string `json:"signature,omitempty"` // "provenance.intoto.json.asc" when signed
}

// SBOM is one SBOM of an artifact, a file of the release beside it.
type SBOM struct {
	File   string `json:"file"`   // ARTIFACT + SBOMSuffix[Format]
	Format string `json:"format"` // SBOMSPDX or SBOMCycloneDX
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// Planned is one artifact a release plans.
type Planned struct {
	File string `json:"file"`
	// Input is the sha256 of the input binary the artifact is made from,
	// when this build read that input ("" when it did not need it): a
	// merge refuses partials that read different binaries for one artifact.
	Input string `json:"input,omitempty"`
}

// Service is the packages' systemd unit and its lifecycle.
type Service struct {
	Unit  string `json:"unit"`  // e.g. openshell-gateway.service
	Scope string `json:"scope"` // "system" or "user"
	// Enable: installing enables the unit (for a user unit: for every
	// user, systemctl --global).
	Enable bool `json:"enable"`
	// RestartOnUpgrade: upgrading restarts the running service.
	RestartOnUpgrade bool `json:"restart_on_upgrade"`
}

// Signing identifies the release signing key.
type Signing struct {
	Fingerprint string `json:"fingerprint"`          // 40 upper-case hex digits
	KeyID       string `json:"key_id"`               // the key that signs (16 hex digits)
	UserID      string `json:"user_id,omitempty"`    // e.g. "OpenShell Release <release@...>"
	Signature   string `json:"signature"`            // "SHA256SUMS.asc"
	PublicKey   string `json:"public_key,omitempty"` // "KEY.asc"
}

// Floor is the promised ABI floor and what it covers.
type Floor struct {
	Glibc    string            `json:"glibc"`
	Policy   string            `json:"policy"`
	Families map[string]string `json:"families"`
	// Arches holds, per architecture, the family limits that differ
	// between the release's architectures (libgcc_s's GCC on a floor of
	// 2.36: 12.0.0 on x86_64, 11.0 on aarch64); absent when none do.
	Arches map[string]map[string]string `json:"arches,omitempty"`
	Covers []string                     `json:"covers"`
}

// Input is one input binary as measured.
type Input struct {
	Triple  string              `json:"triple"`
	File    string              `json:"file"` // base name of the input
	SHA256  string              `json:"sha256"`
	Machine string              `json:"machine"`
	Libc    abi.Libc            `json:"libc"`
	Linkage abi.Linkage         `json:"linkage"`
	Needed  []string            `json:"needed"`
	Highest []abi.FamilyVersion `json:"highest"`
	Z3      string              `json:"z3"`
	Z3So    string              `json:"z3_soname,omitempty"`
	// BuildID is the input's GNU build-id (NT_GNU_BUILD_ID), lower-case
	// hex; "" when it has none.
	BuildID string `json:"build_id,omitempty"`
}

// Debug-symbol artifact kinds (issue 22, docs/debug-symbols.md): each holds
// the debug file split from the binary of one release artifact, found by
// build-id.
const (
	// KindDebugTarball is NAME-TRIPLE-debug.tar.gz: the build-id tree
	// (.build-id/xx/rest.debug) of a tarball's binary.
	KindDebugTarball = "debug-tarball"
	// KindDdeb is a deb target's NAME-dbgsym_VERSION_ARCH.ddeb, as
	// debhelper's dh_strip writes it.
	KindDdeb = "ddeb"
	// KindDebuginfo is an rpm target's NAME-debuginfo-VERSION.ARCH.rpm, as
	// rpmbuild's find-debuginfo writes it.
	KindDebuginfo = "debuginfo-rpm"
)

// Kinds are every artifact kind, the packages' formats and the debug kinds.
var Kinds = []string{"tarball", "deb", "rpm", "apk", KindDebugTarball, KindDdeb, KindDebuginfo}

// IsDebug reports whether kind is a debug-symbol artifact's.
func IsDebug(kind string) bool {
	return kind == KindDebugTarball || kind == KindDdeb || kind == KindDebuginfo
}

// Format is the package format of an artifact kind ("deb" for a ddeb,
// "rpm" for a debuginfo rpm), "tarball" for both tarball kinds.
func Format(kind string) string {
	switch kind {
	case KindDdeb:
		return "deb"
	case KindDebuginfo:
		return "rpm"
	case KindDebugTarball:
		return "tarball"
	}
	return kind
}

// Distro is one distro target packaged for.
type Distro struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Format string `json:"format"`
	Glibc  string `json:"glibc"`
	// Support is the distro's support window as the catalogue records it;
	// nil when it records none.
	Support *Support `json:"support,omitempty"`
}

// Support is a distro's support window (dates YYYY-MM-DD): the end of its
// regular support, and the end of the support of Kind (LTS, maintenance),
// after which its publisher fixes nothing.
type Support struct {
	Regular string `json:"regular,omitempty"`
	End     string `json:"end,omitempty"`
	Kind    string `json:"kind,omitempty"`
	// Ended: support has ended, on a day no source gives (End is empty).
	Ended bool `json:"ended,omitempty"`
}

// Repository is an add-on repository a host must enable before a
// package's relations can be met (EPEL on EL9 for z3-libs, universe on
// Ubuntu for libz3-4).
type Repository struct {
	Name string `json:"name"` // "EPEL 9", "universe"
	// Enable is the command that enables it ("dnf install epel-release").
	Enable string `json:"enable"`
	// Packages are the package's relations it serves, sorted.
	Packages []string `json:"packages"`
}

// ValidEnable reports whether s is a command relpack writes to enable an
// add-on repository (Repository.Enable): safe to print in docs unquoted.
func ValidEnable(s string) bool { return enableRE.MatchString(s) }

// Artifact is one file of the release.
type Artifact struct {
	File   string `json:"file"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	// Kind is "tarball", "deb" or "rpm", or a debug kind (KindDebugTarball,
	// KindDdeb, KindDebuginfo).
	Kind   string   `json:"kind"`
	Triple string   `json:"triple"`
	Arch   string   `json:"arch"` // x86_64 or aarch64
	Libc   abi.Libc `json:"libc"`
	// Distro is the distro target id of a package; "" for tarballs.
	Distro string `json:"distro,omitempty"`
	// Floor is the glibc floor promised (and, for packages, enforced);
	// "" for musl artifacts, which need no glibc.
	Floor string `json:"floor,omitempty"`
	// GlibcMeasured is the highest GLIBC version the binary needs.
	GlibcMeasured string `json:"glibc_measured,omitempty"`
	// Relations is the package's Depends (deb) or Requires (rpm).
	Relations []string `json:"relations,omitempty"`
	Z3        string   `json:"z3"`
	Z3So      string   `json:"z3_soname,omitempty"`
	// Z3Package is the distro package a package depends on for Z3
	// (libz3-4, z3-libs); "" when Z3 is bundled or for tarballs.
	Z3Package string `json:"z3_package,omitempty"`
	// Contents lists the paths inside a tarball.
	Contents []string `json:"contents,omitempty"`
	// PackageVersion is the full version-release written into a package.
	PackageVersion string `json:"package_version,omitempty"`
	// Runpath is the binary's DT_RUNPATH as written by relpack (sidecar
	// tarballs: "$ORIGIN/../lib").
	Runpath string `json:"runpath,omitempty"`
	// Sidecar is the library a sidecar tarball carries.
	Sidecar *Sidecar `json:"sidecar,omitempty"`
	// Repositories are the add-on repositories a host must enable for a
	// package's relations, sorted by name; empty when the distro's own
	// repositories serve them all.
	Repositories []Repository `json:"repositories,omitempty"`
	// SBOMs are the artifact's software bills of materials, in the order
	// of SBOMSuffix's formats (spdx, cyclonedx); none when the
	// configuration turns them off.
	SBOMs []SBOM `json:"sboms,omitempty"`
	// BuildID is the GNU build-id of the binary the artifact ships (or,
	// for a debug artifact, carries the symbols of), lower-case hex; ""
	// when relpack split no debug symbols from it.
	BuildID string `json:"build_id,omitempty"`
	// Debug is the file of the debug artifact holding the symbols of this
	// artifact's binary; "" when there is none.
	Debug string `json:"debug,omitempty"`
	// DebugFor is, for a debug artifact, the file of the artifact whose
	// binary it carries the symbols of.
	DebugFor string `json:"debug_for,omitempty"`
	// DebugFile is, for a debug artifact, the path of the debug file in
	// it: "/usr/lib/debug/.build-id/xx/rest.debug" in a package,
	// ".build-id/xx/rest.debug" in a debug tarball.
	DebugFile string `json:"debug_file,omitempty"`
}

// Sidecar is a library shipped beside the binary in a tarball.
type Sidecar struct {
	Path    string              `json:"path"` // inside the tarball, e.g. "lib/libz3.so.4"
	Soname  string              `json:"soname"`
	SHA256  string              `json:"sha256"`
	Size    int64               `json:"size"`
	Needed  []string            `json:"needed"`
	Highest []abi.FamilyVersion `json:"highest"`
}

// Marshal renders the manifest as indented JSON with a final newline.
func (m *Manifest) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Read loads a manifest.json.
func Read(path string) (*Manifest, error) {
	b, err := readFile(path)
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: not a relpack manifest: %w", path, err)
	}
	if m.Schema != SchemaVersion {
		return nil, fmt.Errorf("%s: manifest schema %d, this relpack reads schema %d", path, m.Schema, SchemaVersion)
	}
	return &m, nil
}

// A manifest is input that others can change (a release folder, a CI
// artifact, a pull request), and its strings end up in Markdown, in sh code
// blocks and in install.sh. Validate holds every field a consumer renders
// to its grammar, so a hostile value is refused with its field named
// rather than pasted somewhere it runs; the renderers quote and escape as
// well (defence in depth), but they must not be the only line.
var (
	// safeFileRE is a plain base name: no path, no leading dot or dash,
	// nothing a shell or Markdown would read.
	safeFileRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._+~-]*$`)
	// nameRE: product, package and policy names, sonames.
	nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+~-]*$`)
	// idRE is a distro target id (pkg/distro's grammar).
	idRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)
	// unitRE: a systemd unit name as packaging.yaml allows it.
	unitRE = regexp.MustCompile(`^[A-Za-z0-9:_.@-]+\.service$`)
	// tripleRE is a target triple: arch-vendor-os[-env].
	tripleRE = regexp.MustCompile(`^[a-z0-9_]+(-[a-z0-9_]+){1,3}$`)
	archRE   = regexp.MustCompile(`^[a-z0-9_]+$`)
	// semverRE is semver 2.0.0 without a leading v (what build writes).
	semverRE = regexp.MustCompile(`^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)` +
		`(-(0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)(\.(0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*))*)?` +
		`(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$`)
	// pkgVersionRE is a deb or rpm version (optional epoch, ~ for
	// pre-releases, -release).
	pkgVersionRE = regexp.MustCompile(`^([0-9]+:)?[0-9][A-Za-z0-9.+~_-]*$`)
	// numVersionRE is a dotted number: glibc and symbol family versions.
	numVersionRE = regexp.MustCompile(`^[0-9]+(\.[0-9]+)*$`)
	familyRE     = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)
	floorArchRE  = regexp.MustCompile(`^(x86_64|aarch64)$`)
	sha256RE     = regexp.MustCompile(`^[0-9a-f]{64}$`)
	// urlRE: http(s) with RFC 3986 characters only, minus the quote; no
	// space, < > " ` or backslash, so it cannot leave a Markdown autolink
	// or a quoted string.
	urlRE = regexp.MustCompile(`^https?://[A-Za-z0-9._~:/?#\[\]@!$&()*+,;=%-]+$`)
	// relationRE is a Depends/Requires entry: "libc6 (>= 2.28)",
	// "libc.so.6(GLIBC_2.17)(64bit)", "a | b".
	// enableRE is a command enabling an add-on repository, printed in
	// install docs: no quoting, expansion or separator characters.
	enableRE   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9 ./+_:=,@-]{0,199}$`)
	dateRE     = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)
	relationRE = regexp.MustCompile(`^[A-Za-z0-9._+~:()<>=,| \[\]/-]+$`)
	// runpathRE is a DT_RUNPATH such as "$ORIGIN/../lib".
	runpathRE     = regexp.MustCompile(`^[A-Za-z0-9$_./:{}+~-]+$`)
	fingerprintRE = regexp.MustCompile(`^[0-9A-Fa-f]{40}$`)
	// commitRE is a git commit id (sha1 or sha256, abbreviated to at
	// least 7 hex digits), "-dirty" when the tree held changes.
	commitRE = regexp.MustCompile(`^[0-9a-f]{7,64}(-dirty)?$`)
	// goVersionRE is runtime.Version(): "go1.26.0", "go1.26rc1", with an
	// experiment ("go1.26.0 X:jsonv2") or a development toolchain's
	// "devel go1.27-abcdef0 Tue Dec 1 10:00:00 2026 +0000".
	goVersionRE = regexp.MustCompile(`^(devel )?go[0-9][A-Za-z0-9.,_+:/ -]*$`)
	// buildIDRE is a GNU build-id: ld writes 8 (uuid is 16, md5 16, sha1
	// 20) bytes; --build-id=0xHEX any number, capped here at 64.
	buildIDRE = regexp.MustCompile(`^([0-9a-f]{2}){2,64}$`)
	// debugFileRE is where a debug artifact holds its debug file: the
	// build-id tree, under /usr/lib/debug in a package.
	debugFileRE = regexp.MustCompile(`^(/usr/lib/debug/)?\.build-id/[0-9a-f]{2}/[0-9a-f]{2,126}\.debug$`)
	keyIDRE     = regexp.MustCompile(`^[0-9A-Fa-f]{16}$`)
)

// maxProblems caps the list Validate reports: past it, more lines help no
// one find the first mistake.
const maxProblems = 20

// FieldError is one invalid manifest field: Field is its path in the JSON
// ("artifacts[3].file"), Value what it holds, Problem what is wrong.
type FieldError struct {
	Field, Value, Problem string
}

func (e FieldError) Error() string {
	if e.Value == "" {
		return e.Field + ": " + e.Problem
	}
	return fmt.Sprintf("%s %q: %s", e.Field, e.Value, e.Problem)
}

// InvalidError lists every invalid field of a manifest (up to maxProblems).
// File, when set, names the manifest file; Error prefixes every line with
// it.
type InvalidError struct {
	File     string
	Problems []FieldError
	// More counts the problems left out past maxProblems.
	More int
}

func (e *InvalidError) Error() string {
	prefix := "manifest: "
	if e.File != "" {
		prefix = e.File + ": "
	}
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(prefix + p.Error())
	}
	if e.More > 0 {
		fmt.Fprintf(&b, "\n%sand %d more problems", prefix, e.More)
	}
	return b.String()
}

// checker collects FieldErrors.
type checker struct{ e InvalidError }

func (c *checker) fail(field, value, problem string) {
	if len(c.e.Problems) >= maxProblems {
		c.e.More++
		return
	}
	c.e.Problems = append(c.e.Problems, FieldError{Field: field, Value: value, Problem: problem})
}

// match checks a required (optional=false) or optional field against re.
func (c *checker) match(field, value string, optional bool, re *regexp.Regexp, want string) {
	if value == "" {
		if !optional {
			c.fail(field, "", "missing: want "+want)
		}
		return
	}
	if len(value) > 255 || !re.MatchString(value) {
		c.fail(field, value, "not "+want)
	}
}

func (c *checker) oneOf(field, value string, optional bool, allowed ...string) {
	if value == "" && optional {
		return
	}
	for _, a := range allowed {
		if value == a {
			return
		}
	}
	c.fail(field, value, "want one of "+strings.Join(allowed, ", "))
}

// text checks free text (summary, names, license): any printable
// characters, no control characters or line breaks (which would start a
// new Markdown block, or a new line in a script comment).
func (c *checker) text(field, value string) {
	if len(value) > 1000 {
		c.fail(field, value[:40]+"...", "longer than 1000 bytes")
		return
	}
	if !utf8.ValidString(value) {
		c.fail(field, value, "not valid UTF-8")
		return
	}
	for _, r := range value {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || unicode.Is(unicode.Bidi_Control, r) {
			c.fail(field, value, fmt.Sprintf("holds the control character %U (no line breaks, tabs or control characters in free text)", r))
			return
		}
	}
}

// notReleaseFile refuses an artifact named like a file relpack writes
// itself (ReleaseFiles).
func (c *checker) notReleaseFile(field, value string) {
	if slices.Contains(ReleaseFiles, value) {
		c.fail(field, value, "a name relpack writes itself beside the artifacts ("+strings.Join(ReleaseFiles, ", ")+"), not an artifact: this release folder was not written by relpack build")
	}
}

// relPath checks a relative path inside an archive: plain components,
// an optional trailing slash for folders.
func (c *checker) relPath(field, value string) {
	p := strings.TrimSuffix(value, "/")
	if p == "" {
		c.fail(field, value, "not a relative path such as bin/NAME or lib/")
		return
	}
	for _, part := range strings.Split(p, "/") {
		if !safeFileRE.MatchString(part) {
			c.fail(field, value, "not a relative path of plain names ([A-Za-z0-9._+~-], no leading dot or dash, no empty part)")
			return
		}
	}
}

const (
	wantFile    = "a plain file name ([A-Za-z0-9._+~-], no leading dot or dash, no path)"
	wantName    = "a name ([A-Za-z0-9._+~-], starting with a letter or digit)"
	wantID      = "a distro target id ([a-z0-9._-], e.g. debian12)"
	wantTriple  = "a target triple such as x86_64-unknown-linux-gnu"
	wantArch    = "an architecture such as x86_64 or aarch64"
	wantSemver  = "a semver version such as 1.2.3 or 0.0.38-dev.108+g152d059 (no leading v)"
	wantPkgVer  = "a package version such as 0.1.0-1~deb12 or 1:2.3-1.el8"
	wantNumVer  = "a dotted version such as 2.28"
	wantSHA256  = "64 lowercase hex digits"
	wantURL     = "an http(s) URL without spaces, quotes, <, > or backslashes"
	wantRelRule = "a package relation such as libc6 (>= 2.28) or libc.so.6(GLIBC_2.17)(64bit)"
)

// Validate checks the manifest a renderer is about to trust: the header,
// every distro, artifact, input and the signing record. It returns nil or
// an *InvalidError naming each bad field by its JSON path. A manifest
// without artifacts is refused too: there is nothing to document or
// install.
func (m *Manifest) Validate() error {
	if m == nil {
		return &InvalidError{Problems: []FieldError{{Field: "manifest", Problem: "missing"}}}
	}
	var c checker
	c.header(m)
	c.floor(&m.Floor)
	c.service(m.Service)
	ids := c.distros(m.Distros)
	c.artifacts(m.Artifacts, ids)
	c.inputs(m.Inputs)
	c.partial(m)
	c.signing(m.Signing)
	c.provenance(m.Provenance, m.Signing != nil)
	c.tool(m.Tool)
	if len(c.e.Problems) == 0 {
		return nil
	}
	return &c.e
}

// header checks the release's own fields: schema, product, summary,
// versions, homepage, license, epoch and configuration digest.
func (c *checker) header(m *Manifest) {
	if m.Schema != SchemaVersion {
		c.fail("schema", fmt.Sprint(m.Schema), fmt.Sprintf("this relpack reads schema %d", SchemaVersion))
	}
	c.match("product", m.Product, false, nameRE, wantName)
	c.text("summary", m.Summary)
	c.match("version", m.Version, false, semverRE, wantSemver)
	c.match("deb_version", m.DebVersion, true, pkgVersionRE, wantPkgVer)
	c.match("rpm_version", m.RPMVersion, true, pkgVersionRE, wantPkgVer)
	c.match("homepage", m.Homepage, true, urlRE, wantURL)
	c.text("license", m.License)
	if CheckEpoch(m.SourceDateEpoch) != nil {
		c.fail("source_date_epoch", fmt.Sprint(m.SourceDateEpoch), fmt.Sprintf("outside 0..%d (1970 to 2106-02-07, the seconds rpm and gzip headers and OpenPGP signatures hold); rebuild the release with SOURCE_DATE_EPOCH in that range", MaxEpoch))
	}
	c.match("config_digest", m.ConfigDigest, true, sha256RE, wantSHA256)
}

// tool checks the record of the relpack that made the release, if any:
// the merge refusal and docs print it, so it holds to a grammar too.
func (c *checker) tool(t *Tool) {
	if t == nil {
		return
	}
	c.oneOf("tool.name", t.Name, false, ToolName)
	c.match("tool.version", t.Version, false, nameRE, wantName)
	c.match("tool.commit", t.Commit, true, commitRE, "a git commit id (7 to 64 lower-case hex digits, optionally -dirty)")
	c.match("tool.go", t.Go, false, goVersionRE, "a Go version as runtime.Version() prints it, such as go1.26.0")
}

// floor checks the glibc floor, its policy, the other symbol version
// families (in name order), the per-arch ones and what it covers.
func (c *checker) floor(fl *Floor) {
	c.match("floor.glibc", fl.Glibc, true, numVersionRE, wantNumVer)
	c.match("floor.policy", fl.Policy, true, nameRE, wantName)
	for _, fam := range slices.Sorted(maps.Keys(fl.Families)) {
		c.match("floor.families", fam, false, familyRE, "a symbol version family such as GLIBCXX")
		c.match("floor.families."+fam, fl.Families[fam], false, numVersionRE, wantNumVer)
	}
	for _, arch := range slices.Sorted(maps.Keys(fl.Arches)) {
		c.match("floor.arches", arch, false, floorArchRE, "x86_64 or aarch64")
		for _, fam := range slices.Sorted(maps.Keys(fl.Arches[arch])) {
			c.match("floor.arches."+arch, fam, false, familyRE, "a symbol version family such as GCC")
			c.match("floor.arches."+arch+"."+fam, fl.Arches[arch][fam], false, numVersionRE, wantNumVer)
		}
	}
	for i, s := range fl.Covers {
		c.text(fmt.Sprintf("floor.covers[%d]", i), s)
	}
}

// service checks the systemd unit record, if any.
func (c *checker) service(sv *Service) {
	if sv == nil {
		return
	}
	c.match("service.unit", sv.Unit, false, unitRE, "a unit file name such as NAME.service")
	if sv.Scope != "system" && sv.Scope != "user" {
		c.fail("service.scope", sv.Scope, "system or user")
	}
}

// distros checks every distro target, each id once, and returns the set
// of ids the artifacts may name.
func (c *checker) distros(distros []Distro) map[string]bool {
	ids := map[string]bool{}
	for i, d := range distros {
		f := fmt.Sprintf("distros[%d].", i)
		c.match(f+"id", d.ID, false, idRE, wantID)
		if ids[d.ID] {
			c.fail(f+"id", d.ID, "listed twice")
		}
		ids[d.ID] = true
		c.text(f+"name", d.Name)
		c.oneOf(f+"format", d.Format, true, "deb", "rpm", "apk")
		c.match(f+"glibc", d.Glibc, true, numVersionRE, wantNumVer)
		if s := d.Support; s != nil {
			c.match(f+"support.regular", s.Regular, true, dateRE, "a date YYYY-MM-DD")
			c.match(f+"support.end", s.End, true, dateRE, "a date YYYY-MM-DD")
			c.text(f+"support.kind", s.Kind)
		}
	}
	return ids
}

// artifacts checks that there are artifacts, each file listed once, and
// every artifact (artifact), its distro among ids.
func (c *checker) artifacts(arts []Artifact, ids map[string]bool) {
	if len(arts) == 0 {
		c.fail("artifacts", "", "the manifest lists no artifacts: there is nothing to document or install (give the manifest.json of a finished relpack build)")
	}
	files := map[string]bool{}
	for i, a := range arts {
		f := fmt.Sprintf("artifacts[%d].", i)
		c.match(f+"file", a.File, false, safeFileRE, wantFile)
		c.notReleaseFile(f+"file", a.File)
		if files[a.File] {
			c.fail(f+"file", a.File, "listed twice")
		}
		files[a.File] = true
		c.artifact(f, a, ids)
	}
	for i, a := range arts {
		for j, s := range a.SBOMs {
			if files[s.File] {
				c.fail(fmt.Sprintf("artifacts[%d].sboms[%d].file", i, j), s.File, "listed twice")
			}
			files[s.File] = true
		}
	}
}

// artifact checks one artifact's fields after its file name; f is its
// JSON path with a trailing dot.
func (c *checker) artifact(f string, a Artifact, ids map[string]bool) {
	if a.Size < 0 {
		c.fail(f+"size", fmt.Sprint(a.Size), "negative")
	}
	c.match(f+"sha256", a.SHA256, false, sha256RE, wantSHA256)
	c.oneOf(f+"kind", a.Kind, false, Kinds...)
	c.match(f+"triple", a.Triple, true, tripleRE, wantTriple)
	c.match(f+"arch", a.Arch, false, archRE, wantArch)
	c.oneOf(f+"libc", string(a.Libc), true, "glibc", "musl", "none", "unknown")
	c.match(f+"distro", a.Distro, Format(a.Kind) == "tarball", idRE, wantID)
	if a.Distro != "" && !ids[a.Distro] && idRE.MatchString(a.Distro) {
		c.fail(f+"distro", a.Distro, "not one of the manifest's distros[].id")
	}
	c.match(f+"floor", a.Floor, true, numVersionRE, wantNumVer)
	c.match(f+"glibc_measured", a.GlibcMeasured, true, numVersionRE, wantNumVer)
	for j, r := range a.Relations {
		c.match(fmt.Sprintf("%srelations[%d]", f, j), r, false, relationRE, wantRelRule)
	}
	c.match(f+"z3", a.Z3, true, idRE, "a Z3 mode such as bundled, unbundled or sidecar")
	c.match(f+"z3_soname", a.Z3So, true, safeFileRE, wantFile)
	c.match(f+"z3_package", a.Z3Package, true, nameRE, wantName)
	for j, p := range a.Contents {
		c.relPath(fmt.Sprintf("%scontents[%d]", f, j), p)
	}
	c.match(f+"package_version", a.PackageVersion, true, pkgVersionRE, wantPkgVer)
	c.match(f+"runpath", a.Runpath, true, runpathRE, "a RUNPATH such as $ORIGIN/../lib")
	c.sidecar(f+"sidecar.", a.Sidecar)
	c.repositories(f, a.Repositories)
	c.sboms(f, a)
	c.debug(f, a)
}

// debug checks an artifact's debug-symbol fields: a build-id in hex, a
// plain file name for Debug and DebugFor, a debug file path, and the
// fields of a debug artifact only on a debug artifact.
func (c *checker) debug(f string, a Artifact) {
	c.match(f+"build_id", a.BuildID, true, buildIDRE, "a GNU build-id in lower-case hex (an even number of digits, 4 to 128)")
	c.match(f+"debug", a.Debug, true, safeFileRE, wantFile)
	c.match(f+"debug_for", a.DebugFor, true, safeFileRE, wantFile)
	if a.DebugFile != "" {
		c.match(f+"debug_file", a.DebugFile, false, debugFileRE, "a build-id path such as /usr/lib/debug/.build-id/ab/cdef.debug")
	}
	if IsDebug(a.Kind) {
		if a.Debug != "" {
			c.fail(f+"debug", a.Debug, "a debug artifact has no debug artifact of its own")
		}
		if a.DebugFor == "" || a.BuildID == "" || a.DebugFile == "" {
			c.fail(f+"kind", a.Kind, "a debug artifact names debug_for, build_id and debug_file")
		}
	} else if a.DebugFor != "" || a.DebugFile != "" {
		c.fail(f+"debug_for", a.DebugFor, "only a debug artifact ("+KindDebugTarball+", "+KindDdeb+", "+KindDebuginfo+") carries debug_for and debug_file")
	}
}

// sboms checks an artifact's SBOMs: each format once, in the order
// SBOMSPDX, SBOMCycloneDX, each file named after the artifact with its
// format's suffix (so no SBOM can take another file's place).
func (c *checker) sboms(f string, a Artifact) {
	last := -1
	for j, s := range a.SBOMs {
		g := fmt.Sprintf("%ssboms[%d].", f, j)
		rank := slices.Index([]string{SBOMSPDX, SBOMCycloneDX}, s.Format)
		switch {
		case rank < 0:
			c.fail(g+"format", s.Format, "want one of spdx, cyclonedx")
		case rank <= last:
			c.fail(g+"format", s.Format, "listed twice or out of order (spdx before cyclonedx)")
		}
		if rank > last {
			last = rank
		}
		c.match(g+"file", s.File, false, safeFileRE, wantFile)
		if suffix, ok := SBOMSuffix[s.Format]; ok && s.File != "" && s.File != a.File+suffix {
			c.fail(g+"file", s.File, "not the artifact's name with the "+s.Format+" suffix ("+a.File+suffix+")")
		}
		c.match(g+"sha256", s.SHA256, false, sha256RE, wantSHA256)
		if s.Size < 0 {
			c.fail(g+"size", fmt.Sprint(s.Size), "negative")
		}
	}
}

// provenance checks the provenance record, if any: its fixed names, and a
// signature exactly when the release is signed.
func (c *checker) provenance(p *Provenance, signed bool) {
	if p == nil {
		return
	}
	if p.File != ProvenanceFile {
		c.fail("provenance.file", p.File, "want "+ProvenanceFile)
	}
	switch {
	case signed && p.Signature != ProvenanceFile+".asc":
		c.fail("provenance.signature", p.Signature, "want "+ProvenanceFile+".asc: a signed release signs its provenance")
	case !signed && p.Signature != "":
		c.fail("provenance.signature", p.Signature, "an unsigned release (no signing record) has no provenance signature")
	}
}

// sidecar checks a tarball's sidecar library record, if any; f ends in
// "sidecar.".
func (c *checker) sidecar(f string, s *Sidecar) {
	if s == nil {
		return
	}
	c.relPath(f+"path", s.Path)
	c.match(f+"soname", s.Soname, true, safeFileRE, wantFile)
	c.match(f+"sha256", s.SHA256, true, sha256RE, wantSHA256)
	for j, n := range s.Needed {
		c.match(fmt.Sprintf("%sneeded[%d]", f, j), n, false, safeFileRE, wantFile)
	}
}

// repositories checks a package's add-on repositories: the enable command
// ends up in install docs and install.sh.
func (c *checker) repositories(f string, repos []Repository) {
	for j, r := range repos {
		g := fmt.Sprintf("%srepositories[%d].", f, j)
		c.text(g+"name", r.Name)
		c.match(g+"enable", r.Enable, false, enableRE, "one command of letters, digits, spaces and . / + _ : = , @ - (e.g. dnf install epel-release)")
		for k, p := range r.Packages {
			c.match(fmt.Sprintf("%spackages[%d]", g, k), p, false, nameRE, wantName)
		}
	}
}

// inputs checks the input binaries the release was built from.
func (c *checker) inputs(inputs []Input) {
	for i, in := range inputs {
		f := fmt.Sprintf("inputs[%d].", i)
		c.match(f+"triple", in.Triple, true, tripleRE, wantTriple)
		c.match(f+"file", in.File, true, safeFileRE, wantFile)
		c.match(f+"sha256", in.SHA256, true, sha256RE, wantSHA256)
		c.match(f+"machine", in.Machine, true, archRE, wantArch)
		for j, n := range in.Needed {
			c.match(fmt.Sprintf("%sneeded[%d]", f, j), n, false, safeFileRE, wantFile)
		}
		c.match(f+"z3_soname", in.Z3So, true, safeFileRE, wantFile)
		c.match(f+"build_id", in.BuildID, true, buildIDRE, "a GNU build-id in lower-case hex")
	}
}

// partial checks the fields of a partial release (relpack build --only):
// selectors and planned only with partial: true, then each selector and
// planned file, then that a partial names its selectors and plans every
// artifact it holds.
func (c *checker) partial(m *Manifest) {
	if !m.Partial && (len(m.Selectors) > 0 || len(m.Planned) > 0) {
		c.fail("partial", "false", "selectors and planned belong to a partial release (partial: true) only")
	}
	for i, s := range m.Selectors {
		c.match(fmt.Sprintf("selectors[%d]", i), s, false, idRE, "a selector: a triple, an arch, a distro target id or a kind")
	}
	planned := c.planned(m.Planned)
	if !m.Partial {
		return
	}
	if len(m.Selectors) == 0 {
		c.fail("selectors", "", "missing: a partial release names the --only selectors it was built with")
	}
	for i, a := range m.Artifacts {
		if !planned[a.File] {
			c.fail(fmt.Sprintf("artifacts[%d].file", i), a.File, "not in planned[]: a partial release plans every artifact it holds")
		}
	}
}

// planned checks a partial release's planned files, each listed once, and
// returns their set.
func (c *checker) planned(plan []Planned) map[string]bool {
	planned := map[string]bool{}
	for i, p := range plan {
		f := fmt.Sprintf("planned[%d].", i)
		c.match(f+"file", p.File, false, safeFileRE, wantFile)
		c.notReleaseFile(f+"file", p.File)
		if planned[p.File] {
			c.fail(f+"file", p.File, "listed twice")
		}
		planned[p.File] = true
		c.match(f+"input", p.Input, true, sha256RE, wantSHA256)
	}
	return planned
}

// signing checks the signing record of a signed release, if any.
func (c *checker) signing(s *Signing) {
	if s == nil {
		return
	}
	c.match("signing.fingerprint", s.Fingerprint, false, fingerprintRE, "40 hex digits")
	c.match("signing.key_id", s.KeyID, true, keyIDRE, "16 hex digits")
	c.text("signing.user_id", s.UserID)
	c.match("signing.signature", s.Signature, true, safeFileRE, wantFile)
	c.match("signing.public_key", s.PublicKey, true, safeFileRE, wantFile)
}

// ReadValid is Read for a consumer that renders the manifest (docs,
// installer): it also refuses an empty file or object ({}, null) with a
// message saying so, and runs Validate; errors name path and the field.
func ReadValid(path string) (*Manifest, error) {
	b, err := readFile(path)
	if err != nil {
		return nil, err
	}
	m, err := Parse(b)
	if ie, ok := err.(*InvalidError); ok {
		ie.File = path
		return nil, ie
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// Parse is ReadValid of bytes already read (relpack verify-release checks
// the very bytes whose sha256 it compared): it refuses an empty file or
// object, another schema, and any invalid field (an *InvalidError). The
// errors do not name the file; the caller does.
func Parse(b []byte) (*Manifest, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, errors.New("the file is empty, not a relpack manifest (relpack build writes manifest.json beside the artifacts)")
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("not a relpack manifest: %w", err)
	}
	if m.Schema == 0 && m.Product == "" && m.Version == "" && len(m.Artifacts) == 0 {
		return nil, errors.New("empty manifest: no schema, product, version or artifacts; give the manifest.json that relpack build wrote")
	}
	if m.Schema != SchemaVersion {
		return nil, fmt.Errorf("manifest schema %d, this relpack reads schema %d", m.Schema, SchemaVersion)
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return &m, nil
}
