package distro

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"relpack/pkg/abi"
)

// Per-target library facts (issue 10). A distro target knows more than its
// glibc: the C++ runtime it ships and, for each library it maps, the
// package, the upstream version and (where captured from the distro's real
// package files by `relpack distro capture`) the symbols it exports. The
// build checks every package target against these facts before anything
// is written.

// Runtime is the GCC runtime a distro ships: the highest symbol version of
// each family its libstdc++.so.6 and libgcc_s.so.1 define. Empty fields
// mean "not recorded"; the build then cannot check that family and says so.
type Runtime struct {
	GLIBCXX string `yaml:"glibcxx" json:"glibcxx,omitempty"` // e.g. "3.4.30" (GCC 12)
	CXXABI  string `yaml:"cxxabi" json:"cxxabi,omitempty"`   // e.g. "1.3.13"
	GCC     string `yaml:"gcc" json:"gcc,omitempty"`         // libgcc_s: e.g. "12.0.0"
	// Source says where the facts come from (a captured package file, or
	// the distro's documentation).
	Source string `yaml:"source" json:"source,omitempty"`
}

// LibraryFacts are the captured facts of one library file a distro ships.
type LibraryFacts struct {
	Soname  string `yaml:"soname" json:"soname"`
	Arch    string `yaml:"arch" json:"arch"`       // x86_64, aarch64
	Package string `yaml:"package" json:"package"` // libz3-4, z3-libs
	// Version is the upstream version the package ships (4.8.12), from the
	// package's version with epoch and revision removed.
	Version string `yaml:"version" json:"version"`
	// PackageVersion is the package's full version (4.8.12-3.1).
	PackageVersion string `yaml:"package_version" json:"package_version"`
	// Shlibs is the dependency field of the package's shlibs line for
	// this library ("libz3 4 libz3-4 (>= 4.8.12)" gives "libz3-4 (>=
	// 4.8.12)"): what dpkg-shlibdeps writes, as it reads, when the package
	// has no symbols file for the library. Empty for rpm.
	Shlibs string `yaml:"shlibs" json:"shlibs,omitempty"`
	// Symbols are the entries of the deb's symbols file for this library,
	// "NAME@VERSION MINVER" (unversioned symbols are NAME@Base), sorted:
	// dpkg-shlibdeps looks each undefined symbol of a binary up here and
	// raises the relation to its minimal version. Empty without a symbols
	// file.
	Symbols []string `yaml:"symbols,omitempty" json:"symbols,omitempty"`
	// SymbolsSmallest is the smallest minimal version of the symbols
	// file's entries, which dpkg-shlibdeps starts the relation with (a
	// binary that uses none of the listed symbols still gets it). Set
	// exactly when the package has a symbols file for the library: the
	// symbols file then decides and the shlibs line is not read.
	SymbolsSmallest string `yaml:"symbols_smallest_version,omitempty" json:"symbols_smallest_version,omitempty"`
	// VersionDefs are the symbol version nodes the library defines
	// (GLIBCXX_3.4.30, CXXABI_1.3.13, GCC_12.0.0), sorted.
	VersionDefs []string `yaml:"version_defs" json:"version_defs,omitempty"`
	// Exports are the dynamic symbols the library defines, as NAME or
	// NAME@VERSION, sorted; empty when not captured.
	Exports []string `yaml:"exports" json:"exports,omitempty"`
	// Source names the package file the facts were read from, with its
	// sha256, so a reviewer can fetch and re-check it.
	Source string `yaml:"source" json:"source"`
}

// SortVersionNames sorts version node names by family, then by number
// (GCC_3.0 < GCC_4.2.0 < GCC_12.0.0; GLIBCXX_3.4.9 < GLIBCXX_3.4.10);
// names without a number (GLIBC_PRIVATE) sort by name after their family's
// numbered ones.
func SortVersionNames(names []string) {
	sort.SliceStable(names, func(i, j int) bool { return compareVersionNames(names[i], names[j]) < 0 })
}

func compareVersionNames(a, b string) int {
	fa, na, oka := abi.SplitVersionName(a)
	fb, nb, okb := abi.SplitVersionName(b)
	if !oka {
		fa = a
	}
	if !okb {
		fb = b
	}
	if fa != fb {
		return strings.Compare(fa, fb)
	}
	switch {
	case oka && okb:
		if c := abi.CompareVersions(na, nb); c != 0 {
			return c
		}
	case oka:
		return -1
	case okb:
		return 1
	}
	return strings.Compare(a, b)
}

// HighestDefined returns the highest version of a family (GLIBCXX,
// CXXABI, GCC) among version_defs, or "".
func (l *LibraryFacts) HighestDefined(family string) string {
	best := ""
	for _, d := range l.VersionDefs {
		if f, n, ok := abi.SplitVersionName(d); ok && f == family && (best == "" || abi.CompareVersions(n, best) > 0) {
			best = n
		}
	}
	return best
}

// HasExport reports whether the library exports a symbol, given as NAME or
// NAME@VERSION (an import's name and version, as pkg/abi reports them).
// An unversioned import binds to the library's default definition of the
// name, whatever its version; a versioned one needs exactly that version.
func (l *LibraryFacts) HasExport(name, version string) bool {
	want := name
	if version != "" {
		want = name + "@" + version
	}
	i := sort.SearchStrings(l.Exports, want)
	if i < len(l.Exports) && l.Exports[i] == want {
		return true
	}
	if version != "" {
		return false
	}
	// NAME@SOMEVERSION sorts right after NAME.
	i = sort.SearchStrings(l.Exports, name+"@")
	return i < len(l.Exports) && strings.HasPrefix(l.Exports[i], name+"@")
}

// SymbolMinVersion is the minimal version the symbols file gives the
// symbol NAME@VERSION (NAME@Base for an unversioned one), as
// dpkg-shlibdeps looks it up: exact names only.
func (l *LibraryFacts) SymbolMinVersion(symbol string) (string, bool) {
	i := sort.SearchStrings(l.Symbols, symbol+" ")
	if i < len(l.Symbols) {
		if name, min, ok := strings.Cut(l.Symbols[i], " "); ok && name == symbol {
			return min, true
		}
	}
	return "", false
}

// FactsFile is the content of one fact file, pkg/distro/facts/ID/
// PACKAGE_ARCH.yaml: the libraries one package file ships.
type FactsFile struct {
	Libraries []LibraryFacts `yaml:"libraries"`
}

// MarshalFacts renders a fact file: one field per line and one export per
// line, so a refresh reads as a diff of symbols.
func MarshalFacts(comment string, libs []LibraryFacts) ([]byte, error) {
	var b bytes.Buffer
	for _, line := range strings.Split(strings.TrimRight(comment, "\n"), "\n") {
		b.WriteString("# " + line + "\n")
	}
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(FactsFile{Libraries: libs}); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// DocumentedPrefix starts the Source of a hand-written fact (a version
// read from the distro's published package metadata, no symbols).
const DocumentedPrefix = "documented: "

// Captured reports whether the facts were read from a real package file
// (exports and version_defs are then complete), not written by hand.
func (l *LibraryFacts) Captured() bool { return sourceRE.MatchString(l.Source) }

var (
	sourceRE = regexp.MustCompile(`^\S+ sha256:[0-9a-f]{64}$`)
)

// ParseFacts reads and validates a fact file; name is used in errors.
func ParseFacts(name string, data []byte) ([]LibraryFacts, error) {
	var ff FactsFile
	rest, exports, symbols := splitExports(data)
	dec := yaml.NewDecoder(bytes.NewReader(rest))
	dec.KnownFields(true)
	if err := dec.Decode(&ff); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	for i, e := range exports {
		if e != nil && i < len(ff.Libraries) {
			ff.Libraries[i].Exports = e
		}
	}
	for i, e := range symbols {
		if e != nil && i < len(ff.Libraries) {
			ff.Libraries[i].Symbols = e
		}
	}
	if len(ff.Libraries) == 0 {
		return nil, fmt.Errorf("%s: no libraries; regenerate it with `relpack distro capture`", name)
	}
	var errs []error
	for i := range ff.Libraries {
		for _, msg := range ff.Libraries[i].Validate() {
			errs = append(errs, fmt.Errorf("%s: libraries[%d] (%s): %s", name, i, ff.Libraries[i].Soname, msg))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return ff.Libraries, nil
}

// Validate checks one library's facts and returns what is wrong.
func (l *LibraryFacts) Validate() []string {
	var out []string
	if !sonameRE.MatchString(l.Soname) {
		out = append(out, fmt.Sprintf("soname %q is not a soname (e.g. libz3.so.4)", l.Soname))
	}
	if _, ok := archNames[l.Arch]; !ok {
		out = append(out, fmt.Sprintf("arch %q is not x86_64 or aarch64", l.Arch))
	}
	if !pkgNameRE.MatchString(l.Package) {
		out = append(out, fmt.Sprintf("package %q is not a package name", l.Package))
	}
	if l.Version == "" || strings.ContainsAny(l.Version, " \t") {
		out = append(out, fmt.Sprintf("version %q: give the upstream version (4.8.12)", l.Version))
	}
	if l.PackageVersion == "" || strings.ContainsAny(l.PackageVersion, " \t") {
		out = append(out, fmt.Sprintf("package_version %q: give the package's full version (4.8.12-3.1)", l.PackageVersion))
	}
	switch {
	case sourceRE.MatchString(l.Source):
	case strings.HasPrefix(l.Source, DocumentedPrefix) && len(l.Source) > len(DocumentedPrefix)+10:
		// A hand-written fact from the distro's published metadata: a
		// version to hold min_version to, never a symbol list.
		if len(l.Exports) > 0 || len(l.VersionDefs) > 0 {
			out = append(out, "exports and version_defs come only from a captured package file: source must read \"FILE sha256:HEX\"")
		}
	default:
		out = append(out, fmt.Sprintf("source %q must read \"FILE sha256:HEX\" (the package file captured) or \"%s\" and where the version was read", l.Source, DocumentedPrefix))
	}
	for i, d := range l.VersionDefs {
		if d == "" || strings.ContainsAny(d, " \t@") {
			out = append(out, fmt.Sprintf("version_defs: %q is not a version name", d))
		}
		if i > 0 && compareVersionNames(l.VersionDefs[i-1], d) >= 0 {
			out = append(out, fmt.Sprintf("version_defs: %q after %q: keep them sorted by family and number, without repeats", d, l.VersionDefs[i-1]))
		}
	}
	if len(l.Symbols) > 0 && l.SymbolsSmallest == "" {
		out = append(out, "symbols without symbols_smallest_version: capture the package again")
	}
	if strings.ContainsAny(l.SymbolsSmallest, " \t") {
		out = append(out, fmt.Sprintf("symbols_smallest_version %q is not a version", l.SymbolsSmallest))
	}
	for i, e := range l.Symbols {
		if !validSymbol(e) {
			out = append(out, fmt.Sprintf("symbols: %q is not NAME@VERSION MINVER", e))
		}
		if i > 0 && l.Symbols[i-1] >= e {
			out = append(out, fmt.Sprintf("symbols: %q after %q: keep them sorted (byte order), without repeats", e, l.Symbols[i-1]))
		}
	}
	for i, e := range l.Exports {
		if !validExport(e) {
			out = append(out, fmt.Sprintf("exports: %q is not NAME or NAME@VERSION", e))
		}
		if i > 0 && l.Exports[i-1] >= e {
			out = append(out, fmt.Sprintf("exports: %q after %q: keep them sorted (byte order), without repeats", e, l.Exports[i-1]))
		}
	}
	return out
}

// splitExports takes the export and symbols lists out of a fact file laid
// out as MarshalFacts writes it (libraries at "  - ", "    exports:" or
// "    symbols:" followed by "      - ITEM" lines), so that the YAML
// decoder, which takes about 40 ms for libstdc++'s 6000 names, reads only
// the rest: every relpack command loads the catalogue. It returns the file
// with each such list replaced by "[]" and the lists by library index; a
// list with any item YAML would quote (or any other layout) is left in
// place for the decoder.
func splitExports(data []byte) ([]byte, [][]string, [][]string) {
	lines := bytes.SplitAfter(data, []byte("\n"))
	var out bytes.Buffer
	var exports, symbols [][]string
	lib := -1
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if bytes.HasPrefix(line, []byte("  - ")) {
			lib++
		}
		key := string(bytes.TrimRight(line, "\r\n"))
		if lib < 0 || (key != "    exports:" && key != "    symbols:") {
			out.Write(line)
			continue
		}
		plainItem := plainName
		dst := &exports
		if key == "    symbols:" {
			plainItem, dst = plainSymbol, &symbols
		}
		var names []string
		j := i + 1
		plain := true
		for ; j < len(lines) && bytes.HasPrefix(lines[j], []byte("      - ")); j++ {
			n := string(bytes.TrimRight(lines[j][8:], "\n"))
			if n == "" || !plainItem(n) {
				plain = false
				break
			}
			names = append(names, n)
		}
		if !plain || len(names) == 0 {
			out.Write(line)
			continue
		}
		for len(*dst) <= lib {
			*dst = append(*dst, nil)
		}
		(*dst)[lib] = names
		out.WriteString(key + " []\n")
		i = j - 1
	}
	return out.Bytes(), exports, symbols
}

// plainSymbol: a symbols entry YAML reads back as the same string
// unquoted: a plainName, one space, and a version of letters, digits and
// . + ~ : - that does not end in ':'.
func plainSymbol(e string) bool {
	name, min, ok := strings.Cut(e, " ")
	if !ok || !plainName(name) || min == "" || min[len(min)-1] == ':' {
		return false
	}
	for i := 0; i < len(min); i++ {
		c := min[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(".+~:-", c) >= 0) {
			return false
		}
	}
	return true
}

// validSymbol: NAME@VERSION MINVER, as validExport for the name, and a
// version without spaces.
func validSymbol(e string) bool {
	name, min, ok := strings.Cut(e, " ")
	return ok && validExport(name) && strings.Contains(name, "@") && min != "" && !strings.ContainsAny(min, " \t") && validExport(min)
}

// plainName: a symbol name YAML reads back as the same string unquoted:
// letters, digits and _ . $ @ only, not starting with a digit or '.'.
func plainName(n string) bool {
	for i := 0; i < len(n); i++ {
		c := n[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_', c == '$', c == '@':
		case (c >= '0' && c <= '9') || c == '.':
			if i == 0 {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// validExport: NAME or NAME@VERSION, both non-empty, printable, without
// spaces or a second '@' (a loop: the catalogue holds 130000 of them).
func validExport(e string) bool {
	at := -1
	for i := 0; i < len(e); i++ {
		c := e[i]
		if c <= ' ' || c == 0x7f {
			return false
		}
		if c == '@' {
			if at >= 0 {
				return false
			}
			at = i
		}
	}
	return e != "" && at != 0 && at != len(e)-1
}
