// Package config loads packaging.yaml: the release configuration of one
// product. Every error names the file and line, says what is wrong and what
// to write instead.
//
// Parse runs one loader per section of the file, in the order of the
// sections table below; each loader checks its keys and fills its part of
// Config. To add a key: add its field to the section's raw struct (with
// its yaml tag, in the section's file: product.go, targets.go, ...) and to
// Config, then check and copy it in that section's loader, reporting with
// l.fail(KEY, ...) so the message carries the key's line. A new section is
// a raw struct inlined in raw, a loader, and a line in sections.
package config

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"relpack/internal/regular"
)

// Config is a loaded and validated packaging.yaml. Paths are absolute.
type Config struct {
	File string // the packaging.yaml read
	Dir  string // its directory; relative paths in the file start here
	// SHA256 is the sha256 of the file's bytes, for the provenance
	// statement; not part of the configuration digest (a comment changes
	// it, and shapes no artifact).
	SHA256 string `json:"-"`
	// given maps each path the file names, made absolute, to the text
	// the user wrote, for messages (Given).
	given map[string]string

	// Loaded by product (product.go).
	Name        string
	Summary     string
	Description string
	Maintainer  string
	Vendor      string
	Homepage    string
	License     string
	// LicenseFile is the product's license text: rpms install it as
	// %license, debs get a DEP-5 copyright file built from it.
	LicenseFile string
	// Copyright is the DEP-5 Copyright notice, e.g. "2025 The OpenShell authors".
	Copyright string
	Section   string
	Priority  string
	Group     string

	// Loaded by floor (floor.go).
	Floor Floor
	// Z3 is the expected Z3 mode of the gnu inputs ("bundled", "unbundled"),
	// or "" to accept what the binaries say. It is checked, never assumed.
	Z3 string

	// Loaded by inputs (inputs.go).
	//
	// Inputs maps a target triple to its binary.
	Inputs map[string]string

	// Loaded by binary and files (install.go).
	//
	// Binary is where packages install the binary.
	Binary string
	// Files are the extra files packages install.
	Files []File

	// Loaded by systemd (systemd.go).
	//
	// Systemd, when set, makes packages install a systemd unit rendered
	// from templates/.
	Systemd *Systemd

	// Loaded by tarball files and tarball sidecar (tarball.go).
	Tarball Tarball

	// Loaded by targets (targets.go).
	Targets []Target

	// Loaded by signing (signing.go).
	//
	// Signing, when set, signs the packages and SHA256SUMS.
	Signing *Signing

	// Loaded by libraries (libraries.go).
	//
	// Libraries states what the release needs of each library beyond its
	// soname, by name stem ("libz3" matches libz3.so.4 and libz3.so.4.8).
	Libraries map[string]Library

	// Loaded by sbom and provenance (sbom.go).
	//
	// SBOM lists the SBOM formats written for every artifact; Provenance
	// what the release's provenance statement records of the builder.
	SBOM       SBOM
	Provenance Provenance

	// Loaded by debug symbols (debugsymbols.go).
	//
	// DebugSymbols, when set, says whether and how the inputs' debug
	// symbols are split into debug artifacts; nil: inputs are packaged
	// as given.
	DebugSymbols *DebugSymbols

	lines map[string]int // "targets[2].glibc" -> line, for later errors
}

// raw is the file's shape: one struct per section, inlined, each in its
// section's file beside its loader. Its name shows in yaml's messages
// ("cannot unmarshal !!seq into config.raw"), so it stays raw.
type raw struct {
	rawProduct      `yaml:",inline"`
	rawFloor        `yaml:",inline"`
	rawSigning      `yaml:",inline"`
	rawInputs       `yaml:",inline"`
	rawInstall      `yaml:",inline"`
	rawSystemd      `yaml:",inline"`
	rawTarball      `yaml:",inline"`
	rawLibraries    `yaml:",inline"`
	rawTargets      `yaml:",inline"`
	rawSBOM         `yaml:",inline"`
	rawDebugSymbols `yaml:",inline"`
}

// Error is a problem at a place in the file.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// Errors is every problem found in one file, in line order.
type Errors []*Error

func (es Errors) Error() string {
	var b strings.Builder
	for i, e := range es {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

var (
	TripleRE   = regexp.MustCompile(`^(x86_64|aarch64)-unknown-linux-(gnu|musl)$`)
	envNameRE  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	pkgNameRE  = regexp.MustCompile(`^[a-z0-9][a-z0-9.+-]+$`)
	yamlLineRE = regexp.MustCompile(`^yaml: (?:unmarshal errors:\n\s*)?line (\d+): (.*)$`)
)

// MaxConfigSize bounds packaging.yaml: the gateway's is 3 KB. A bound keeps
// `-c /dev/zero`-like mistakes from exhausting memory.
const MaxConfigSize = 1 << 20

// Load reads and validates a packaging.yaml.
func Load(path string) (*Config, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, &Error{File: path, Msg: err.Error()}
	}
	f, st, err := regular.Open(abs)
	if err != nil {
		var nr *regular.NotRegularError
		if errors.As(err, &nr) {
			return nil, &Error{File: path, Msg: fmt.Sprintf("is %s, not a regular file; give the path of packaging.yaml", regular.Kind(nr.Mode))}
		}
		return nil, &Error{File: path, Msg: fmt.Sprintf("cannot read the configuration: %v", err)}
	}
	defer f.Close()
	if st.Size() > MaxConfigSize {
		return nil, &Error{File: path, Msg: fmt.Sprintf("is larger than 1 MiB (%d bytes); a release configuration is a few KB: is this the right file?", st.Size())}
	}
	// Read at most one byte past the limit: the file may grow after the
	// stat.
	data, err := io.ReadAll(io.LimitReader(f, MaxConfigSize+1))
	if err != nil {
		return nil, &Error{File: path, Msg: fmt.Sprintf("cannot read the configuration: %v", err)}
	}
	if len(data) > MaxConfigSize {
		return nil, &Error{File: path, Msg: "is larger than 1 MiB; a release configuration is a few KB: is this the right file?"}
	}
	return Parse(path, filepath.Dir(abs), data)
}

// sections are Parse's loaders, in the order they run. A loader reads the
// raw file and what the loaders above it added to the Config, checks its
// section and adds its part. The order is also the order of messages on
// one line (the file's first line, where a missing key is reported), so a
// new section goes at the end unless it must come earlier.
var sections = []section{
	{"product", (*loader).product},                    // name, summary, description, maintainer, license, copyright...; license_file required
	{"floor", (*loader).floor},                        // floor (policy derivable on every arch), z3
	{"signing", (*loader).signing},                    // key_file or key_env, never the key
	{"inputs", (*loader).inputs},                      // triple -> binary
	{"binary", (*loader).binary},                      // install path (default /usr/bin/NAME); license_file's path text
	{"files", (*loader).files},                        // extra files: src, dst, mode
	{"systemd", (*loader).systemd},                    // unit, scope, args, description; the binary as ExecStart
	{"tarball files", (*loader).tarballFiles},         // tarball.files
	{"libraries", (*loader).libraries},                // libraries by stem: min_version, why, files, private
	{"tarball sidecar", (*loader).sidecar},            // tarball.sidecar: suffix, libraries (or libraries:' files)
	{"layout", (*loader).layout},                      // binary, unit, generated files and files: together
	{"targets", (*loader).targets},                    // catalogue ids or inline distros, floor, per-target inputs
	{"private libraries", (*loader).privateLibraries}, // targets' private: and libraries.STEM.private agree
	{"targets given", (*loader).targetsGiven},         // targets: not empty
	{"sbom and provenance", (*loader).sbom},           // sbom.formats (default both), provenance.builder_id_env
	{"debug symbols", (*loader).debugSymbols},         // debug_symbols: split, without_build_id, files (keys: inputs of inputs: and targets)
}

// section is one loader of Parse.
type section struct {
	name string
	load func(*loader)
}

// Sections lists Parse's section loaders, in the order they run.
func Sections() []string {
	names := make([]string, len(sections))
	for i, s := range sections {
		names[i] = s.name
	}
	return names
}

// loader is one Parse: the file read, the Config the sections fill, and
// every problem found so far.
type loader struct {
	file string     // the name errors carry
	root *yaml.Node // the document's top mapping, for lines
	r    *raw       // the file decoded
	c    *Config
	errs Errors
	// seen is the target ids listed (added by targets).
	seen map[string]bool
}

// fail reports a problem at the line of a dotted key path (lineOf).
func (l *loader) fail(key string, format string, args ...any) {
	l.failAt(lineOf(l.root, key), format, args...)
}

// failAt reports a problem at a line.
func (l *loader) failAt(line int, format string, args ...any) {
	l.errs = append(l.errs, &Error{File: l.file, Line: line, Msg: fmt.Sprintf(format, args...)})
}

// Parse validates packaging.yaml content; name is used in errors, dir
// anchors relative paths. Every section is checked, and all problems are
// returned together, in line order.
func Parse(name, dir string, data []byte) (*Config, error) {
	l, err := decode(name, dir, data)
	if err != nil {
		return nil, err
	}
	for _, s := range sections {
		s.load(l)
	}
	if len(l.errs) > 0 {
		sort.SliceStable(l.errs, func(i, j int) bool { return l.errs[i].Line < l.errs[j].Line }) // same line: section order
		return nil, l.errs
	}
	return l.c, nil
}

// decode reads the YAML (a syntax error, an unknown key or a value of the
// wrong type stops here, with its line) and starts the loader with an
// empty Config.
func decode(name, dir string, data []byte) (*loader, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, yamlError(name, err)
	}
	if len(doc.Content) == 0 {
		return nil, &Error{File: name, Msg: "the file is empty; see docs/config.md for a complete example"}
	}
	var r raw
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&r); err != nil {
		return nil, yamlError(name, err)
	}
	return &loader{
		file: name,
		root: doc.Content[0],
		r:    &r,
		c:    &Config{File: name, Dir: dir, SHA256: sha256Hex(data), Inputs: map[string]string{}, lines: map[string]int{}},
		seen: map[string]bool{},
	}, nil
}

// sha256Hex is the sha256 of b in lower-case hex.
func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func (c *Config) abs(p string) string {
	a := filepath.Join(c.Dir, p)
	if filepath.IsAbs(p) {
		a = filepath.Clean(p)
	}
	if c.given == nil {
		c.given = map[string]string{}
	}
	if _, ok := c.given[a]; !ok {
		c.given[a] = p
	}
	return a
}

// Given returns path p as the configuration wrote it (relative to its
// folder, as the user gave it), for messages; a path the file does not
// name (a --bin argument) is returned unchanged.
func (c *Config) Given(p string) string {
	if g, ok := c.given[p]; ok {
		return g
	}
	return p
}

// PrivateFor reports whether the packages of target id ship the library
// stem themselves (libraries.STEM.private, or the target's private:).
func (c *Config) PrivateFor(id, stem string) bool {
	lib, ok := c.Libraries[stem]
	if !ok {
		return false
	}
	for _, t := range lib.Private {
		if t == "*" || t == id {
			return true
		}
	}
	for _, t := range c.Targets {
		if t.ID == id && slices.Contains(t.Private, stem) {
			return true
		}
	}
	return false
}

// LibraryFor returns the libraries: entry whose stem names soname
// (libz3 for libz3.so.4 and libz3.so.4.8), and the stem.
func (c *Config) LibraryFor(soname string) (Library, string, bool) {
	stem, _, ok := strings.Cut(soname, ".so")
	if !ok {
		return Library{}, "", false
	}
	lib, ok := c.Libraries[stem]
	return lib, stem, ok
}

// LineOfTarget returns the line where a distro target is listed, or 0.
func (c *Config) LineOfTarget(id string) int { return c.lines["target:"+id] }

// Where names the place of a key in the file, "packaging.yaml:12", for
// errors found after loading (a missing src, an unreadable input). Keys
// are dotted paths as in the file: "files[2].src", "inputs.TRIPLE",
// "license_file", "tarball.files[0]", "tarball.sidecar.libraries.ARCH".
func (c *Config) Where(key string) string {
	if l := c.lines[key]; l > 0 {
		return fmt.Sprintf("%s:%d", c.File, l)
	}
	return c.File
}
