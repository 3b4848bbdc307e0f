// Package abi reads the facts of one ELF file that decide where it can run:
// machine, libc flavour, interpreter, NEEDED, SONAME, RUNPATH/RPATH, the
// symbol versions the dynamic loader will demand, and which imported symbols
// pull each version in. It uses only debug/elf: no external tools at run time.
package abi

// FileType is what the ELF file is, as the loader sees it.
type FileType string

const (
	TypeExecutable    FileType = "executable"     // ET_EXEC: fixed-address executable
	TypePIEExecutable FileType = "pie-executable" // ET_DYN with an interpreter or DF_1_PIE
	TypeSharedLibrary FileType = "shared-library" // ET_DYN without either
	TypeRelocatable   FileType = "relocatable"    // ET_REL: an object file, never loaded
	TypeOther         FileType = "other"          // core dumps and the like
)

// Linkage says whether the file is loaded by a dynamic loader.
type Linkage string

const (
	LinkageDynamic Linkage = "dynamic" // has PT_INTERP or DT_NEEDED
	LinkageStatic  Linkage = "static"  // neither: the kernel runs it directly
)

// Libc is the C library the file was built for.
type Libc string

const (
	LibcGlibc   Libc = "glibc"
	LibcMusl    Libc = "musl"
	LibcNone    Libc = "none"    // a shared library that needs no libc at all
	LibcUnknown Libc = "unknown" // static without a telling mark, or another interpreter
)

// Facts are the ABI facts of one ELF file. The JSON shape is documented in
// docs/inspect-json.md and is stable: fields are only ever added.
type Facts struct {
	Path        string   `json:"path"`
	Class       string   `json:"class"`   // "ELF64" or "ELF32"
	Machine     string   `json:"machine"` // "x86_64", "aarch64", or the ELF machine name
	Endian      string   `json:"endian"`  // "little" or "big"
	Type        FileType `json:"type"`
	Linkage     Linkage  `json:"linkage"`
	Libc        Libc     `json:"libc"`
	Interpreter string   `json:"interpreter,omitempty"` // PT_INTERP
	Soname      string   `json:"soname,omitempty"`      // DT_SONAME
	Needed      []string `json:"needed"`                // DT_NEEDED, in file order
	// Runpath and Rpath are kept apart: DT_RPATH is searched before
	// LD_LIBRARY_PATH and applies to the whole dependency tree; DT_RUNPATH is
	// searched after it and only for the object's own NEEDED entries.
	Runpath []string `json:"runpath"`
	Rpath   []string `json:"rpath"`
	// VersionNeeds lists, per library, the versions the loader checks at
	// start-up (SHT_GNU_verneed), in file order.
	VersionNeeds []VersionNeed `json:"version_needs"`
	// Imports groups the dynamic symbols the file takes from other objects
	// by (library, version): the undefined ones, and the defined ones whose
	// version is a needed one (copy-relocated variables such as
	// __libc_single_threaded@GLIBC_2.32 in a g++ program: the executable
	// holds the copy, the library must define it), as objdump -T lists
	// them. Symbols bound without a version have Version "".
	Imports []ImportGroup `json:"imports"`
	// Highest is the highest required version per family (GLIBC, GLIBCXX,
	// CXXABI, GCC and any other prefix), from non-weak needs; GLIBC first,
	// then the C++ runtime and libgcc_s, then other families by name.
	Highest []FamilyVersion `json:"highest"`
	// Special lists needed version names that carry no number
	// (GLIBC_PRIVATE, GLIBC_ABI_DT_RELR, ...), sorted.
	Special []string `json:"special"`
	// Defines lists the version names this object defines (SHT_GNU_verdef),
	// e.g. a bundled library's own interface versions.
	Defines []string `json:"defines"`
	// Hash lists the symbol hash tables present: "sysv" (SHT_HASH) and/or
	// "gnu" (SHT_GNU_HASH). A file with only the GNU table needs a loader
	// that reads it, which rpm expresses as rtld(GNU_HASH).
	Hash []string `json:"hash"`
	// Undefined lists the file's undefined dynamic symbols (copy-relocated
	// ones, which the file defines, left out) with their binding, sorted
	// by name: the symbols dpkg-shlibdeps looks up in the libraries'
	// symbols files, and the unversioned imports a library must export by
	// name. Not part of inspect's JSON.
	Undefined []UndefinedSymbol `json:"-"`
}

// UndefinedSymbol is one undefined dynamic symbol of a file.
type UndefinedSymbol struct {
	Name string
	// Version is the needed version the symbol is bound to ("" when it
	// is bound without one).
	Version string
	// Versioned: the symbol's SHT_GNU_VERSYM index names a version (2 or
	// more); 0 and 1 bind it by name alone.
	Versioned bool
	// Weak: STB_WEAK, which the loader may leave unresolved
	// (__gmon_start__, _ITM_*).
	Weak bool
}

// VersionNeed is one library's entry in the version needs table.
type VersionNeed struct {
	Library  string          `json:"library"`
	Versions []NeededVersion `json:"versions"`
}

// NeededVersion is one version required from a library.
type NeededVersion struct {
	Name string `json:"name"`
	// Weak needs (VER_FLG_WEAK) do not stop the loader when missing; they
	// are reported but do not count toward the floor.
	Weak bool `json:"weak"`
}

// ImportGroup is the set of symbols imported from one library at one version.
type ImportGroup struct {
	Library string   `json:"library"`
	Version string   `json:"version"`
	Symbols []string `json:"symbols"` // sorted, unique
}

// FamilyVersion is the highest version needed from one family.
type FamilyVersion struct {
	Family  string `json:"family"`
	Version string `json:"version"`
	Name    string `json:"name"` // the full version name, e.g. "GLIBC_2.29"
}

// HighestOf returns the highest needed version of a family, or "".
func (f *Facts) HighestOf(family string) string {
	for _, h := range f.Highest {
		if h.Family == family {
			return h.Version
		}
	}
	return ""
}

// SymbolsAt returns the symbols imported at the named version from any library.
func (f *Facts) SymbolsAt(versionName string) []string {
	var out []string
	for _, g := range f.Imports {
		if g.Version == versionName {
			out = append(out, g.Symbols...)
		}
	}
	return sortedUnique(out)
}

// NeedsLibrary reports whether DT_NEEDED names the soname exactly.
func (f *Facts) NeedsLibrary(soname string) bool {
	for _, n := range f.Needed {
		if n == soname {
			return true
		}
	}
	return false
}
