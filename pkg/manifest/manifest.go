// Package manifest is the schema of manifest.json: the record of one release
// that install docs, installers and CI read. docs/manifest.md documents it;
// fields are only ever added, and Schema changes when meaning changes.
package manifest

import (
	"encoding/json"
	"fmt"
	"os"

	"relpack/pkg/abi"
)

// SchemaVersion is the current manifest schema.
const SchemaVersion = 1

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
	SourceDateEpoch int64      `json:"source_date_epoch"`
	Floor           Floor      `json:"floor"`
	Inputs          []Input    `json:"inputs"`
	Distros         []Distro   `json:"distros"`
	Artifacts       []Artifact `json:"artifacts"`
	// Signing is set when the release is signed: the key that signed
	// every deb and rpm and SHA256SUMS (in SHA256SUMS.asc). The manifest
	// is listed in SHA256SUMS, so this record is itself covered by the
	// signature.
	Signing *Signing `json:"signing,omitempty"`
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
	Covers   []string          `json:"covers"`
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
}

// Distro is one distro target packaged for.
type Distro struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Format string `json:"format"`
	Glibc  string `json:"glibc"`
}

// Artifact is one file of the release.
type Artifact struct {
	File   string `json:"file"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	// Kind is "tarball", "deb" or "rpm".
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
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: cannot read the manifest: %w", path, err)
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
