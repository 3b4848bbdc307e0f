// Package config loads packaging.yaml: the release configuration of one
// product. Every error names the file and line, says what is wrong and what
// to write instead.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"relpack/internal/regular"

	"relpack/pkg/abi"
	"relpack/pkg/deps"
	"relpack/pkg/distro"
	"relpack/templates"
)

// Config is a loaded and validated packaging.yaml. Paths are absolute.
type Config struct {
	File string // the packaging.yaml read
	Dir  string // its directory; relative paths in the file start here
	// given maps each path the file names, made absolute, to the text
	// the user wrote, for messages (Given).
	given map[string]string

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

	Floor Floor
	// Z3 is the expected Z3 mode of the gnu inputs ("bundled", "unbundled"),
	// or "" to accept what the binaries say. It is checked, never assumed.
	Z3 string

	// Inputs maps a target triple to its binary.
	Inputs map[string]string
	// Binary is where packages install the binary.
	Binary string
	// Files are the extra files packages install.
	Files []File
	// Systemd, when set, makes packages install a systemd unit rendered
	// from templates/.
	Systemd *Systemd
	Tarball Tarball
	Targets []Target
	// Signing, when set, signs the packages and SHA256SUMS.
	Signing *Signing
	// Libraries states what the release needs of each library beyond its
	// soname, by name stem ("libz3" matches libz3.so.4 and libz3.so.4.8).
	Libraries map[string]Library

	lines map[string]int // "targets[2].glibc" -> line, for later errors
}

// Library is what the release needs of one library (issue 10).
type Library struct {
	// MinVersion is the lowest upstream version the binary works with
	// ("4.8.17"): a target whose package ships less is refused (or, with
	// Private, served by the library the release ships itself), and
	// relations carry it (libz3-4 (>= 4.8.17), z3-libs >= 4.8.17).
	MinVersion string `yaml:"min_version"`
	// Why says where the minimum comes from, for messages and docs.
	Why string `yaml:"why"`
	// Files maps an architecture to the library file the release ships
	// where the library is private (and in sidecar tarballs).
	Files map[string]string `yaml:"files"`
	// Private lists the target ids whose packages ship Files under
	// /usr/lib/NAME/ (RUNPATH set there) instead of depending on the
	// distro's package; ["*"] means every target.
	Private []string `yaml:"private"`
}

// Signing says where the release signing key comes from: a file or an
// environment variable, never the key itself. The passphrase is read from
// RELPACK_SIGNING_PASSPHRASE only; the file has no place for it.
type Signing struct {
	// KeyFile is the armoured (or binary) private key; relative paths
	// start at packaging.yaml's directory.
	KeyFile string `yaml:"key_file"`
	// KeyEnv names the environment variable holding the armoured key.
	KeyEnv string `yaml:"key_env"`
}

// Target is one distro target to package for.
type Target struct {
	distro.Distro
	// Inputs overrides the release's inputs for this target's packages
	// (triple -> path), e.g. a gnu build linked against the distro's own Z3
	// soname. Tarballs always use the release's inputs.
	Inputs map[string]string
}

// Input returns the binary to package for a triple on this target.
func (t Target) Input(c *Config, triple string) string {
	if p, ok := t.Inputs[triple]; ok {
		return p
	}
	return c.Inputs[triple]
}

// Floor is the promised ABI floor.
type Floor struct {
	Glibc   string `yaml:"glibc"`
	GLIBCXX string `yaml:"glibcxx"`
	CXXABI  string `yaml:"cxxabi"`
	GCC     string `yaml:"gcc"`
}

// Policy returns the verification policy of the floor on arch (x86_64,
// aarch64): the C++ runtime and libgcc_s limits derived from the catalog's
// targets (distro.PolicyFor), with the floor's overrides.
func (f Floor) Policy(arch string) (abi.Policy, error) {
	return distro.PolicyFor(f.Glibc, arch, map[string]string{"GLIBCXX": f.GLIBCXX, "CXXABI": f.CXXABI, "GCC": f.GCC})
}

// PolicyArches are the architectures a floor is checked for when the
// configuration is loaded.
var PolicyArches = []string{"x86_64", "aarch64"}

// File is one extra file installed by the packages.
type File struct {
	Src  string `yaml:"src"`
	Dst  string `yaml:"dst"`
	Mode string `yaml:"mode"` // octal, e.g. "0644"; default 0644
	// Config marks a file the admin may edit (deb conffile, rpm %config).
	Config bool `yaml:"config"`
}

// Systemd describes the unit packages install.
type Systemd struct {
	Unit        string `yaml:"unit"`  // file name, e.g. openshell-gateway.service
	Scope       string `yaml:"scope"` // "user" or "system"
	Args        string `yaml:"args"`  // arguments after the binary in ExecStart
	Description string `yaml:"description"`
	// Enable enables the unit on install (system scope: for the system;
	// user scope: globally for every user, systemctl --global). Default:
	// true for system units, false for user units (issue 11).
	Enable *bool `yaml:"enable"`
	// RestartOnUpgrade restarts a running service when the package is
	// upgraded (default true), as dh_installsystemd and
	// %systemd_postun_with_restart do.
	RestartOnUpgrade *bool `yaml:"restart_on_upgrade"`
}

// Enabled reports whether the unit is enabled on install.
func (s Systemd) Enabled() bool {
	if s.Enable != nil {
		return *s.Enable
	}
	return s.Scope == "system"
}

// RestartsOnUpgrade reports whether an upgrade restarts the service.
func (s Systemd) RestartsOnUpgrade() bool {
	return s.RestartOnUpgrade == nil || *s.RestartOnUpgrade
}

// UnitPath is where the unit is installed.
func (s Systemd) UnitPath() string {
	if s.Scope == "system" {
		return "/usr/lib/systemd/system/" + s.Unit
	}
	return "/usr/lib/systemd/user/" + s.Unit
}

// Tarball configures the tarballs.
type Tarball struct {
	// Files are extra files placed at the archive root (LICENSE, README).
	Files []string `yaml:"files"`
	// Sidecar, when set, adds for every gnu input that needs libz3 a
	// tarball carrying the library: bin/NAME with RUNPATH $ORIGIN/../lib
	// and lib/SONAME.
	Sidecar *Sidecar `yaml:"sidecar"`
}

// Sidecar configures the sidecar tarballs.
type Sidecar struct {
	// Libraries maps an architecture (x86_64, aarch64) to the libz3 to
	// ship beside the binary. Its soname must be the one the binary needs.
	Libraries map[string]string `yaml:"libraries"`
	// Suffix is appended to the tarball name: NAME-TRIPLE-SUFFIX.tar.gz
	// (default "z3").
	Suffix string `yaml:"suffix"`
}

// raw is the file's shape; yaml.Node fields keep lines for later checks.
type raw struct {
	Name        string             `yaml:"name"`
	Summary     string             `yaml:"summary"`
	Description string             `yaml:"description"`
	Maintainer  string             `yaml:"maintainer"`
	Vendor      string             `yaml:"vendor"`
	Homepage    string             `yaml:"homepage"`
	License     string             `yaml:"license"`
	LicenseFile string             `yaml:"license_file"`
	Copyright   string             `yaml:"copyright"`
	Section     string             `yaml:"section"`
	Priority    string             `yaml:"priority"`
	Group       string             `yaml:"group"`
	Floor       Floor              `yaml:"floor"`
	Z3          string             `yaml:"z3"`
	Inputs      map[string]string  `yaml:"inputs"`
	Binary      string             `yaml:"binary"`
	Files       []File             `yaml:"files"`
	Systemd     *Systemd           `yaml:"systemd"`
	Tarball     Tarball            `yaml:"tarball"`
	Targets     []yaml.Node        `yaml:"targets"`
	Signing     *Signing           `yaml:"signing"`
	Libraries   map[string]Library `yaml:"libraries"`
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

// Parse validates packaging.yaml content; name is used in errors, dir
// anchors relative paths.
func Parse(name, dir string, data []byte) (*Config, error) {
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
	root := doc.Content[0]
	c := &Config{
		File: name, Dir: dir,
		Name: r.Name, Summary: r.Summary, Description: strings.TrimSpace(r.Description),
		Maintainer: r.Maintainer, Vendor: r.Vendor, Homepage: r.Homepage, License: r.License,
		Copyright: r.Copyright,
		Section:   r.Section, Priority: r.Priority, Group: r.Group,
		Floor: r.Floor, Z3: r.Z3, Binary: r.Binary, Systemd: r.Systemd,
		Inputs: map[string]string{}, lines: map[string]int{},
	}
	var errs Errors
	fail := func(key string, format string, args ...any) {
		errs = append(errs, &Error{File: name, Line: lineOf(root, key), Msg: fmt.Sprintf(format, args...)})
	}

	if !pkgNameRE.MatchString(c.Name) {
		fail("name", "name %q is not a package name: lower-case letters, digits, '.', '+' or '-' (e.g. openshell-gateway)", c.Name)
	}
	for key, val := range map[string]string{"summary": c.Summary, "maintainer": c.Maintainer, "license": c.License, "homepage": c.Homepage} {
		if strings.TrimSpace(val) == "" {
			fail(key, "%s is required (packages without it fail lintian/rpmlint); see docs/config.md", key)
		}
	}
	// Every one-line field is held to the grammar of the files it reaches
	// (fields.go); the summary gets a hint of its own.
	if _, bad := controlChar(c.Summary, ""); bad {
		fail("summary", "summary must be one line without control characters; put the rest in description")
	}
	for _, f := range []struct{ key, val string }{
		{"maintainer", c.Maintainer}, {"vendor", c.Vendor}, {"homepage", c.Homepage}, {"license", c.License},
		{"copyright", c.Copyright}, {"section", c.Section}, {"priority", c.Priority}, {"group", c.Group},
	} {
		if msg := checkTextField(f.key, f.val); msg != "" {
			fail(f.key, "%s", msg)
		}
	}
	if msg := checkDescription(c.Description); msg != "" {
		fail("description", "%s", msg)
	}
	if c.Section == "" {
		c.Section = "net"
	}
	if c.Priority == "" {
		c.Priority = "optional"
	}
	if c.Group == "" {
		c.Group = "System Environment/Daemons"
	}
	if c.Vendor == "" {
		c.Vendor = c.Name
	}
	if c.Copyright == "" {
		fail("copyright", "copyright is required: the copyright notice for the DEP-5 copyright file, e.g. \"2025 The OpenShell authors\"")
	}
	if r.LicenseFile == "" {
		fail("license", "license_file is required: the license text (rpms install it as %%license, debs get a DEP-5 copyright file)")
	} else {
		c.LicenseFile = c.abs(r.LicenseFile)
	}

	if c.Floor.Glibc == "" {
		fail("floor", "floor.glibc is required: the oldest glibc the release promises to run on (e.g. \"2.28\" for RHEL 8)")
	} else {
		// Every architecture relpack builds for: the limits differ per
		// arch, and a floor no target reaches fails on each alike.
		for _, arch := range PolicyArches {
			if _, err := c.Floor.Policy(arch); err != nil {
				fail("floor", "%v", err)
				break
			}
		}
	}
	switch c.Z3 {
	case "", deps.Z3Bundled, deps.Z3Unbundled:
	default:
		fail("z3", "z3 %q: use bundled or unbundled, or leave it out to accept what the binaries say", c.Z3)
	}

	if sg := r.Signing; sg != nil {
		switch {
		case sg.KeyFile != "" && sg.KeyEnv != "":
			fail("signing", "signing: give key_file or key_env, not both")
		case sg.KeyFile == "" && sg.KeyEnv == "":
			fail("signing", "signing: give key_file (path of the private key) or key_env (name of the environment variable holding it); the passphrase comes only from RELPACK_SIGNING_PASSPHRASE")
		case strings.Contains(sg.KeyFile+sg.KeyEnv, "BEGIN PGP") || strings.ContainsAny(sg.KeyFile+sg.KeyEnv, "\n\r"):
			// Never echo what looks like key material.
			fail("signing", "signing: key material does not belong in packaging.yaml; put the key in a file or a CI secret and give its path (key_file) or variable name (key_env)")
		case sg.KeyEnv != "" && !envNameRE.MatchString(sg.KeyEnv):
			fail("signing.key_env", "signing.key_env must be the name of an environment variable (letters, digits, _), e.g. RELPACK_SIGNING_KEY")
		default:
			c.Signing = &Signing{KeyEnv: sg.KeyEnv}
			if sg.KeyFile != "" {
				c.Signing.KeyFile = c.abs(sg.KeyFile)
			}
		}
	}

	if len(r.Inputs) == 0 {
		fail("inputs", "inputs is empty: map each target triple to its binary, e.g. x86_64-unknown-linux-gnu: build/openshell-gateway")
	}
	for _, triple := range slices.Sorted(maps.Keys(r.Inputs)) {
		p := r.Inputs[triple]
		if !TripleRE.MatchString(triple) {
			fail("inputs."+triple, "unknown target triple %q: use x86_64 or aarch64 with -unknown-linux-gnu or -unknown-linux-musl", triple)
			continue
		}
		if p == "" {
			fail("inputs."+triple, "no path given for %s", triple)
			continue
		}
		c.Inputs[triple] = c.abs(p)
	}

	if c.Binary == "" {
		c.Binary = "/usr/bin/" + c.Name
	}
	if msg := checkInstallPath(c.Binary); msg != "" {
		fail("binary", "binary: %s", msg)
	}
	c.lines["binary"] = lineOf(root, "binary")
	if msg := checkPathText("license_file", r.LicenseFile); msg != "" {
		fail("license_file", "%s", msg)
	}
	c.lines["license_file"] = lineOf(root, "license_file")
	for i, f := range r.Files {
		key := fmt.Sprintf("files[%d]", i)
		if f.Src == "" {
			fail(key, "files[%d] has no src", i)
		} else if msg := checkPathText(key+".src", f.Src); msg != "" {
			fail(key+".src", "%s", msg)
		}
		if msg := checkInstallPath(f.Dst); msg != "" {
			fail(key+".dst", "files[%d].dst: %s", i, msg)
		}
		if f.Mode == "" {
			f.Mode = "0644"
		}
		if m, err := strconv.ParseUint(f.Mode, 8, 32); err != nil || m > 0o7777 {
			fail(key+".mode", "files[%d].mode %q is not an octal mode such as \"0644\"", i, f.Mode)
		} else if m&0o400 == 0 {
			// Mode 0 (or 0044) is no mode a file can be shipped in: dpkg
			// and rpm install it unreadable even for its owner.
			fail(key+".mode", "files[%d].mode %q gives the owner no read permission; use 0644 for data, 0755 for programs, 0600 for secrets", i, f.Mode)
		}
		c.lines[key+".src"] = lineOf(root, key+".src")
		f.Src = c.abs(f.Src)
		c.Files = append(c.Files, f)
	}
	if s := c.Systemd; s != nil {
		if !unitNameRE.MatchString(s.Unit) || len(s.Unit) > 255 {
			fail("systemd.unit", "systemd.unit %q must be a file name ending in .service (letters, digits, : _ . @ -)", s.Unit)
		}
		if s.Scope == "" {
			s.Scope = "user"
		}
		if s.Scope != "user" && s.Scope != "system" {
			fail("systemd.scope", "systemd.scope %q: use user or system", s.Scope)
		}
		if s.Description == "" {
			s.Description = c.Summary
		}
		for _, f := range []struct{ key, val string }{{"systemd.description", s.Description}, {"systemd.args", s.Args}} {
			if r, bad := controlChar(f.val, ""); bad {
				fail(f.key, "%s holds %s; a unit setting is one line (a newline would add settings of its own, such as ExecStartPre= or User=)", f.key, describeRune(r))
			}
		}
		// The unit renderer's own rules (quoting, specifiers, line
		// continuations), reported here with the line.
		if _, err := templates.UnitText(s.Description); err != nil {
			fail("systemd.description", "systemd.description: %v", err)
		}
		if _, err := templates.UnitArgs(s.Args); err != nil {
			fail("systemd.args", "systemd.args: %v", err)
		}
		if checkInstallPath(c.Binary) == "" {
			if _, err := templates.UnitExec(c.Binary); err != nil {
				fail("binary", "binary: %v", err)
			}
		}
	}
	for i, f := range r.Tarball.Files {
		key := fmt.Sprintf("tarball.files[%d]", i)
		if msg := checkPathText(key, f); msg != "" {
			fail(key, "%s", msg)
		} else if base := filepath.Base(f); !baseNameRE.MatchString(base) {
			fail(key, "%s: the file name %q goes into the tarball and the manifest as it is; rename it to letters, digits and . _ + ~ @ - (e.g. LICENSE, README.md)", key, base)
		}
		c.lines[key] = lineOf(root, key)
		c.Tarball.Files = append(c.Tarball.Files, c.abs(f))
	}
	for _, e := range c.loadLibraries(r.Libraries, root) {
		fail(e.key, "%s", e.msg)
	}
	if sc := r.Tarball.Sidecar; sc != nil {
		out := &Sidecar{Libraries: map[string]string{}, Suffix: sc.Suffix}
		if out.Suffix == "" {
			out.Suffix = "z3"
		}
		if !regexp.MustCompile(`^[a-z0-9][a-z0-9.-]*$`).MatchString(out.Suffix) {
			fail("tarball.sidecar", "tarball.sidecar.suffix %q: use lower-case letters, digits, '.' or '-'", out.Suffix)
		}
		withFiles := false
		for _, lib := range r.Libraries {
			withFiles = withFiles || len(lib.Files) > 0
		}
		if len(sc.Libraries) == 0 && !withFiles {
			fail("tarball.sidecar", "tarball.sidecar has no library to carry: map x86_64 and/or aarch64 to the libz3 to bundle in tarball.sidecar.libraries, or give libraries.STEM.files")
		}
		for _, arch := range slices.Sorted(maps.Keys(sc.Libraries)) {
			if arch != "x86_64" && arch != "aarch64" {
				fail("tarball.sidecar.libraries."+arch, "tarball.sidecar.libraries: unknown architecture %q; use x86_64 or aarch64", arch)
				continue
			}
			out.Libraries[arch] = c.abs(sc.Libraries[arch])
		}
		c.Tarball.Sidecar = out
	}

	for _, e := range checkLayout(c) {
		fail(e.key, "%s", e.msg)
	}
	for t := range r.Inputs {
		c.lines["inputs."+t] = lineOf(root, "inputs."+t)
	}
	if sc := c.Tarball.Sidecar; sc != nil {
		for arch := range sc.Libraries {
			c.lines["tarball.sidecar.libraries."+arch] = lineOf(root, "tarball.sidecar.libraries."+arch)
		}
	}

	seen := map[string]bool{}
	for _, n := range r.Targets {
		n := n
		d, tin, terrs := decodeTarget(name, dir, &n)
		errs = append(errs, terrs...)
		if len(terrs) > 0 {
			continue
		}
		if seen[d.ID] {
			errs = append(errs, &Error{File: name, Line: n.Line, Msg: fmt.Sprintf("target %s is listed twice", d.ID)})
			continue
		}
		seen[d.ID] = true
		if c.Floor.Glibc != "" && abi.CompareVersions(d.Glibc, c.Floor.Glibc) < 0 {
			errs = append(errs, &Error{File: name, Line: n.Line, Msg: fmt.Sprintf(
				"target %s ships glibc %s, below the promised floor %s: binaries built for the floor may not start there. Remove the target or lower floor.glibc",
				d.ID, d.Glibc, c.Floor.Glibc)})
			continue
		}
		c.lines["target:"+d.ID] = n.Line
		t := Target{Distro: d, Inputs: map[string]string{}}
		for _, triple := range slices.Sorted(maps.Keys(tin)) {
			if !TripleRE.MatchString(triple) || !strings.HasSuffix(triple, "-gnu") {
				errs = append(errs, &Error{File: name, Line: n.Line, Msg: fmt.Sprintf("target %s: inputs: %q is not a gnu target triple (packages hold glibc builds)", d.ID, triple)})
				continue
			}
			t.Inputs[triple] = c.abs(tin[triple])
		}
		c.Targets = append(c.Targets, t)
	}
	for _, t := range c.Targets {
		for _, stem := range t.Private {
			lib, ok := c.Libraries[stem]
			if !ok {
				errs = append(errs, &Error{File: name, Line: c.LineOfTarget(t.ID), Msg: fmt.Sprintf(
					"target %s: private: %q is not in libraries:; add `libraries: {%s: {files: {x86_64: PATH}}}` naming the library to ship", t.ID, stem, stem)})
				continue
			}
			if len(lib.Files) == 0 {
				errs = append(errs, &Error{File: name, Line: c.LineOfTarget(t.ID), Msg: fmt.Sprintf(
					"target %s: private: libraries.%s has no files: to ship; give the library file per architecture", t.ID, stem)})
			}
		}
	}
	for stem, lib := range c.Libraries {
		for _, id := range lib.Private {
			if id == "*" {
				continue
			}
			if !seen[id] {
				fail("libraries."+stem+".private", "libraries.%s.private names target %q, which targets: does not list", stem, id)
			}
		}
	}
	if len(r.Targets) == 0 {
		fail("targets", "targets is empty: list distro ids (%s) or define one inline", strings.Join(distro.IDs(), ", "))
	}

	if len(errs) > 0 {
		sort.SliceStable(errs, func(i, j int) bool { return errs[i].Line < errs[j].Line })
		return nil, errs
	}
	return c, nil
}

// decodeTarget reads one targets entry: a catalogue id, or a mapping that
// either defines a new distro or (with the id of a built-in one) overrides
// some of its fields, e.g. to add a soname mapping.
func decodeTarget(file, dir string, n *yaml.Node) (distro.Distro, map[string]string, Errors) {
	errAt := func(line int, format string, args ...any) Errors {
		return Errors{&Error{File: file, Line: line, Msg: fmt.Sprintf(format, args...)}}
	}
	switch n.Kind {
	case yaml.ScalarNode:
		d, ok := distro.Lookup(n.Value)
		if !ok {
			return distro.Distro{}, nil, errAt(n.Line, "unknown distro target %q: built-in ones are %s; define a new one inline (docs/config.md, \"Adding a distro target\")",
				n.Value, strings.Join(distro.IDs(), ", "))
		}
		return d, nil, nil
	case yaml.MappingNode:
	default:
		return distro.Distro{}, nil, errAt(n.Line, "a target is a distro id or a mapping of distro fields")
	}
	allowed := yamlKeys(reflect.TypeOf(distro.Distro{}))
	allowed["inputs"] = true
	// The distro fields are decoded from a copy without the inputs key,
	// which belongs to the release rather than to the distro.
	fields := *n
	fields.Content = nil
	var inputs map[string]string
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !allowed[k.Value] {
			return distro.Distro{}, nil, errAt(k.Line, "unknown field %q in a distro target; known fields: %s", k.Value, strings.Join(slices.Sorted(maps.Keys(allowed)), ", "))
		}
		if k.Value == "inputs" {
			if err := v.Decode(&inputs); err != nil {
				return distro.Distro{}, nil, Errors{yamlError(file, err).(*Error)}
			}
			continue
		}
		fields.Content = append(fields.Content, k, v)
	}
	n = &fields
	var d distro.Distro
	if id := mapValue(n, "id"); id != nil {
		if base, ok := distro.Lookup(id.Value); ok {
			d = base
			// Copy the map so an override never edits the catalogue.
			d.Sonames = map[string]string{}
			for k, v := range base.Sonames {
				d.Sonames[k] = v
			}
		}
	}
	if err := n.Decode(&d); err != nil {
		return distro.Distro{}, nil, Errors{yamlError(file, err).(*Error)}
	}
	var errs Errors
	// A target's own facts: files `relpack distro capture` wrote, relative
	// to packaging.yaml's folder (and inside it: fs.ValidPath refuses "..").
	if k := mapKey(n, "facts"); k != nil {
		if err := d.LoadFacts(os.DirFS(dir)); err != nil {
			errs = append(errs, &Error{File: file, Line: k.Line, Msg: err.Error()})
		}
	}
	for _, fe := range d.Validate() {
		line := n.Line
		if v := mapKey(n, fe.Field); v != nil {
			line = v.Line
		}
		errs = append(errs, &Error{File: file, Line: line, Msg: fmt.Sprintf("target %s: %s", d.ID, fe.Msg)})
	}
	return d, inputs, errs
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

// yamlError turns a yaml error into file:line form.
func yamlError(file string, err error) error {
	var te *yaml.TypeError
	msg := err.Error()
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = "yaml: " + te.Errors[0]
	}
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		text := m[2]
		if strings.Contains(text, "not found in type") {
			field := strings.Fields(text)[1]
			text = fmt.Sprintf("unknown field %s (check the spelling against docs/config.md)", field)
		}
		return &Error{File: file, Line: line, Msg: text}
	}
	return &Error{File: file, Msg: strings.TrimPrefix(msg, "yaml: ")}
}

// lineOf finds the line of a dotted key path ("floor", "inputs.x86_64-...").
func lineOf(root *yaml.Node, path string) int {
	n := root
	line := 0
	if root != nil {
		line = root.Line
	}
	for _, part := range strings.Split(path, ".") {
		idx := -1
		if i := strings.IndexByte(part, '['); i >= 0 && strings.HasSuffix(part, "]") {
			idx, _ = strconv.Atoi(part[i+1 : len(part)-1])
			part = part[:i]
		}
		k := mapKey(n, part)
		if k == nil {
			return line
		}
		line = k.Line
		n = mapValue(n, part)
		if idx >= 0 && n != nil && n.Kind == yaml.SequenceNode && idx < len(n.Content) {
			n = n.Content[idx]
			line = n.Line
		}
	}
	return line
}

func mapKey(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i]
		}
	}
	return nil
}

func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func yamlKeys(t reflect.Type) map[string]bool {
	out := map[string]bool{}
	for i := 0; i < t.NumField(); i++ {
		if tag := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]; tag != "" && tag != "-" {
			out[tag] = true
		}
	}
	return out
}
