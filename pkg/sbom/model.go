// Package sbom writes the software bill of materials of one artifact
// (a tarball, deb or rpm) as SPDX 2.3 JSON and CycloneDX 1.6 JSON.
//
// The Document is plain data that relpack build fills from what it proved:
// the artifact and its files, the components each binary records
// (pkg/components), the libraries the artifact carries, and what it needs
// from the host (its runtime relations and its glibc floor). The writers
// add nothing a reader could take for a fact relpack did not establish,
// and take no time from the clock: the same Document gives the same bytes.
package sbom

import "relpack/pkg/components"

// Document is everything an SBOM of one artifact says.
type Document struct {
	// Product, Version, License (an SPDX expression), Homepage and
	// Supplier (packaging.yaml's vendor, or its maintainer) describe the
	// release; Version is the release's semver.
	Product, Version, License, Homepage, Supplier string
	// Artifact is the file the SBOM describes.
	Artifact Artifact
	// Files are the artifact's regular files, sorted by Path.
	Files []File
	// Binaries are the ELF executables it carries, sorted by Path, with
	// the components each records (Components.Known() false: unknown).
	Binaries []Binary
	// Libraries are the shared libraries it carries (a tarball's sidecar,
	// a package's private copies), sorted by Path.
	Libraries []Library
	// Requires are the runtime relations relpack declared for the
	// artifact's distro target, as written into the package (deb Depends,
	// rpm Requires); empty for tarballs.
	Requires []Requirement
	// Floor is the glibc floor the artifact is proved to meet ("" for a
	// musl artifact), and GlibcMeasured the highest GLIBC version its
	// binary needs.
	Floor, GlibcMeasured string
	// Created is the release's SOURCE_DATE_EPOCH (seconds): the SBOM's
	// creation time, never the clock.
	Created int64
	// Tool is relpack's own version, e.g. "relpack 0.4.0".
	Tool string
}

// Artifact is the tarball or package an SBOM describes.
type Artifact struct {
	File   string // its file name in the release
	SHA256 string
	Size   int64
	Kind   string // "tarball", "deb" or "rpm"
	// Name is the package (or product) name, PackageVersion the version a
	// package carries (0.1.0-1~deb12, 0.1.0-1.el9); "" for a tarball.
	Name, PackageVersion string
	// Arch is the package's own architecture word (amd64, arm64, x86_64,
	// aarch64) or, for a tarball, the triple.
	Arch string
	// Distro is the distro target id (debian12, el9); "" for a tarball.
	// DistroPurl is the purl "distro" qualifier of the target
	// (debian-12, el-9), set by the caller from the catalogue.
	Distro, DistroPurl string
}

// File is one regular file inside the artifact.
type File struct {
	Path   string // inside the artifact, e.g. usr/bin/openshell-gateway
	SHA256 string
	Size   int64
	// SHA1 is the file's SHA-1, which SPDX 2.3 (clause 8.4) requires of
	// every file beside any other checksum; "" leaves it out (the SPDX
	// document then carries the SHA256 alone, short of clause 8.4).
	SHA1 string
}

// Binary is an ELF executable inside the artifact and what it records of
// the components linked into it.
type Binary struct {
	Path       string
	SHA256     string
	Components *components.Components
}

// Library is a shared library inside the artifact.
type Library struct {
	Path    string // inside the artifact
	SHA256  string
	Soname  string // libz3.so.4.8
	Name    string // the library's stem or package name (libz3)
	Version string // the version relpack proved, "" when unknown
	// Role is "sidecar" (a tarball's lib/) or "private" (a package's own
	// copy under its private directory).
	Role string
}

// Requirement is one runtime relation on a distro package.
type Requirement struct {
	// Raw is the relation as the package writes it:
	// "libz3-4 (>= 4.8.12)", "glibc >= 2.28", "libc.so.6(GLIBC_2.28)(64bit)".
	Raw string
	// Package is the distro package it names, or the capability for an
	// rpm soname relation; Constraint the version part (">= 4.8.12"),
	// "" when none.
	Package, Constraint string
}

// The file names of an artifact's SBOMs in a release: ARTIFACT.spdx.json
// and ARTIFACT.cdx.json, beside the artifact.
const (
	SPDXSuffix      = ".spdx.json"
	CycloneDXSuffix = ".cdx.json"
)
