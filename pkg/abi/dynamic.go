package abi

import (
	"debug/elf"
	"fmt"
	"strings"
)

// debug/elf's DynString re-reads .dynamic and .dynstr on every call, and
// DynamicSymbols builds a Symbol (with three strings) for every entry of
// .dynsym: on a large C++ library (46k symbols) that is most of the time
// relpack spends. The readers here walk the tables once and keep only what
// the facts need; the differential test holds them to readelf and objdump.

// sectionData caches section contents: .dynstr is shared by .dynamic,
// .dynsym and the version tables. It also keeps the two counts behind the
// name budget (see name): the bytes of section data read, and the bytes of
// names handed out so far.
type sectionData struct {
	f       *elf.File
	cache   map[*elf.Section][]byte
	strtabs map[*elf.Section]*strtab
	read    uint64 // bytes of section data read (each section once)
	names   uint64 // bytes of names returned by name, counted per use
	size    int64  // the file's size, or -1 when the reader cannot tell
}

func (sd *sectionData) get(s *elf.Section) ([]byte, error) {
	if b, ok := sd.cache[s]; ok {
		return b, nil
	}
	// The gABI forbids SHF_COMPRESSED on the sections the loader reads,
	// and s.Data() would inflate one to whatever size its header claims:
	// a few KB of zlib make a gigabyte.
	if s.Flags&elf.SHF_COMPRESSED != 0 {
		return nil, fmt.Errorf("section %s is compressed (SHF_COMPRESSED), which no loader reads: this file is corrupt or crafted", quoteName(s.Name))
	}
	b, err := s.Data()
	if err != nil {
		return nil, fmt.Errorf("reading section %s: %w", quoteName(s.Name), err)
	}
	sd.cache[s] = b
	sd.read += uint64(len(b))
	return b, nil
}

// section returns the data of the first section of type t and the string
// table it links to; sec is nil (and err nil) when the file has none.
func (sd *sectionData) section(t elf.SectionType) (data []byte, str *strtab, sec *elf.Section, err error) {
	sec = sd.f.SectionByType(t)
	if sec == nil {
		return nil, nil, nil, nil
	}
	if data, err = sd.get(sec); err != nil {
		return nil, nil, nil, err
	}
	if str, err = sd.linked(sec); err != nil {
		return nil, nil, nil, err
	}
	return data, str, sec, nil
}

// linked returns the string table a section's sh_link names.
func (sd *sectionData) linked(s *elf.Section) (*strtab, error) {
	if s.Link == 0 || int(s.Link) >= len(sd.f.Sections) {
		return nil, fmt.Errorf("section %s links to no string table", quoteName(s.Name))
	}
	ls := sd.f.Sections[s.Link]
	if t, ok := sd.strtabs[ls]; ok {
		return t, nil
	}
	b, err := sd.get(ls)
	if err != nil {
		return nil, err
	}
	if sd.strtabs == nil {
		sd.strtabs = map[*elf.Section]*strtab{}
	}
	t := &strtab{s: string(b), name: ls.Name}
	sd.strtabs[ls] = t
	return t, nil
}

// strtab is a string table converted to a Go string once; names are
// substrings of it, never copies.
type strtab struct {
	s    string
	name string // the section's name, for errors
}

// Name budget. Names are substrings of their table, so holding them costs
// nothing; but every name is scanned, hashed, sorted, printed and encoded
// once per use, and entries may name overlapping offsets of one long string
// (offsets 1, 2, 3, ... of a 500 KB run of letters are 500 KB names each).
// A 1 MB file then prints gigabytes. A linker writes each name once and
// each table entry names one of them, so the names a file's entries use
// add up to less than the tables holding them (measured: at most 0.6x over
// every ELF file of a Debian system, see docs/fuzzing.md). relpack allows
// four times the bytes of the sections it read (capped at the file's size)
// plus 64 KiB, and refuses the file past that: everything downstream is
// then linear in the input.
const (
	nameBudgetFactor = 4
	nameBudgetSlack  = 64 << 10
)

// nameBudget is the most bytes of names a file may hand out, given the
// bytes of the tables they come from and the file's size (-1: unknown).
// Sections may overlap, so a crafted file can make the tables read add up
// to several times its size: the size caps the basis where it is known.
func nameBudget(tables uint64, size int64) uint64 {
	if size >= 0 && tables > uint64(size) {
		tables = uint64(size)
	}
	return tables*nameBudgetFactor + nameBudgetSlack
}

// name returns the NUL-terminated string at off in tab and charges it
// (printCost) to the file's name budget.
func (sd *sectionData) name(tab *strtab, off uint64) (string, error) {
	if off >= uint64(len(tab.s)) {
		return "", fmt.Errorf("string offset %d outside the string table %s (%d bytes)", off, quoteName(tab.name), len(tab.s))
	}
	s := tab.s[off:]
	// The scan stops at the budget: a name longer than what is left would
	// be refused anyway, and scanning it all would be the quadratic work
	// the budget is there to prevent.
	limit := nameBudget(sd.read, sd.size)
	left := uint64(0)
	if sd.names < limit {
		left = limit - sd.names
	}
	scan := s
	if uint64(len(scan)) > left {
		scan = scan[:left]
	}
	end := strings.IndexByte(scan, 0)
	if end < 0 {
		if uint64(len(s)) > left {
			return "", sd.overBudget(tab, limit)
		}
		end = len(s) // the table's last string lacks its NUL
	}
	name := s[:end]
	if err := sd.charge(tab, printCost(name)); err != nil {
		return "", err
	}
	return name, nil
}

// charge adds cost to the name budget, or says the file is over it.
func (sd *sectionData) charge(tab *strtab, cost uint64) error {
	limit := nameBudget(sd.read, sd.size)
	if sd.names > limit || cost > limit-sd.names {
		return sd.overBudget(tab, limit)
	}
	sd.names += cost
	return nil
}

func (sd *sectionData) overBudget(tab *strtab, limit uint64) error {
	return fmt.Errorf("names read from the string table %s add up to more than %d bytes (%dx the tables read, at most the file's size, + %d): "+
		"far more than a linker writes for tables this size (entries naming overlapping parts of long strings, or a search path of endless empty elements); "+
		"this file is corrupt or crafted",
		quoteName(tab.name), limit, nameBudgetFactor, nameBudgetSlack)
}

// printCost is what a name is charged: its length, plus five for every byte
// that is a control character or not ASCII. Those are printed escaped, up
// to six bytes each (\u001b in JSON, \x1b for people), and encoding/json
// allocates several times that to escape a control character; charging the
// escaped size keeps the reports, and the work of writing them, within the
// budget too. Real names are ASCII and cost their length.
func printCost(s string) uint64 {
	cost := uint64(len(s))
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			cost += 5
		}
	}
	return cost
}

// dynamicInfo is what relpack reads from .dynamic.
type dynamicInfo struct {
	needed, runpath, rpath []string
	soname                 string
	flags1                 uint64
}

func readDynamic(f *elf.File, sd *sectionData) (dynamicInfo, error) {
	var di dynamicInfo
	d, str, ds, err := sd.section(elf.SHT_DYNAMIC)
	if ds == nil || err != nil {
		return di, err
	}
	bo := f.ByteOrder
	entsize := 16
	if f.Class == elf.ELFCLASS32 {
		entsize = 8
	}
	for off := 0; off+entsize <= len(d); off += entsize {
		var tag elf.DynTag
		var val uint64
		if entsize == 16 {
			tag, val = elf.DynTag(bo.Uint64(d[off:])), bo.Uint64(d[off+8:])
		} else {
			tag, val = elf.DynTag(int32(bo.Uint32(d[off:]))), uint64(bo.Uint32(d[off+4:]))
		}
		switch tag {
		case elf.DT_NULL:
			return di, nil
		case elf.DT_NEEDED, elf.DT_SONAME, elf.DT_RUNPATH, elf.DT_RPATH:
			s, err := sd.name(str, val)
			if err != nil {
				return di, fmt.Errorf("reading %v: %w", tag, err)
			}
			switch tag {
			case elf.DT_NEEDED:
				di.needed = append(di.needed, s)
			case elf.DT_SONAME:
				di.soname = s
			case elf.DT_RUNPATH, elf.DT_RPATH:
				// Each element costs a string header (16 bytes) however
				// short it is: a RUNPATH of a million colons is a million
				// empty elements (each one means the current directory to
				// the loader, so none is dropped). They are charged too.
				elems := uint64(strings.Count(s, ":")) + 1
				if err := sd.charge(str, 16*elems); err != nil {
					return di, fmt.Errorf("reading %v: %w", tag, err)
				}
				if tag == elf.DT_RUNPATH {
					di.runpath = appendPath(di.runpath, s)
				} else {
					di.rpath = appendPath(di.rpath, s)
				}
			}
		case elf.DT_FLAGS_1:
			di.flags1 = val
		}
	}
	return di, nil
}

// appendPath appends the elements of a colon-separated search path.
// strings.Split sizes its result exactly, so the common case (one RUNPATH)
// allocates the elements' headers once.
func appendPath(to []string, s string) []string {
	if to == nil {
		return strings.Split(s, ":")
	}
	return append(to, strings.Split(s, ":")...)
}

// versionRef is what a .gnu.version index stands for.
type versionRef struct{ library, name string }

// importedSymbols groups the .dynsym entries the file takes from other
// objects by the version their .gnu.version entry names: every undefined
// entry, and every defined entry whose version index is a needed version
// (a Vernaux of .gnu.version_r). The second kind is a copy relocation: an
// executable that reads a library's variable (g++'s std::thread code reads
// __libc_single_threaded@GLIBC_2.32) gets a copy of it in its own .bss,
// so the symbol is defined in the executable, yet the loader binds it to
// the library's definition at that version and fails without it. objdump -T
// prints such a symbol with the needed version, as it does an undefined
// one. A linker never gives one index to both a definition and a need;
// where a crafted file does, refs holds the need (readDefines adds only
// indexes no need took), so relpack reports a version the loader may check
// where binutils would print the definition. refs maps version indexes
// (from verneed and verdef) to names; index 0 and 1 mean unversioned.
func importedSymbols(f *elf.File, sd *sectionData, refs map[uint16]versionRef, undef *[]UndefinedSymbol) (map[versionRef][]string, error) {
	out := map[versionRef][]string{}
	syms, str, ss, err := sd.section(elf.SHT_DYNSYM)
	if ss == nil || err != nil {
		return out, err
	}
	var versym []byte
	if vs := f.SectionByType(elf.SHT_GNU_VERSYM); vs != nil {
		if versym, err = sd.get(vs); err != nil {
			return nil, err
		}
	}
	bo := f.ByteOrder
	entsize, nameOff, infoOff, shndxOff := 24, 0, 4, 6
	if f.Class == elf.ELFCLASS32 {
		entsize, nameOff, infoOff, shndxOff = 16, 0, 12, 14
	}
	n := len(syms) / entsize
	for i := 1; i < n; i++ { // entry 0 is the null symbol
		e := syms[i*entsize:]
		var ref versionRef
		var idx uint16
		if 2*i+2 <= len(versym) {
			idx = bo.Uint16(versym[2*i:]) & 0x7fff // the top bit marks a hidden version
			ref = refs[idx]
		}
		undefined := elf.SectionIndex(bo.Uint16(e[shndxOff:])) == elf.SHN_UNDEF
		// A defined symbol is taken from elsewhere only when its version
		// is a needed one, i.e. belongs to a library (see above); the
		// check comes before the name is read, so the symbols a file
		// defines itself cost the name budget nothing, as before.
		if !undefined && ref.library == "" {
			continue
		}
		name, err := sd.name(str, uint64(bo.Uint32(e[nameOff:])))
		if err != nil {
			return nil, fmt.Errorf("symbol %d: %w", i, err)
		}
		if name == "" {
			continue
		}
		out[ref] = append(out[ref], name)
		if undefined {
			// Index 0 is local, 1 global: bound without a version.
			u := UndefinedSymbol{Name: name, Weak: elf.ST_BIND(e[infoOff]) == elf.STB_WEAK, Versioned: idx > 1}
			if u.Versioned {
				u.Version = ref.name
			}
			*undef = append(*undef, u)
		}
	}
	return out, nil
}

// rawNeed is one SHT_GNU_verneed entry: a library and the versions needed.
type rawNeed struct {
	library string
	vers    []rawVer
}

type rawVer struct {
	name  string
	flags uint16
	index uint16
}

// claims records which bytes of a version section an entry was read from.
// The chains are linked by relative offsets, so a crafted section can make
// entries overlap: with vn_next and vna_next of 16, every Vernaux is also
// the next Verneed, whose own chain walks the same entries again, and a
// 262 KB file makes 134 million version records (out of memory). A linker
// lays the entries end to end, so each byte belongs to one entry at most;
// an entry that reuses a byte ends the walk with an error, and the walk
// reads at most one entry per entry size of the section. The bitmap costs
// one bit per byte of the section.
type claims []uint64

func newClaims(size int) claims { return make(claims, size/64+1) }

// claim marks [off, off+n) as read and reports whether all of it was free.
// The caller has checked that the range lies inside the section.
func (c claims) claim(off, n uint64) bool {
	for i := off; i < off+n; i++ {
		if c[i/64]&(1<<(i%64)) != 0 {
			return false
		}
	}
	for i := off; i < off+n; i++ {
		c[i/64] |= 1 << (i % 64)
	}
	return true
}

// readVerneed walks SHT_GNU_verneed (Elf_Verneed + Elf_Vernaux chains).
// debug/elf's DynamicVersionNeeds would also decode the whole .dynsym.
func readVerneed(f *elf.File, sd *sectionData) ([]rawNeed, error) {
	d, str, s, err := sd.section(elf.SHT_GNU_VERNEED)
	if s == nil || err != nil {
		return nil, err
	}
	bo := f.ByteOrder
	seen := newClaims(len(d))
	var out []rawNeed
	off := uint64(0)
	for i := uint32(0); i < s.Info; i++ { // sh_info: number of entries
		if off+16 > uint64(len(d)) {
			return nil, fmt.Errorf("version needs entry %d outside the section", i)
		}
		if !seen.claim(off, 16) {
			return nil, fmt.Errorf("version needs entry %d (offset %d) overlaps an entry read before: the chain loops or its entries overlap", i, off)
		}
		cnt := bo.Uint16(d[off+2:])
		file, aux, next := bo.Uint32(d[off+4:]), bo.Uint32(d[off+8:]), bo.Uint32(d[off+12:])
		lib, err := sd.name(str, uint64(file))
		if err != nil {
			return nil, fmt.Errorf("version needs entry %d: %w", i, err)
		}
		n := rawNeed{library: lib}
		a := off + uint64(aux)
		for j := uint16(0); j < cnt; j++ {
			if a+16 > uint64(len(d)) {
				return nil, fmt.Errorf("version needs of %s: entry %d outside the section", quoteName(lib), j)
			}
			if !seen.claim(a, 16) {
				return nil, fmt.Errorf("version needs of %s: entry %d (offset %d) overlaps an entry read before: the chain loops or its entries overlap", quoteName(lib), j, a)
			}
			flags, other := bo.Uint16(d[a+4:]), bo.Uint16(d[a+6:])
			name, err := sd.name(str, uint64(bo.Uint32(d[a+8:])))
			if err != nil {
				return nil, fmt.Errorf("version needs of %s: %w", quoteName(lib), err)
			}
			n.vers = append(n.vers, rawVer{name: name, flags: flags, index: other})
			anext := bo.Uint32(d[a+12:])
			if anext == 0 {
				break
			}
			a += uint64(anext)
		}
		out = append(out, n)
		if next == 0 {
			break
		}
		off += uint64(next)
	}
	return out, nil
}

// readVerdef walks SHT_GNU_verdef (Elf_Verdef + Elf_Verdaux); the first
// aux entry of each definition is its own name. Elf_Verdef entries may not
// overlap, for the reason given at claims. Their Verdaux may: GNU ld points
// two definitions with the same name at one Verdaux (libjansson.so.4 does),
// and only one is read per definition, so that costs nothing.
func readVerdef(f *elf.File, sd *sectionData) ([]rawVer, error) {
	d, str, s, err := sd.section(elf.SHT_GNU_VERDEF)
	if s == nil || err != nil {
		return nil, err
	}
	bo := f.ByteOrder
	seen := newClaims(len(d))
	var out []rawVer
	off := uint64(0)
	for i := uint32(0); i < s.Info; i++ {
		if off+20 > uint64(len(d)) {
			return nil, fmt.Errorf("version definition %d outside the section", i)
		}
		if !seen.claim(off, 20) {
			return nil, fmt.Errorf("version definition %d (offset %d) overlaps an entry read before: the chain loops or its entries overlap", i, off)
		}
		flags, ndx, cnt := bo.Uint16(d[off+2:]), bo.Uint16(d[off+4:]), bo.Uint16(d[off+6:])
		aux, next := bo.Uint32(d[off+12:]), bo.Uint32(d[off+16:])
		if cnt > 0 {
			a := off + uint64(aux)
			if a+8 > uint64(len(d)) {
				return nil, fmt.Errorf("version definition %d: name outside the section", i)
			}
			name, err := sd.name(str, uint64(bo.Uint32(d[a:])))
			if err != nil {
				return nil, fmt.Errorf("version definition %d: %w", i, err)
			}
			out = append(out, rawVer{name: name, flags: flags, index: ndx})
		}
		if next == 0 {
			break
		}
		off += uint64(next)
	}
	return out, nil
}
