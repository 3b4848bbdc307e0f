// Package distro holds distro targets as data: the format, glibc, payload
// compression and soname-to-package map of each distro relpack packages for.
// The built-in catalogue is catalog.yaml; packaging.yaml adds entries in the
// same shape, so a new distro needs no code.
package distro

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"relpack/pkg/abi"
)

// Distro is one distro target.
type Distro struct {
	ID            string            `yaml:"id" json:"id"`
	Name          string            `yaml:"name" json:"name"`
	Format        string            `yaml:"format" json:"format"` // "deb" or "rpm"
	Glibc         string            `yaml:"glibc" json:"glibc"`
	Compression   string            `yaml:"compression" json:"compression"`
	ReleaseSuffix string            `yaml:"release_suffix" json:"release_suffix"`
	Arches        []string          `yaml:"arches" json:"arches"` // "x86_64", "aarch64"
	LibcPackage   string            `yaml:"libc_package" json:"libc_package"`
	Sonames       map[string]string `yaml:"sonames" json:"sonames"`
	// Runtime is the C++ runtime the distro ships (facts.go).
	Runtime Runtime `yaml:"runtime" json:"runtime"`
	// Facts names captured fact files (pkg/distro/facts/ID/*.yaml, written
	// by `relpack distro capture`) holding LibraryFacts for the libraries
	// the distro maps. Loaded into Libraries.
	Facts []string `yaml:"facts" json:"facts,omitempty"`
	// Libraries are the loaded facts, by architecture and soname:
	// Libraries["x86_64"]["libz3.so.4"].
	Libraries map[string]map[string]*LibraryFacts `yaml:"-" json:"-"`
	// Private lists libraries (by name stem, "libz3") that packages for
	// this target ship themselves under /usr/lib/NAME/ instead of
	// depending on the distro's package (packaging.yaml libraries:).
	Private []string `yaml:"private" json:"private,omitempty"`
	// Suite is the apt suite (codename) a deb target's packages are
	// published under by relpack repo: dists/SUITE/ and the Suite and
	// Codename fields of its Release file ("bookworm"). Empty for rpm
	// targets. It shapes no artifact, so it stays out of the JSON the
	// release's config_digest hashes: renaming a suite does not make
	// partial releases unmergeable.
	Suite string `yaml:"suite" json:"-"`
	// Origins says, per soname of Sonames, which repository ships its
	// package (origin.go); a soname without one comes from the base
	// repositories.
	Origins map[string]Origin `yaml:"origins" json:"origins,omitempty"`
	// Repositories are the add-on repositories Origins name, by key.
	Repositories map[string]AddOn `yaml:"repositories" json:"repositories,omitempty"`
	// NotShipped lists library stems ("libz3") that no repository of the
	// target ships, each with the source that says so.
	NotShipped map[string]string `yaml:"not_shipped" json:"not_shipped,omitempty"`
	// Support is the target's support window.
	Support Support `yaml:"support" json:"support"`
	// Sources says where each plain field's value was read ("glibc":
	// "...", "compression": "..."); runtime, origins, repositories,
	// not_shipped and support carry their own source.
	Sources map[string]string `yaml:"sources" json:"-"`
}

//go:embed catalog.yaml
var catalogYAML []byte

// factsFS holds the captured fact files catalog.yaml's facts: name
// (paths relative to this folder: facts/debian12/libz3-4_x86_64.yaml).
//
//go:embed facts
var factsFS embed.FS

var (
	catalogOnce sync.Once
	catalogData []Distro
)

// Catalog returns the built-in distro targets, in catalogue order, with
// their fact files loaded into Libraries. The catalogue is read once; each
// call returns fresh copies of every field except Libraries, whose maps
// and LibraryFacts are shared between callers and must not be modified.
func Catalog() []Distro {
	catalogOnce.Do(func() {
		var ds []Distro
		dec := yaml.NewDecoder(strings.NewReader(string(catalogYAML)))
		dec.KnownFields(true)
		if err := dec.Decode(&ds); err != nil {
			panic("distro: built-in catalog.yaml is broken: " + err.Error())
		}
		for i := range ds {
			if err := ds[i].LoadFacts(factsFS); err != nil {
				panic("distro: built-in catalog.yaml: " + err.Error())
			}
		}
		catalogData = ds
	})
	out := make([]Distro, len(catalogData))
	for i, d := range catalogData {
		out[i] = d.clone()
	}
	return out
}

// clone copies d's slices and maps, except the shared, read-only
// Libraries.
func (d Distro) clone() Distro {
	c := d
	c.Arches = append([]string(nil), d.Arches...)
	c.Facts = append([]string(nil), d.Facts...)
	c.Private = append([]string(nil), d.Private...)
	if d.Sonames != nil {
		c.Sonames = make(map[string]string, len(d.Sonames))
		for k, v := range d.Sonames {
			c.Sonames[k] = v
		}
	}
	c.Origins = cloneMap(d.Origins)
	c.Repositories = cloneMap(d.Repositories)
	c.NotShipped = cloneMap(d.NotShipped)
	c.Sources = cloneMap(d.Sources)
	return c
}

func cloneMap[V any](m map[string]V) map[string]V {
	if m == nil {
		return nil
	}
	c := make(map[string]V, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// LoadFacts reads the fact files d.Facts names from fsys (paths with '/',
// relative to fsys' root: the catalogue's folder for built-in targets) into
// d.Libraries, replacing what was there. Each file must parse and
// validate, be named PACKAGE_ARCH.yaml after what it holds, and hold only
// libraries whose soname d maps to that package, for an arch d lists; no
// (arch, soname) may come twice.
func (d *Distro) LoadFacts(fsys fs.FS) error {
	d.Libraries = nil
	for _, p := range d.Facts {
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return fmt.Errorf("target %s: facts: %w (give the path of a file `relpack distro capture` wrote)", d.ID, err)
		}
		libs, err := ParseFacts(p, data)
		if err != nil {
			return fmt.Errorf("target %s: %w", d.ID, err)
		}
		for i := range libs {
			l := &libs[i]
			if want := l.Package + "_" + l.Arch + ".yaml"; path.Base(p) != want {
				return fmt.Errorf("target %s: %s holds %s %s for %s: name it %s", d.ID, p, l.Package, l.Soname, l.Arch, want)
			}
			if d.Sonames[l.Soname] != l.Package {
				return fmt.Errorf("target %s: %s: %s comes from package %s, but sonames maps it to %q; map it (sonames: {%s: %s}) or drop the file",
					d.ID, p, l.Soname, l.Package, d.Sonames[l.Soname], l.Soname, l.Package)
			}
			if !contains(d.Arches, l.Arch) {
				return fmt.Errorf("target %s: %s is for %s, which arches does not list", d.ID, p, l.Arch)
			}
			if d.Libraries == nil {
				d.Libraries = map[string]map[string]*LibraryFacts{}
			}
			if d.Libraries[l.Arch] == nil {
				d.Libraries[l.Arch] = map[string]*LibraryFacts{}
			}
			if _, dup := d.Libraries[l.Arch][l.Soname]; dup {
				return fmt.Errorf("target %s: %s: %s for %s is already given by another fact file", d.ID, p, l.Soname, l.Arch)
			}
			d.Libraries[l.Arch][l.Soname] = l
		}
	}
	return nil
}

// Library returns the captured facts of soname for arch, or nil.
func (d Distro) Library(arch, soname string) *LibraryFacts {
	return d.Libraries[arch][soname]
}

// RuntimeFor is the C++ runtime d ships on arch: Runtime, with each
// family replaced by the highest version the captured libstdc++.so.6 and
// libgcc_s.so.1 for arch define, where captured. (libgcc_s's GCC_ nodes
// differ per architecture: Debian 12 defines GCC_12.0.0 on x86_64 but
// GCC_11.0 on aarch64.)
func (d Distro) RuntimeFor(arch string) Runtime {
	rt := d.Runtime
	if l := d.Library(arch, "libstdc++.so.6"); l != nil {
		if v := l.HighestDefined("GLIBCXX"); v != "" {
			rt.GLIBCXX = v
		}
		if v := l.HighestDefined("CXXABI"); v != "" {
			rt.CXXABI = v
		}
	}
	if l := d.Library(arch, "libgcc_s.so.1"); l != nil {
		if v := l.HighestDefined("GCC"); v != "" {
			rt.GCC = v
		}
	}
	return rt
}

// Lookup finds a built-in distro by id.
func Lookup(id string) (Distro, bool) {
	for _, d := range Catalog() {
		if d.ID == id {
			return d, true
		}
	}
	return Distro{}, false
}

// IDs lists the built-in distro ids.
func IDs() []string {
	var out []string
	for _, d := range Catalog() {
		out = append(out, d.ID)
	}
	return out
}

var (
	idRE      = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)
	pkgNameRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9.+_-]*$`)
	// nameRE: a distro name is printed in install docs and messages.
	nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9 .,()/+_:-]*$`)
	// releaseSuffixRE: characters both a deb revision and an rpm release
	// take (rpm forbids '-', deb revisions use '+', '.', '~').
	releaseSuffixRE = regexp.MustCompile(`^[A-Za-z0-9.+~_]*$`)
	// suiteRE: an apt suite name is a directory under dists/ and a
	// Release field: lower-case, no '/' or spaces.
	suiteRE  = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)
	sonameRE = regexp.MustCompile(`^[A-Za-z0-9_+-][A-Za-z0-9._+-]*\.so(\.[A-Za-z0-9._+-]+)?$`)
)

// Compressions each format's writer supports.
var Compressions = map[string][]string{
	"deb": {"gzip", "xz", "zstd", "none"},
	"rpm": {"gzip", "xz", "zstd", "lzma"},
}

// Arches relpack knows how to name in each format.
var archNames = map[string]map[string]string{
	"x86_64":  {"deb": "amd64", "rpm": "x86_64", "go": "amd64"},
	"aarch64": {"deb": "arm64", "rpm": "aarch64", "go": "arm64"},
}

// ArchName returns the architecture's name in a format ("deb", "rpm", "go").
func ArchName(machine, format string) string { return archNames[machine][format] }

// Validate checks one entry; each problem is named by field so the config
// loader can point at the line.
func (d Distro) Validate() []FieldError {
	var errs []FieldError
	add := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	if !idRE.MatchString(d.ID) {
		add("id", "id %q must be lower-case letters, digits, '.', '_' or '-' (e.g. el8, debian12)", d.ID)
	}
	if d.Name == "" {
		add("name", "name is empty; give the distro's name for install docs (e.g. \"Debian 12 (bookworm)\")")
	} else if !nameRE.MatchString(d.Name) {
		add("name", "name %q goes into install docs as a heading: use letters, digits, spaces and . , ( ) / + - _ : only, on one line (e.g. \"Debian 12 (bookworm)\")", d.Name)
	}
	comps, ok := Compressions[d.Format]
	if !ok {
		add("format", "format %q is not supported; use deb or rpm", d.Format)
	} else if !contains(comps, d.Compression) {
		add("compression", "compression %q is not one %s can read here; use one of %s", d.Compression, d.Format, strings.Join(comps, ", "))
	}
	if !abi.ValidVersion(d.Glibc) {
		add("glibc", "glibc %q is not a version such as 2.28", d.Glibc)
	}
	if len(d.Arches) == 0 {
		add("arches", "arches is empty; list x86_64 and/or aarch64")
	}
	for _, a := range d.Arches {
		if _, ok := archNames[a]; !ok {
			add("arches", "arch %q is not supported; use x86_64 or aarch64", a)
		}
	}
	if !pkgNameRE.MatchString(d.LibcPackage) {
		add("libc_package", "libc_package %q is not a package name (libc6 on Debian/Ubuntu, glibc on RPM distros)", d.LibcPackage)
	}
	switch {
	case d.Suite != "" && d.Format != "deb":
		add("suite", "suite %q: suite is the apt suite of a deb target; an rpm target has none (drop it)", d.Suite)
	case d.Suite != "" && (len(d.Suite) > 64 || !suiteRE.MatchString(d.Suite)):
		add("suite", "suite %q is not an apt suite name: lower-case letters, digits, '.', '_' or '-' (e.g. bookworm, jammy)", d.Suite)
	}
	if !releaseSuffixRE.MatchString(d.ReleaseSuffix) {
		add("release_suffix", "release_suffix %q: use letters, digits, '.', '+', '~' or '_' (it ends the deb revision and rpm release; no spaces, '/' or '-')", d.ReleaseSuffix)
	}
	for _, f := range []struct{ name, v string }{{"glibcxx", d.Runtime.GLIBCXX}, {"cxxabi", d.Runtime.CXXABI}, {"gcc", d.Runtime.GCC}} {
		if f.v != "" && !abi.ValidVersion(f.v) {
			add("runtime", "runtime.%s %q is not a version such as %s", f.name, f.v, map[string]string{"glibcxx": "3.4.30", "cxxabi": "1.3.13", "gcc": "12.0.0"}[f.name])
		}
	}
	for _, p := range d.Facts {
		if !strings.HasSuffix(p, ".yaml") || strings.Contains(p, "..") || strings.HasPrefix(p, "/") {
			add("facts", "facts: %q must be a relative path to a .yaml file `relpack distro capture` wrote (facts/ID/PACKAGE_ARCH.yaml)", p)
		}
	}
	keys := make([]string, 0, len(d.Sonames))
	for k := range d.Sonames {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, so := range keys {
		if !sonameRE.MatchString(so) {
			add("sonames", "%q is not a soname (e.g. libz3.so.4)", so)
		}
		if !pkgNameRE.MatchString(d.Sonames[so]) {
			add("sonames", "package %q for %s is not a package name", d.Sonames[so], so)
		}
	}
	d.validateOrigins(add)
	return errs
}

// FieldError is a problem with one field of a distro entry.
type FieldError struct {
	Field string
	Msg   string
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
