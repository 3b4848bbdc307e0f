// Package rpmmd writes the repodata/ of an rpm-md (dnf/yum) repository:
// primary, filelists and other (gzip'd XML, named by their sha256),
// repomd.xml listing them, and its detached signature repomd.xml.asc (dnf's
// repo_gpgcheck). The rpms are placed by the caller (pkg/repo); this
// package reads their headers and checksums and never moves them.
package rpmmd

import (
	"errors"
	"time"

	"relpack/pkg/sign"
)

// Package is one rpm already in the repository directory.
type Package struct {
	// Path is the rpm on disk.
	Path string
	// Href is its path relative to the repository directory (the
	// directory holding repodata/), e.g. "Packages/openshell-gateway-0.1.0-1.el8.x86_64.rpm".
	Href string
}

// Options are the settings of one repository.
type Options struct {
	// Time is every timestamp repomd.xml and the XML carry (file
	// times, revision): SOURCE_DATE_EPOCH, so the same inputs give the
	// same bytes.
	Time time.Time
	// Key signs repomd.xml (repomd.xml.asc). It must not be nil.
	Key *sign.Key
}

// ErrNotImplemented is returned until the writer lands.
var ErrNotImplemented = errors.New("rpmmd: not implemented")

// WriteRepo writes dir/repodata/: SHA256-primary.xml.gz,
// SHA256-filelists.xml.gz and SHA256-other.xml.gz (earlier ones are kept,
// so a client holding the previous repomd.xml can still fetch them), then
// repomd.xml.asc and repomd.xml, each written to a temporary file and
// renamed, repomd.xml last.
func WriteRepo(dir string, pkgs []Package, o Options) error { return ErrNotImplemented }
