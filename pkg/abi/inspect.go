package abi

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"

	"relpack/internal/regular"
)

// df1PIE is DF_1_PIE from <elf.h>: set by linkers on position-independent
// executables, including static-pie ones that have no PT_INTERP.
const df1PIE = 0x08000000

// maxInterp is PATH_MAX: the longest PT_INTERP the kernel loads.
const maxInterp = 4096

// Error is returned for input that is not a readable ELF file. It names the
// file and says what to do, like os.PathError does for system calls.
type Error struct {
	Path string
	Msg  string
	Err  error
	// Hint, when set, says what to do; it follows the cause.
	Hint string
}

func (e *Error) Error() string {
	// The path is quoted like a name from the file: a directory listing
	// can carry escape sequences too.
	return quoteName(e.Path) + ": " + e.Detail()
}

// Detail is the message without the file's name, for a caller that names
// the file its own way ("input x86_64-unknown-linux-gnu (PATH): ...").
func (e *Error) Detail() string {
	s := e.Msg
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	if e.Hint != "" {
		s += "; " + e.Hint
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Inspect opens the ELF file at path and returns its facts. Any input that is
// not a well-formed ELF file gives an *Error naming the file; it never panics.
//
// Only regular files are read. open(2) of a FIFO blocks until a writer
// appears, and a read of /dev/zero never ends, so internal/regular checks
// the path with stat first, opens it with O_NONBLOCK (which cannot block on
// a FIFO or a device) and checks the open descriptor again with fstat: the
// path may have been swapped for a FIFO between the two.
func Inspect(path string) (*Facts, error) {
	fh, _, err := regular.Open(path)
	if err != nil {
		var nr *regular.NotRegularError
		if errors.As(err, &nr) {
			return nil, notRegular(path, nr.Mode)
		}
		return nil, openError(path, "cannot open", err)
	}
	defer fh.Close()
	return InspectReader(path, fh)
}

// notRegular is the *Error for a path that is not a regular file, saying
// what it is instead.
func notRegular(path string, m fs.FileMode) *Error {
	var what string
	switch {
	case m.IsDir():
		return &Error{Path: path, Msg: "is a directory, not an ELF file; give the binary inside it"}
	case m&fs.ModeNamedPipe != 0:
		what = "a named pipe (FIFO)"
	case m&fs.ModeCharDevice != 0:
		what = "a character device"
	case m&fs.ModeDevice != 0:
		what = "a block device"
	default:
		what = regular.Kind(m)
	}
	return &Error{Path: path, Msg: "is " + what + ", not an ELF file; relpack reads only regular files: give the path of the binary itself"}
}

// openError explains a failed stat or open without repeating the path the
// way os.PathError would ("x: cannot open: open x: ...").
func openError(path, what string, err error) *Error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	hint := "check the path and that the file can be read"
	switch {
	case errors.Is(err, fs.ErrNotExist):
		hint = "check the path (did the build step produce this file?)"
	case errors.Is(err, fs.ErrPermission):
		hint = "give the user running relpack read access to it (and search access to its directories)"
	}
	return &Error{Path: path, Msg: what, Err: err, Hint: hint}
}

// malformedHint says what to do about a file relpack cannot parse.
const malformedHint = "give the file as the linker wrote it (a truncated download, a partial copy or a failed strip leaves one like this)"

// InspectReader is Inspect for an already open file; name is used in errors
// and as Facts.Path.
func InspectReader(name string, r io.ReaderAt) (facts *Facts, err error) {
	var magic [4]byte
	if n, _ := r.ReadAt(magic[:], 0); n < 4 || !bytes.Equal(magic[:], []byte(elf.ELFMAG)) {
		return nil, &Error{Path: name, Msg: fmt.Sprintf("not an ELF file (starts with %q); give a compiled binary or shared library", magic[:n])}
	}
	// debug/elf validates most structures, but malformed input has made it
	// panic in the past; a packager reading untrusted bytes must not crash.
	defer func() {
		if p := recover(); p != nil {
			facts, err = nil, &Error{Path: name, Msg: "malformed ELF file", Err: fmt.Errorf("%v", p), Hint: malformedHint}
		}
	}()
	f, err := openELF(r)
	if err != nil {
		return nil, &Error{Path: name, Msg: "malformed or truncated ELF file", Err: err, Hint: malformedHint}
	}
	facts, err = inspectFile(name, f, readerSize(r))
	if err != nil {
		return nil, &Error{Path: name, Msg: "malformed or truncated ELF file", Err: err, Hint: malformedHint}
	}
	return facts, nil
}

// readerSize is the size of what r reads, or -1 when r cannot tell.
func readerSize(r io.ReaderAt) int64 {
	switch v := r.(type) {
	case interface{ Size() int64 }: // bytes.Reader, io.SectionReader, strings.Reader
		return v.Size()
	case *os.File:
		if st, err := v.Stat(); err == nil && st.Mode().IsRegular() {
			return st.Size()
		}
	}
	return -1
}

// inspectFile reads the facts of an open ELF file; size is the file's size
// in bytes (-1: unknown), which caps the name budget.
func inspectFile(name string, f *elf.File, size int64) (*Facts, error) {
	fa := emptyFacts(name, f)
	interp, err := readInterpreter(f)
	if err != nil {
		return nil, err
	}
	fa.Interpreter = interp

	sd := &sectionData{f: f, cache: map[*elf.Section][]byte{}, size: size}
	di, err := readDynamic(f, sd)
	if err != nil {
		return nil, err
	}
	addDynamic(fa, di, f.Type)

	// Object files and fully static executables have no dynamic symbol
	// table, hence nothing the dynamic loader could check.
	if f.SectionByType(elf.SHT_DYNSYM) != nil {
		if err := readSymbolVersions(f, sd, fa); err != nil {
			return nil, err
		}
	}
	fa.Libc = detectLibc(f, fa)
	return fa, nil
}

// emptyFacts are the facts every file has (its header, its hash tables),
// with every list empty rather than nil (the JSON shows [], not null).
func emptyFacts(name string, f *elf.File) *Facts {
	fa := &Facts{
		Path:         name,
		Class:        classString(f.Class),
		Machine:      MachineName(f.Machine, f.Class, f.Data),
		Endian:       endianString(f.Data),
		Needed:       []string{},
		Runpath:      []string{},
		Rpath:        []string{},
		VersionNeeds: []VersionNeed{},
		Imports:      []ImportGroup{},
		Highest:      []FamilyVersion{},
		Special:      []string{},
		Defines:      []string{},
		Hash:         []string{},
	}
	if f.SectionByType(elf.SHT_HASH) != nil {
		fa.Hash = append(fa.Hash, "sysv")
	}
	if f.SectionByType(elf.SHT_GNU_HASH) != nil {
		fa.Hash = append(fa.Hash, "gnu")
	}
	return fa
}

// readInterpreter returns the path the first PT_INTERP names, as the kernel
// reads it ("" when there is none).
func readInterpreter(f *elf.File) (string, error) {
	for _, p := range f.Progs {
		if p.Type != elf.PT_INTERP {
			continue
		}
		// p_filesz is the file's word: checked before it sizes an
		// allocation. The kernel (binfmt_elf) refuses one over PATH_MAX too.
		if p.Filesz > maxInterp {
			return "", fmt.Errorf("PT_INTERP is %d bytes, longer than a path can be (%d)", p.Filesz, maxInterp)
		}
		b := make([]byte, p.Filesz)
		if _, err := p.ReadAt(b, 0); err != nil {
			return "", fmt.Errorf("reading PT_INTERP: %w", err)
		}
		// The kernel opens the path up to its first NUL, and only the
		// first PT_INTERP: reading every one let 60 000 copies of one
		// header claiming 4 KB (a 3.4 MB file) allocate 500 MB.
		if i := bytes.IndexByte(b, 0); i >= 0 {
			b = b[:i]
		}
		return string(b), nil
	}
	return "", nil
}

// addDynamic records what the dynamic section says (SONAME, NEEDED,
// RUNPATH, RPATH) and, with the interpreter already read, the file's type
// and linkage.
func addDynamic(fa *Facts, di dynamicInfo, t elf.Type) {
	fa.Soname = di.soname
	if di.needed != nil {
		fa.Needed = di.needed
	}
	if di.runpath != nil {
		fa.Runpath = di.runpath
	}
	if di.rpath != nil {
		fa.Rpath = di.rpath
	}
	fa.Type = fileType(t, fa.Interpreter != "", di.flags1&df1PIE != 0)
	if fa.Interpreter == "" && len(fa.Needed) == 0 && fa.Type != TypeSharedLibrary {
		fa.Linkage = LinkageStatic
	} else {
		fa.Linkage = LinkageDynamic
	}
}

// readSymbolVersions reads the version needs, the defined symbols and the
// imports, which share the map of version indexes to the versions they name.
func readSymbolVersions(f *elf.File, sd *sectionData, fa *Facts) error {
	refs := map[uint16]versionRef{}
	if err := readVersionNeeds(f, sd, fa, refs); err != nil {
		return err
	}
	if err := readDefines(f, sd, fa, refs); err != nil {
		return err
	}
	return readImports(f, sd, fa, refs)
}

func fileType(t elf.Type, hasInterp, pieFlag bool) FileType {
	switch t {
	case elf.ET_EXEC:
		return TypeExecutable
	case elf.ET_DYN:
		// DF_1_PIE is authoritative when present. Without it, an interpreter
		// marks an executable (older linkers do not set the flag) — except
		// that libc.so.6 and ld.so carry PT_INTERP too and are libraries;
		// they have a SONAME, which callers see separately.
		if pieFlag || hasInterp {
			return TypePIEExecutable
		}
		return TypeSharedLibrary
	case elf.ET_REL:
		return TypeRelocatable
	}
	return TypeOther
}

func readVersionNeeds(f *elf.File, sd *sectionData, fa *Facts, refs map[uint16]versionRef) error {
	// A file without a version table (musl, static, or simply no versioned
	// imports) has no versioned needs; that is not a failure.
	needs, err := readVerneed(f, sd)
	if err != nil {
		return fmt.Errorf("reading version needs: %w", err)
	}
	highest := map[string]FamilyVersion{}
	special := map[string]bool{}
	for _, n := range needs {
		vn := VersionNeed{Library: n.library, Versions: []NeededVersion{}}
		for _, d := range n.vers {
			refs[d.index] = versionRef{library: n.library, name: d.name}
			weak := elf.DynamicVersionFlag(d.flags)&elf.VER_FLG_WEAK != 0
			vn.Versions = append(vn.Versions, NeededVersion{Name: d.name, Weak: weak})
			fam, num, ok := SplitVersionName(d.name)
			if !ok {
				special[d.name] = true
				continue
			}
			if weak {
				continue
			}
			if cur, seen := highest[fam]; !seen || CompareVersions(num, cur.Version) > 0 {
				highest[fam] = FamilyVersion{Family: fam, Version: num, Name: d.name}
			}
		}
		fa.VersionNeeds = append(fa.VersionNeeds, vn)
	}
	for _, h := range highest {
		fa.Highest = append(fa.Highest, h)
	}
	sort.Slice(fa.Highest, func(i, j int) bool { return compareFamilies(fa.Highest[i].Family, fa.Highest[j].Family) < 0 })
	for s := range special {
		fa.Special = append(fa.Special, s)
	}
	sort.Strings(fa.Special)
	return nil
}

func readImports(f *elf.File, sd *sectionData, fa *Facts, refs map[uint16]versionRef) error {
	groups, err := importedSymbols(f, sd, refs, &fa.Undefined)
	if err != nil {
		return fmt.Errorf("reading dynamic symbols: %w", err)
	}
	for k, names := range groups {
		fa.Imports = append(fa.Imports, ImportGroup{Library: k.library, Version: k.name, Symbols: sortedUnique(names)})
	}
	sort.Slice(fa.Imports, func(i, j int) bool {
		a, b := fa.Imports[i], fa.Imports[j]
		if a.Library != b.Library {
			return a.Library < b.Library
		}
		return compareVersionNames(a.Version, b.Version) < 0
	})
	sort.Slice(fa.Undefined, func(i, j int) bool {
		a, b := fa.Undefined[i], fa.Undefined[j]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Version < b.Version
	})
	return nil
}

func readDefines(f *elf.File, sd *sectionData, fa *Facts, refs map[uint16]versionRef) error {
	defs, err := readVerdef(f, sd)
	if err != nil {
		return fmt.Errorf("reading version definitions: %w", err)
	}
	for _, d := range defs {
		if elf.DynamicVersionFlag(d.flags)&elf.VER_FLG_BASE != 0 {
			continue // the base entry names the file itself
		}
		if _, ok := refs[d.index]; !ok {
			refs[d.index] = versionRef{name: d.name}
		}
		fa.Defines = append(fa.Defines, d.name)
	}
	return nil
}

// familyRank orders families the way people read a report: the C library
// first, then the C++ runtime and libgcc_s, then anything else.
var familyRank = map[string]int{"GLIBC": 0, "GLIBCXX": 1, "CXXABI": 2, "CXXABI_TM": 3, "GCC": 4}

func rankOf(family string) int {
	if r, ok := familyRank[family]; ok {
		return r
	}
	return len(familyRank)
}

// compareFamilies orders family names by rank, then alphabetically.
func compareFamilies(a, b string) int {
	if ra, rb := rankOf(a), rankOf(b); ra != rb {
		return ra - rb
	}
	return strings.Compare(a, b)
}

// compareVersionNames orders version names by family, then number; names
// without a number (GLIBC_PRIVATE, ...) come after all numbered ones.
func compareVersionNames(a, b string) int {
	fa, na, oka := SplitVersionName(a)
	fb, nb, okb := SplitVersionName(b)
	switch {
	case oka && okb:
		if c := compareFamilies(fa, fb); c != 0 {
			return c
		}
		return CompareVersions(na, nb)
	case oka != okb:
		if oka {
			return -1
		}
		return 1
	}
	return strings.Compare(a, b)
}

func detectLibc(f *elf.File, fa *Facts) Libc {
	if fa.Interpreter != "" {
		base := path.Base(fa.Interpreter)
		switch {
		case strings.HasPrefix(base, "ld-musl-"):
			return LibcMusl
		case strings.HasPrefix(base, "ld-linux"), strings.HasPrefix(base, "ld64.so"), base == "ld.so.1":
			return LibcGlibc
		}
		return LibcUnknown
	}
	for _, n := range fa.Needed {
		switch {
		case n == "libc.so.6" || strings.HasPrefix(n, "ld-linux"):
			return LibcGlibc
		case n == "libc.so" || strings.HasPrefix(n, "libc.musl-"):
			return LibcMusl
		}
	}
	for _, vn := range fa.VersionNeeds {
		for _, v := range vn.Versions {
			if strings.HasPrefix(v.Name, "GLIBC_") {
				return LibcGlibc
			}
		}
	}
	if fa.Linkage == LinkageStatic {
		// glibc's crt1.o carries the .note.ABI-tag note (NT_GNU_ABI_TAG);
		// musl's start files do not. Unstripped musl binaries also carry
		// musl's own start-up symbol __init_libc.
		if f.Section(".note.ABI-tag") != nil {
			return LibcGlibc
		}
		if hasSymbol(f, "__init_libc", "__libc_start_init") {
			return LibcMusl
		}
		return LibcUnknown
	}
	if fa.Type == TypeSharedLibrary && len(fa.Needed) == 0 {
		return LibcNone
	}
	return LibcUnknown
}

// hasSymbol reports whether .symtab holds a symbol with one of the names.
// It compares names in place: debug/elf's Symbols copies every name, which
// a hostile file turns into gigabytes (thousands of symbols all naming one
// long string), and a static binary is exactly where this runs.
func hasSymbol(f *elf.File, names ...string) bool {
	sd := &sectionData{f: f, cache: map[*elf.Section][]byte{}}
	syms, str, s, err := sd.section(elf.SHT_SYMTAB)
	if s == nil || err != nil {
		return false
	}
	entsize := 24 // st_name is the first field of Elf64_Sym and Elf32_Sym
	if f.Class == elf.ELFCLASS32 {
		entsize = 16
	}
	for i := 1; i < len(syms)/entsize; i++ { // entry 0 is the null symbol
		off := uint64(f.ByteOrder.Uint32(syms[i*entsize:]))
		if off >= uint64(len(str.s)) {
			continue
		}
		rest := str.s[off:]
		for _, name := range names {
			if len(rest) > len(name) && rest[len(name)] == 0 && rest[:len(name)] == name {
				return true
			}
		}
	}
	return false
}

// MachineName gives the conventional name of an ELF machine: the one used
// in target triples (x86_64, aarch64, ...), or the ELF constant's name.
func MachineName(m elf.Machine, c elf.Class, d elf.Data) string {
	switch m {
	case elf.EM_X86_64:
		return "x86_64"
	case elf.EM_AARCH64:
		return "aarch64"
	case elf.EM_386:
		return "i386"
	case elf.EM_ARM:
		return "arm"
	case elf.EM_RISCV:
		if c == elf.ELFCLASS32 {
			return "riscv32"
		}
		return "riscv64"
	case elf.EM_PPC64:
		if d == elf.ELFDATA2LSB {
			return "ppc64le"
		}
		return "ppc64"
	case elf.EM_S390:
		return "s390x"
	case elf.EM_LOONGARCH:
		return "loongarch64"
	}
	return strings.ToLower(strings.TrimPrefix(m.String(), "EM_"))
}

func classString(c elf.Class) string {
	switch c {
	case elf.ELFCLASS64:
		return "ELF64"
	case elf.ELFCLASS32:
		return "ELF32"
	}
	return c.String()
}

func endianString(d elf.Data) string {
	if d == elf.ELFDATA2MSB {
		return "big"
	}
	return "little"
}

func sortedUnique(in []string) []string {
	out := append([]string(nil), in...)
	sort.Strings(out)
	j := 0
	for i, s := range out {
		if i > 0 && s == out[j-1] {
			continue
		}
		out[j] = s
		j++
	}
	return out[:j]
}
