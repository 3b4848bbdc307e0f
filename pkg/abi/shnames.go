package abi

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"io"
)

// openELF is elf.NewFile after checkSectionNames: the one way relpack opens
// an ELF file.
func openELF(r io.ReaderAt) (*elf.File, error) {
	if err := checkSectionNames(r); err != nil {
		return nil, err
	}
	return elf.NewFile(r)
}

// checkSectionNames holds section names to the name budget (see
// sectionData.name) before debug/elf reads them. elf.NewFile copies every
// section's name out of .shstrtab, and a crafted file whose thousands of
// section headers all name offset 1 of one long string makes it copy
// gigabytes (a 400 KB file: 525 MB and 2 s; a 2 MB one: 16 GB). The check
// reads the ELF header, the section header table and .shstrtab itself,
// refuses a compressed .shstrtab, and leaves every other malformation to
// debug/elf, which reports them.
func checkSectionNames(r io.ReaderAt) error {
	l, ok := readSectionLayout(r)
	if !ok {
		return nil
	}
	table, ok := l.headerTable(r)
	if !ok {
		return nil // debug/elf reports the short table
	}
	sh := table[l.shstrndx*l.shentsize:]
	if elf.SectionType(l.bo.Uint32(sh[4:])) != elf.SHT_STRTAB {
		return nil
	}
	// elf.NewFile would inflate a compressed .shstrtab to the size its
	// header claims, as much as a zlib or zstd stream expands (1000x and
	// more). No tool compresses it.
	if elf.SectionFlag(l.word(sh[8:]))&elf.SHF_COMPRESSED != 0 {
		return fmt.Errorf("the section name table is compressed (SHF_COMPRESSED), which no linker or objcopy writes: this file is corrupt or crafted")
	}
	str, err := readAtMost(r, int64(l.word(sh[l.shOff:])), l.word(sh[l.shSize:]))
	if err != nil || uint64(len(str)) < l.word(sh[l.shSize:]) {
		return nil
	}
	limit := nameBudget(uint64(len(table)+len(str)), readerSize(r))
	return l.namesWithin(table, str, limit)
}

// sectionLayout is what checkSectionNames needs of the ELF header: where
// the section header table is, its counts, and the offsets of the fields it
// reads in one section header, for the file's class and byte order.
type sectionLayout struct {
	bo   binary.ByteOrder
	word func([]byte) uint64 // reads an address-sized field (Elf32_Word or Elf64_Xword)

	shoff                      uint64
	shentsize, shnum, shstrndx int
	wantEnt                    int // the size of a section header of this class
	shOff, shSize, shLink      int // sh_offset, sh_size, sh_link
}

// readSectionLayout reads the ELF header; ok is false when the file has no
// section headers this check can read (debug/elf then reports what is
// wrong, or reads no names).
func readSectionLayout(r io.ReaderAt) (l sectionLayout, ok bool) {
	var ident [elf.EI_NIDENT]byte
	if _, err := r.ReadAt(ident[:], 0); err != nil {
		return l, false
	}
	switch elf.Data(ident[elf.EI_DATA]) {
	case elf.ELFDATA2LSB:
		l.bo = binary.LittleEndian
	case elf.ELFDATA2MSB:
		l.bo = binary.BigEndian
	default:
		return l, false
	}
	// Field offsets in the ELF header and in a section header.
	bo := l.bo
	l.word = func(b []byte) uint64 { return uint64(bo.Uint32(b)) }
	switch elf.Class(ident[elf.EI_CLASS]) {
	case elf.ELFCLASS64:
		var h [64]byte
		if _, err := r.ReadAt(h[:], 0); err != nil {
			return l, false
		}
		l.shoff = bo.Uint64(h[40:])
		l.shentsize, l.shnum, l.shstrndx = int(bo.Uint16(h[58:])), int(bo.Uint16(h[60:])), int(bo.Uint16(h[62:]))
		l.wantEnt, l.shOff, l.shSize, l.shLink = 64, 24, 32, 40
		l.word = bo.Uint64
	case elf.ELFCLASS32:
		var h [52]byte
		if _, err := r.ReadAt(h[:], 0); err != nil {
			return l, false
		}
		l.shoff = uint64(bo.Uint32(h[32:]))
		l.shentsize, l.shnum, l.shstrndx = int(bo.Uint16(h[46:])), int(bo.Uint16(h[48:])), int(bo.Uint16(h[50:]))
		l.wantEnt, l.shOff, l.shSize, l.shLink = 40, 16, 20, 24
	default:
		return l, false
	}
	if l.shoff == 0 || l.shentsize < l.wantEnt {
		return l, false
	}
	if !l.extendedCounts(r) {
		return l, false
	}
	if l.shnum == 0 || l.shstrndx == 0 || l.shstrndx >= l.shnum {
		return l, false
	}
	return l, true
}

// extendedCounts reads the section count and the name table's index from
// section 0 when the ELF header says they live there (extended numbering);
// false when section 0 cannot be read.
func (l *sectionLayout) extendedCounts(r io.ReaderAt) bool {
	if l.shnum != 0 && l.shstrndx != int(elf.SHN_XINDEX) {
		return true
	}
	h0, err := readAtMost(r, int64(l.shoff), uint64(l.wantEnt))
	if err != nil || len(h0) < l.wantEnt {
		return false
	}
	if l.shnum == 0 {
		l.shnum = int(min(l.word(h0[l.shSize:]), 1<<32))
	}
	if l.shstrndx == int(elf.SHN_XINDEX) {
		l.shstrndx = int(l.bo.Uint32(h0[l.shLink:]))
	}
	return true
}

// headerTable reads the whole section header table; false when the file
// holds less of it than the header claims.
func (l *sectionLayout) headerTable(r io.ReaderAt) ([]byte, bool) {
	table, err := readAtMost(r, int64(l.shoff), uint64(l.shnum)*uint64(l.shentsize))
	if err != nil || len(table) < l.shnum*l.shentsize {
		return nil, false
	}
	return table, true
}

// namesWithin adds up the names the section headers of table give in str,
// as elf.NewFile would copy them, and refuses the file once they pass limit.
// It reads no further into str than the budget left allows.
func (l *sectionLayout) namesWithin(table, str []byte, limit uint64) error {
	total := uint64(0)
	for i := 0; i < l.shnum; i++ {
		off := uint64(l.bo.Uint32(table[i*l.shentsize:]))
		if off >= uint64(len(str)) {
			continue // debug/elf: "bad section name index"
		}
		rest := str[off:]
		if left := limit - total; uint64(len(rest)) > left+1 {
			rest = rest[:left+1]
		}
		n := bytes.IndexByte(rest, 0)
		if n < 0 {
			if uint64(len(str))-off > limit-total {
				return fmt.Errorf("section names add up to more than %d bytes (%dx the section header table and .shstrtab, at most the file's size, + %d): "+
					"headers name overlapping parts of long strings, which no linker writes; this file is corrupt or crafted",
					limit, nameBudgetFactor, nameBudgetSlack)
			}
			continue // no NUL: debug/elf refuses the name
		}
		total += uint64(n)
	}
	return nil
}

// readAtMost reads up to n bytes at off, growing its buffer only as data
// arrives: a header's claimed size does not size the allocation.
func readAtMost(r io.ReaderAt, off int64, n uint64) ([]byte, error) {
	if off < 0 || n > 1<<40 {
		return nil, fmt.Errorf("offset %d, size %d out of range", off, n)
	}
	return io.ReadAll(io.NewSectionReader(r, off, int64(n)))
}
