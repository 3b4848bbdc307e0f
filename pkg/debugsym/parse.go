package debugsym

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Sizes of the ELF64 structures read and written, and the bounds of what
// is read whole.
const (
	ehdrSize = 64
	phdrSize = 56
	shdrSize = 64
	symSize  = 24

	maxSections = int(elf.SHN_LORESERVE) - 1 // no extended numbering
	maxShstrtab = 16 << 20
	maxSymtab   = 256 << 20 // .symtab and its .strtab, each
	maxNote     = 1 << 20
	maxLinkSect = 4096 // a .gnu_debuglink: a file name and a CRC
	maxAlign    = 4096 // of a non-allocated section, which this package places
	maxBuildID  = 64   // bytes: sha1 is 20, md5/uuid 16, Go's gobuildid 32

	ntGNUBuildID = 3 // NT_GNU_BUILD_ID, in a note named "GNU"
)

var le = binary.LittleEndian

// section is one section header with its name.
type section struct {
	elf.Section64
	name string
}

func (s *section) alloc() bool { return elf.SectionFlag(s.Flags)&elf.SHF_ALLOC != 0 }

// hasBits: the section occupies bytes of the file.
func (s *section) hasBits() bool {
	return elf.SectionType(s.Type) != elf.SHT_NOBITS && elf.SectionType(s.Type) != elf.SHT_NULL
}

// isDebug is BFD's test for a debugging section (SEC_DEBUGGING in
// _bfd_elf_make_section_from_shdr), what strip --strip-debug removes and
// objcopy --only-keep-debug keeps: non-allocated, recognised by name.
func (s *section) isDebug() bool {
	if s.alloc() {
		return false
	}
	for _, p := range []string{".debug", ".zdebug", ".gnu.debuglto_.debug_", ".gnu.linkonce.wi.", ".line", ".stab"} {
		if strings.HasPrefix(s.name, p) {
			return true
		}
	}
	return s.name == ".gdb_index"
}

// inFile reports whether [off, off+n) lies inside the file.
func (f *File) inFile(off, n uint64) bool {
	return off <= uint64(f.size) && n <= uint64(f.size)-off
}

// read returns the n bytes at off, which the caller has bounded.
func (f *File) read(off, n uint64) ([]byte, error) {
	if !f.inFile(off, n) {
		return nil, fmt.Errorf("truncated file: %d bytes at offset %#x lie past its end", n, off)
	}
	b := make([]byte, n)
	if k, err := f.r.ReadAt(b, int64(off)); k < len(b) {
		return nil, fmt.Errorf("reading %d bytes at offset %#x: %v", n, off, err)
	}
	return b, nil
}

// malformed is appended to refusals of files no linker writes.
const malformed = "; give the file as the linker wrote it (a truncated download, a partial copy or a failed strip leaves one like this)"

// parse reads and checks the headers, then the build-id, the debug link
// and whether there is debug information.
func (f *File) parse() error {
	for _, step := range []func() error{f.readHeader, f.readProgs, f.readSects, f.readNames, f.readBuildID, f.readDebugLink} {
		if err := step(); err != nil {
			return err
		}
	}
	for i := range f.sects {
		s := &f.sects[i]
		if s.isDebug() && s.hasBits() && s.Size > 0 {
			f.HasDebug = true
		}
	}
	return nil
}

// readHeader reads the ELF header and refuses what this package does not
// split.
func (f *File) readHeader() error {
	var b [ehdrSize]byte
	n, _ := f.r.ReadAt(b[:], 0)
	if n < elf.EI_NIDENT || !bytes.Equal(b[:4], []byte(elf.ELFMAG)) {
		return errors.New("not an ELF file; give a compiled binary or shared library")
	}
	if c, d := elf.Class(b[elf.EI_CLASS]), elf.Data(b[elf.EI_DATA]); c != elf.ELFCLASS64 || d != elf.ELFDATA2LSB {
		return fmt.Errorf("%v %v file: only ELF64 little-endian (x86_64, aarch64) binaries are split; package it unstripped", c, d)
	}
	if n < ehdrSize {
		return errors.New("truncated ELF header" + malformed)
	}
	binary.Decode(b[:], le, &f.hdr)
	h := &f.hdr
	f.Machine = elf.Machine(h.Machine)
	if elf.Version(h.Version) != elf.EV_CURRENT {
		return fmt.Errorf("unknown ELF version %d%s", h.Version, malformed)
	}
	switch f.Machine {
	case elf.EM_X86_64, elf.EM_AARCH64:
	default:
		return fmt.Errorf("machine %v: only x86_64 and aarch64 binaries are split; package it unstripped", f.Machine)
	}
	switch t := elf.Type(h.Type); t {
	case elf.ET_EXEC, elf.ET_DYN:
	default:
		return fmt.Errorf("ELF type %v: only executables and shared libraries are split", t)
	}
	return nil
}

// readProgs reads the program header table (there may be none).
func (f *File) readProgs() error {
	h := &f.hdr
	if h.Phnum == 0 {
		return nil
	}
	if h.Phentsize != phdrSize || h.Phnum == 0xffff {
		return fmt.Errorf("program header entry size %d and count %d: not what a linker writes%s", h.Phentsize, h.Phnum, malformed)
	}
	n := uint64(h.Phnum) * phdrSize
	if !f.inFile(h.Phoff, n) {
		return errors.New("truncated file: the program header table lies past its end" + malformed)
	}
	b, err := f.read(h.Phoff, n)
	if err != nil {
		return err
	}
	f.progs = make([]elf.Prog64, h.Phnum)
	binary.Decode(b, le, f.progs)
	for i, p := range f.progs {
		if elf.ProgType(p.Type) != elf.PT_NULL && !f.inFile(p.Off, p.Filesz) {
			return fmt.Errorf("program header %d (%v) covers bytes past the end of the file%s", i, elf.ProgType(p.Type), malformed)
		}
	}
	return nil
}

// readSects reads and checks the section header table (there may be
// none: then there is nothing to split).
func (f *File) readSects() error {
	h := &f.hdr
	if h.Shoff == 0 && h.Shnum == 0 {
		return nil
	}
	if h.Shentsize != shdrSize {
		return fmt.Errorf("section header entry size %d, want %d%s", h.Shentsize, shdrSize, malformed)
	}
	if h.Shnum == 0 || int(h.Shnum) > maxSections || h.Shstrndx >= h.Shnum {
		return fmt.Errorf("%d sections (names in section %d): extended section numbering (65280 sections or more) is not supported%s", h.Shnum, h.Shstrndx, malformed)
	}
	n := uint64(h.Shnum) * shdrSize
	if !f.inFile(h.Shoff, n) {
		return errors.New("truncated file: the section header table lies past its end" + malformed)
	}
	b, err := f.read(h.Shoff, n)
	if err != nil {
		return err
	}
	raw := make([]elf.Section64, h.Shnum)
	binary.Decode(b, le, raw)
	f.sects = make([]section, len(raw))
	for i, s := range raw {
		f.sects[i].Section64 = s
		if err := f.checkSect(i); err != nil {
			return err
		}
	}
	return nil
}

// checkSect checks that section i's contents lie in the file and its
// links name sections.
func (f *File) checkSect(i int) error {
	s := &f.sects[i]
	if s.hasBits() && !f.inFile(s.Off, s.Size) {
		return fmt.Errorf("section %d's contents lie past the end of the file%s", i, malformed)
	}
	if int(s.Link) >= len(f.sects) {
		return fmt.Errorf("section %d links to section %d, which does not exist%s", i, s.Link, malformed)
	}
	if s.Addralign&(s.Addralign-1) != 0 || (!s.alloc() && s.Addralign > maxAlign) {
		return fmt.Errorf("section %d has alignment %d: not a power of two of at most %d%s", i, s.Addralign, maxAlign, malformed)
	}
	switch elf.SectionType(s.Type) {
	case elf.SHT_SYMTAB_SHNDX:
		return errors.New("has an SHT_SYMTAB_SHNDX section (extended section numbering), which is not supported" + malformed)
	case elf.SHT_SYMTAB:
		if s.Entsize != symSize || s.Size%symSize != 0 || s.Size > maxSymtab {
			return fmt.Errorf("symbol table (section %d) of %d bytes with entries of %d: want 24-byte entries and at most %d bytes%s", i, s.Size, s.Entsize, maxSymtab, malformed)
		}
	}
	return nil
}

// readNames reads .shstrtab and names every section.
func (f *File) readNames() error {
	if len(f.sects) == 0 {
		return nil
	}
	st := &f.sects[f.hdr.Shstrndx]
	if elf.SectionType(st.Type) != elf.SHT_STRTAB || st.Size > maxShstrtab {
		return fmt.Errorf("the section name table (section %d) is not a string table of at most %d bytes%s", f.hdr.Shstrndx, maxShstrtab, malformed)
	}
	tab, err := f.read(st.Off, st.Size)
	if err != nil {
		return err
	}
	for i := range f.sects {
		s := &f.sects[i]
		if i == 0 {
			continue
		}
		name, ok := cstring(tab, uint64(s.Name))
		if !ok {
			return fmt.Errorf("section %d's name lies outside the section name table%s", i, malformed)
		}
		s.name = name
	}
	return nil
}

// cstring returns the NUL-terminated string at off in tab.
func cstring(tab []byte, off uint64) (string, bool) {
	if off >= uint64(len(tab)) {
		return "", off == 0
	}
	end := bytes.IndexByte(tab[off:], 0)
	if end < 0 {
		return "", false
	}
	return string(tab[off : off+uint64(end)]), true
}

// readBuildID finds the NT_GNU_BUILD_ID note in the note sections (or,
// without section headers, the PT_NOTE segments).
func (f *File) readBuildID() error {
	type area struct{ off, size uint64 }
	var areas []area
	for i := range f.sects {
		if s := &f.sects[i]; elf.SectionType(s.Type) == elf.SHT_NOTE {
			areas = append(areas, area{s.Off, s.Size})
		}
	}
	if len(f.sects) == 0 {
		for _, p := range f.progs {
			if elf.ProgType(p.Type) == elf.PT_NOTE {
				areas = append(areas, area{p.Off, p.Filesz})
			}
		}
	}
	for _, a := range areas {
		b, err := f.read(a.off, min(a.size, maxNote))
		if err != nil {
			return err
		}
		id, err := findBuildID(b)
		if err != nil {
			return err
		}
		if id != "" {
			f.BuildID = id
			return nil
		}
	}
	return nil
}

// findBuildID walks the notes in b (4-byte aligned, as GNU notes are).
func findBuildID(b []byte) (string, error) {
	for len(b) >= 12 {
		namesz, descsz, typ := uint64(le.Uint32(b)), uint64(le.Uint32(b[4:])), le.Uint32(b[8:])
		nameEnd := 12 + (namesz+3)&^3
		descEnd := nameEnd + (descsz+3)&^3
		if nameEnd > uint64(len(b)) || descEnd > uint64(len(b)) {
			return "", nil // a cut-off note (past maxNote): no build-id here
		}
		if typ == ntGNUBuildID && namesz == 4 && string(b[12:16]) == "GNU\x00" {
			if descsz < 2 || descsz > maxBuildID {
				return "", fmt.Errorf("its build-id note holds %d bytes, not 2 to %d%s", descsz, maxBuildID, malformed)
			}
			return hex.EncodeToString(b[nameEnd : nameEnd+descsz]), nil
		}
		b = b[descEnd:]
	}
	return "", nil
}

// readDebugLink reads the file name an existing .gnu_debuglink names.
func (f *File) readDebugLink() error {
	for i := range f.sects {
		s := &f.sects[i]
		if s.name != ".gnu_debuglink" || !s.hasBits() {
			continue
		}
		b, err := f.read(s.Off, min(s.Size, maxLinkSect))
		if err != nil {
			return err
		}
		if n := bytes.IndexByte(b, 0); n > 0 {
			f.DebugLink = string(b[:n])
		}
	}
	return nil
}
