// Package components reads what an ELF binary says it embeds: the Rust
// crates cargo-auditable records in the .dep-v0 section, and the Go modules
// of Go's build info. It is the source of the "components" part of an SBOM:
// every entry comes from the file itself, and a binary that records neither
// is reported as such (Known false), never given an invented list.
//
// Everything read is attacker-controlled (a release input is any file a
// user names): the compressed and decompressed sizes of .dep-v0 are capped,
// the JSON is bounded and checked (package count, dependency indexes, a
// single root, no cycles) and every name, version and source that reaches
// a caller has passed a character check, so it can go into JSON, Markdown
// and purls as is.
package components

import (
	"debug/elf"
	"fmt"
	"io"

	"relpack/internal/regular"
)

// Ecosystems of a Component.
const (
	Cargo  = "cargo"  // a Rust crate from cargo-auditable's .dep-v0
	Golang = "golang" // a Go module from Go's build info
)

// Sources of a cargo component, as cargo-auditable writes them. Any other
// word is kept as written (the format is "designed to be extensible").
const (
	SourceCratesIO = "crates.io"
	SourceGit      = "git"
	SourceLocal    = "local"
	SourceRegistry = "registry" // an alternative registry; which one is not recorded
)

// Components is what one binary records about what it embeds.
type Components struct {
	File  string      // the path given to Read, or the name given to ReadAt
	Cargo *CargoAudit // nil: no .dep-v0 section
	Go    *GoBuild    // nil: no Go build info
	// List holds the cargo packages first, in .dep-v0 order (so
	// Component.Dependencies index it), then the Go main module and the Go
	// dependencies in build-info order.
	List []Component
	// Unknown says why nothing is known, when Cargo and Go are both nil:
	// what an SBOM writes instead of a component list.
	Unknown string
}

// Known reports whether the binary records its components at all.
func (c *Components) Known() bool { return c.Cargo != nil || c.Go != nil }

// CargoAudit is the header of a .dep-v0 section.
type CargoAudit struct {
	Format uint32 // cargo-auditable's format revision (0, 1, 8...)
	Size   int64  // bytes of the compressed section
}

// GoBuild is the header of Go's build info.
type GoBuild struct {
	Toolchain string // the Go version that built the binary: "go1.26.8"
	Path      string // the main package's import path
}

// Component is one crate or module.
type Component struct {
	Ecosystem string // Cargo or Golang
	Name      string // crate name, or module path
	Version   string // crate version, or module version ("" for a Go module replaced by a directory)
	// Purl is the package URL, "" when none names the component truthfully:
	// a crate that does not come from crates.io (the purl spec's cargo
	// type means crates.io, and .dep-v0 does not record which git
	// repository or registry it came from), or a Go module replaced by a
	// local directory (no version to name).
	Purl string
	Main bool // cargo: the root package (the binary's own crate); Go: the main module

	// cargo only
	Source       string // SourceCratesIO, SourceGit, SourceLocal, SourceRegistry or another word
	Build        bool   // a build-time dependency (build script, proc macro): not linked into the binary
	Dependencies []int  // indexes in Components.List of the packages it depends on

	// Go only
	Replace *Replacement // the module compiled in its place, nil when none
	Sum     string       // the go.sum hash of the module ("h1:..."), "" when none
}

// Replacement is the target of a go.mod replace directive.
type Replacement struct {
	Path    string // module path, or a directory ("./greet", "/src/x")
	Version string // "" for a directory
	Sum     string
}

// Unknown reasons.
const (
	UnknownNotELF  = "not an ELF file: no cargo-auditable .dep-v0 section and no Go build info"
	UnknownNeither = "the binary records no components: no cargo-auditable .dep-v0 section and no Go build info"
)

// Error is a failure to read a file's components; it names the file.
type Error struct {
	File string
	Err  error
}

func (e *Error) Error() string { return e.File + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Read reads the components of the file at path. The file must be a
// regular file (internal/regular: a FIFO or device is refused before it
// can block). A file that is not ELF is no error: its components are
// unknown.
func Read(path string) (*Components, error) {
	f, st, err := regular.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadAt(f, st.Size(), path)
}

// ReadAt reads the components of the ELF file in r, size bytes long; name
// is used in Components.File and in errors.
func ReadAt(r io.ReaderAt, size int64, name string) (c *Components, err error) {
	// debug/elf and debug/buildinfo validate most structures, but
	// malformed input has made them panic in the past (pkg/abi keeps the
	// same net); a packager reading untrusted bytes must not crash.
	defer func() {
		if p := recover(); p != nil {
			c, err = nil, &Error{name, fmt.Errorf("malformed ELF file (reading it failed: %v)", p)}
		}
	}()
	c = &Components{File: name}
	if !isELF(r, size) {
		c.Unknown = UnknownNotELF
		return c, nil
	}
	ef, err := elf.NewFile(io.NewSectionReader(r, 0, size))
	if err != nil {
		return nil, &Error{name, fmt.Errorf("not a readable ELF file: %w", err)}
	}
	defer ef.Close()
	if err := c.readCargo(ef); err != nil {
		return nil, &Error{name, err}
	}
	if err := c.readGo(r, size); err != nil {
		return nil, &Error{name, err}
	}
	if !c.Known() {
		c.Unknown = UnknownNeither
	}
	return c, nil
}

// isELF checks the magic, so that a script or a text file is "unknown"
// rather than an error.
func isELF(r io.ReaderAt, size int64) bool {
	if size < 4 {
		return false
	}
	var m [4]byte
	if _, err := r.ReadAt(m[:], 0); err != nil {
		return false
	}
	return string(m[:]) == elf.ELFMAG
}

// readCargo reads the .dep-v0 section when there is one.
func (c *Components) readCargo(ef *elf.File) error {
	sec := ef.Section(depSection)
	if sec == nil {
		return nil
	}
	pkgs, audit, err := readDepV0Section(sec)
	if err != nil {
		return err
	}
	c.Cargo = audit
	c.List = append(c.List, pkgs...)
	return nil
}
