package distro

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
	// Shlibs is the relation dpkg-shlibdeps writes for this library when
	// no symbols file says more (from the package's shlibs file, e.g.
	// "libz3-4 (>= 4.8.10)"); empty for rpm.
	Shlibs string `yaml:"shlibs" json:"shlibs,omitempty"`
	// SymbolsMinVersion maps a symbol version node (GLIBCXX_3.4.30) to the
	// highest minimum package version the deb's symbols file gives any
	// symbol of that node ("12"): what dpkg-shlibdeps writes as
	// libstdc++6 (>= 12) for a binary using it. Empty without a symbols file.
	SymbolsMinVersion map[string]string `yaml:"symbols_min_version" json:"symbols_min_version,omitempty"`
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
