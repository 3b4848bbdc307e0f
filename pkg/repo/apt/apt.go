// Package apt writes the index files of a Debian (apt) repository: per
// suite, dists/SUITE/COMPONENT/binary-ARCH/Packages (+ .gz, .xz) with their
// Acquire-By-Hash copies, and the Release file that lists them, signed as
// InRelease (clear-signed) and Release.gpg (detached). The debs themselves
// are placed under pool/ by the caller (pkg/repo); this package reads
// their control stanzas and checksums and never moves them.
package apt

import (
	"errors"
	"time"

	"relpack/pkg/sign"
)

// Package is one deb already in the tree.
type Package struct {
	// Path is the deb on disk (inside the tree).
	Path string
	// Filename is its path relative to the tree root, as the Packages
	// stanza's Filename field gives it, e.g.
	// "pool/main/o/openshell-gateway/openshell-gateway_0.1.0-1~deb12_amd64.deb".
	Filename string
}

// Suite is one dists/SUITE of the tree.
type Suite struct {
	Suite       string   // the directory under dists/ and the Suite field, e.g. "bookworm"
	Codename    string   // the Codename field, e.g. "bookworm"
	Component   string   // e.g. "main"
	Arches      []string // Debian architecture names; a Packages file is written for each, even an empty one
	Packages    []Package
	Origin      string // Release's Origin and Label fields
	Label       string
	Description string
}

// Options are the settings every suite shares.
type Options struct {
	// Date is Release's Date field (SOURCE_DATE_EPOCH), so the same
	// inputs give the same bytes.
	Date time.Time
	// Key signs InRelease and Release.gpg. It must not be nil: apt
	// refuses an unsigned repository without [trusted=yes].
	Key *sign.Key
}

// ErrNotImplemented is returned until the writer lands.
var ErrNotImplemented = errors.New("apt: not implemented")

// WriteSuite writes root/dists/s.Suite/: every Packages index and its
// compressed forms, their by-hash copies (never removed: a client that
// read the previous InRelease can still fetch what it lists), then
// Release, Release.gpg and InRelease, each written to a temporary file and
// renamed, InRelease last. Re-running with the same inputs writes the same
// bytes.
func WriteSuite(root string, s Suite, o Options) error { return ErrNotImplemented }
