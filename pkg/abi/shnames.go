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
	var ident [elf.EI_NIDENT]byte
	if _, err := r.ReadAt(ident[:], 0); err != nil {
		return nil
	}
	var bo binary.ByteOrder
	switch elf.Data(ident[elf.EI_DATA]) {
	case elf.ELFDATA2LSB:
		bo = binary.LittleEndian
	case elf.ELFDATA2MSB:
		bo = binary.BigEndian
	default:
		return nil
	}
	// Field offsets in the ELF header and in a section header.
	var shoff uint64
	var shentsize, shnum, shstrndx, wantEnt int
	var shOff, shSize, shLink int // sh_offset, sh_size, sh_link
	word := func(b []byte) uint64 { return uint64(bo.Uint32(b)) }
	switch elf.Class(ident[elf.EI_CLASS]) {
	case elf.ELFCLASS64:
		var h [64]byte
		if _, err := r.ReadAt(h[:], 0); err != nil {
			return nil
		}
		shoff = bo.Uint64(h[40:])
		shentsize, shnum, shstrndx = int(bo.Uint16(h[58:])), int(bo.Uint16(h[60:])), int(bo.Uint16(h[62:]))
		wantEnt, shOff, shSize, shLink = 64, 24, 32, 40
		word = bo.Uint64
	case elf.ELFCLASS32:
		var h [52]byte
		if _, err := r.ReadAt(h[:], 0); err != nil {
			return nil
		}
		shoff = uint64(bo.Uint32(h[32:]))
		shentsize, shnum, shstrndx = int(bo.Uint16(h[46:])), int(bo.Uint16(h[48:])), int(bo.Uint16(h[50:]))
		wantEnt, shOff, shSize, shLink = 40, 16, 20, 24
	default:
		return nil
	}
	if shoff == 0 || shentsize < wantEnt {
		return nil
	}
	header := func(i int) []byte {
		b, err := readAtMost(r, int64(shoff)+int64(i)*int64(shentsize), uint64(wantEnt))
		if err != nil || len(b) < wantEnt {
			return nil
		}
		return b
	}
	// Extended numbering: the counts live in section 0.
	if shnum == 0 || shstrndx == int(elf.SHN_XINDEX) {
		h0 := header(0)
		if h0 == nil {
			return nil
		}
		if shnum == 0 {
			shnum = int(min(word(h0[shSize:]), 1<<32))
		}
		if shstrndx == int(elf.SHN_XINDEX) {
			shstrndx = int(bo.Uint32(h0[shLink:]))
		}
	}
	if shnum == 0 || shstrndx == 0 || shstrndx >= shnum {
		return nil
	}
	table, err := readAtMost(r, int64(shoff), uint64(shnum)*uint64(shentsize))
	if err != nil || len(table) < shnum*shentsize {
		return nil // debug/elf reports the short table
	}
	sh := table[shstrndx*shentsize:]
	if elf.SectionType(bo.Uint32(sh[4:])) != elf.SHT_STRTAB {
		return nil
	}
	// elf.NewFile would inflate a compressed .shstrtab to the size its
	// header claims, as much as a zlib or zstd stream expands (1000x and
	// more). No tool compresses it.
	if elf.SectionFlag(word(sh[8:]))&elf.SHF_COMPRESSED != 0 {
		return fmt.Errorf("the section name table is compressed (SHF_COMPRESSED), which no linker or objcopy writes: this file is corrupt or crafted")
	}
	str, err := readAtMost(r, int64(word(sh[shOff:])), word(sh[shSize:]))
	if err != nil || uint64(len(str)) < word(sh[shSize:]) {
		return nil
	}
	limit := nameBudget(uint64(len(table)+len(str)), readerSize(r))
	total := uint64(0)
	for i := 0; i < shnum; i++ {
		off := uint64(bo.Uint32(table[i*shentsize:]))
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
