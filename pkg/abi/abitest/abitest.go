// Package abitest builds hostile ELF files for tests, by rewriting a real
// linker output (a fixture) rather than committing large crafted blobs: the
// shapes that once made relpack's reader run out of memory, print gigabytes
// or hang, at any size a test asks for. Only 64-bit little-endian inputs
// are supported; every x86_64 fixture is one.
package abitest

import (
	"bytes"
	"compress/zlib"
	"debug/elf"
	"encoding/binary"
	"fmt"
)

// file is an ELF64 LE file being rewritten: bytes plus where its section
// headers are, and the index of each section by name.
type file struct {
	b     []byte
	shoff uint64
	index map[string]int
}

var le = binary.LittleEndian

func open(fixture []byte) (*file, error) {
	f, err := elf.NewFile(bytes.NewReader(fixture))
	if err != nil {
		return nil, err
	}
	if f.Class != elf.ELFCLASS64 || f.Data != elf.ELFDATA2LSB {
		return nil, fmt.Errorf("abitest: want an ELF64 little-endian fixture, got %v %v", f.Class, f.Data)
	}
	x := &file{b: append([]byte(nil), fixture...), shoff: le.Uint64(fixture[40:]), index: map[string]int{}}
	for i, s := range f.Sections {
		x.index[s.Name] = i
	}
	return x, nil
}

// sh returns section header i (Elf64_Shdr, 64 bytes).
func (x *file) sh(name string) ([]byte, error) {
	i, ok := x.index[name]
	if !ok {
		return nil, fmt.Errorf("abitest: the fixture has no %s section", name)
	}
	return x.b[x.shoff+uint64(i)*64:][:64], nil
}

// data returns a section's current bytes.
func (x *file) data(name string) ([]byte, error) {
	h, err := x.sh(name)
	if err != nil {
		return nil, err
	}
	off, size := le.Uint64(h[24:]), le.Uint64(h[32:])
	return x.b[off : off+size], nil
}

// place appends d (8-byte aligned) and points the named section at it.
func (x *file) place(name string, d []byte) error {
	for len(x.b)%8 != 0 {
		x.b = append(x.b, 0)
	}
	off := uint64(len(x.b))
	x.b = append(x.b, d...)
	h, err := x.sh(name)
	if err != nil {
		return err
	}
	le.PutUint64(h[24:], off)
	le.PutUint64(h[32:], uint64(len(d)))
	return nil
}

// OverlappingVerneed replaces .gnu.version_r with a section of slots
// 16-byte entries, each both an Elf_Verneed (vn_cnt 0xffff, vn_aux 16,
// vn_next 16) and an Elf_Vernaux (vna_next 16), the last one ending both
// chains. Verneed k's chain walks every entry after it, so a reader that
// follows the links without noticing reused entries does slots²/2 steps:
// 16384 slots (a 262 KB file) made 134 million version records.
func OverlappingVerneed(fixture []byte, slots int) ([]byte, error) {
	x, err := open(fixture)
	if err != nil {
		return nil, err
	}
	dynstr, err := x.data(".dynstr")
	if err != nil {
		return nil, err
	}
	libc := bytes.Index(dynstr, []byte("\x00libc.so.6\x00"))
	if libc < 0 {
		return nil, fmt.Errorf("abitest: the fixture's .dynstr has no libc.so.6")
	}
	d := make([]byte, 16*slots)
	for k := 0; k < slots; k++ {
		e := d[16*k:]
		le.PutUint16(e[0:], 1)              // vn_version
		le.PutUint32(e[4:], uint32(libc+1)) // vn_file
		if k < slots-1 {
			le.PutUint16(e[2:], 0xffff) // vn_cnt
			le.PutUint32(e[8:], 16)     // vn_aux; as a Vernaux, vna_name
			le.PutUint32(e[12:], 16)    // vn_next and vna_next
		}
	}
	if err := x.place(".gnu.version_r", d); err != nil {
		return nil, err
	}
	h, _ := x.sh(".gnu.version_r")
	le.PutUint32(h[44:], uint32(slots)) // sh_info: number of Verneed entries
	return x.b, nil
}

// OverlappingNames appends a run of strLen-2 letters to .dynstr and points
// .dynsym at syms undefined symbols whose names start at offsets 1, 2, 3,
// ... of that run. Every name is a different string of almost strLen
// bytes: a reader that prints each one prints syms*strLen bytes (gigabytes
// for a 1 MB file). The fixture's other names stay where they were.
func OverlappingNames(fixture []byte, strLen, syms int) ([]byte, error) {
	return OverlappingNamesOf(fixture, 'A', strLen, syms)
}

// OverlappingNamesOf is OverlappingNames with a run of fill bytes: a
// control byte makes every name print four times its size escaped (\x01)
// and six times in JSON (\u0001), the worst case for output size.
func OverlappingNamesOf(fixture []byte, fill byte, strLen, syms int) ([]byte, error) {
	if fill == 0 {
		return nil, fmt.Errorf("abitest: a NUL fill ends every name at once")
	}
	x, err := open(fixture)
	if err != nil {
		return nil, err
	}
	old, err := x.data(".dynstr")
	if err != nil {
		return nil, err
	}
	base := len(old)
	str := append(append([]byte(nil), old...), 0)
	str = append(str, bytes.Repeat([]byte{fill}, strLen-2)...)
	str = append(str, 0)
	if err := x.place(".dynstr", str); err != nil {
		return nil, err
	}
	sym := make([]byte, 24*syms) // entry 0 stays the null symbol
	for i := 1; i < syms; i++ {
		e := sym[24*i:]
		le.PutUint32(e[0:], uint32(base+1+i%(strLen-2))) // st_name
		e[4] = byte(elf.STB_GLOBAL)<<4 | byte(elf.STT_FUNC)
	}
	return x.b, x.place(".dynsym", sym)
}

// ReplaceString overwrites the first occurrence of old, a NUL-terminated
// string anywhere in the file (a PT_INTERP, a name in .dynstr), with repl,
// which must be no longer; the rest is padded with NULs so the offsets of
// everything else stay put.
func ReplaceString(fixture []byte, old, repl string) ([]byte, error) {
	if len(repl) > len(old) {
		return nil, fmt.Errorf("abitest: %q is longer than %q", repl, old)
	}
	// A whole string (NUL before and after) first: "exp" must not hit the
	// tail of "frexp".
	i := bytes.Index(fixture, []byte("\x00"+old+"\x00"))
	if i >= 0 {
		i++
	} else if i = bytes.Index(fixture, []byte(old+"\x00")); i < 0 {
		return nil, fmt.Errorf("abitest: %q not in the file", old)
	}
	b := append([]byte(nil), fixture...)
	copy(b[i:i+len(old)], make([]byte, len(old)))
	copy(b[i:], repl)
	return b, nil
}

// OverlappingSectionNames writes a new section header table of sections
// headers (the fixture's own, then empty SHT_PROGBITS ones), every name in a
// new .shstrtab at offset 1 of one run of nameLen-2 letters. debug/elf
// copies each section's name when it opens the file, so a reader built on
// it copies sections*nameLen bytes (16 GB for a 2 MB file) unless it
// checks first. sections must stay below 0xff00 (no extended numbering).
func OverlappingSectionNames(fixture []byte, sections, nameLen int) ([]byte, error) {
	x, err := open(fixture)
	if err != nil {
		return nil, err
	}
	shnum := int(le.Uint16(x.b[60:]))
	if sections < shnum || sections >= 0xff00 {
		return nil, fmt.Errorf("abitest: %d sections: want %d to %d", sections, shnum, 0xff00-1)
	}
	str := append([]byte{0}, bytes.Repeat([]byte{'A'}, nameLen-2)...)
	str = append(str, 0)
	if err := x.place(".shstrtab", str); err != nil {
		return nil, err
	}
	tab := make([]byte, 64*sections)
	copy(tab, x.b[x.shoff:x.shoff+uint64(64*shnum)])
	for i := 1; i < sections; i++ {
		h := tab[64*i:]
		le.PutUint32(h[0:], 1) // sh_name
		if i >= shnum {
			le.PutUint32(h[4:], uint32(elf.SHT_PROGBITS))
		}
	}
	for len(x.b)%8 != 0 {
		x.b = append(x.b, 0)
	}
	le.PutUint64(x.b[40:], uint64(len(x.b))) // e_shoff
	le.PutUint16(x.b[60:], uint16(sections)) // e_shnum
	return append(x.b, tab...), nil
}

// DynString appends value to .dynstr and points the first .dynamic entry
// with the tag (DT_RUNPATH, DT_NEEDED, ...) at it: a value of any length,
// e.g. a RUNPATH of a million empty elements.
func DynString(fixture []byte, tag elf.DynTag, value string) ([]byte, error) {
	x, err := open(fixture)
	if err != nil {
		return nil, err
	}
	old, err := x.data(".dynstr")
	if err != nil {
		return nil, err
	}
	str := append(append(append([]byte(nil), old...), value...), 0)
	dyn, err := x.data(".dynamic")
	if err != nil {
		return nil, err
	}
	for i := 0; i+16 <= len(dyn); i += 16 {
		if elf.DynTag(le.Uint64(dyn[i:])) == tag {
			le.PutUint64(dyn[i+8:], uint64(len(old)))
			return x.b, x.place(".dynstr", str)
		}
	}
	return nil, fmt.Errorf("abitest: the fixture's .dynamic has no %v", tag)
}

// ManyInterps writes a new program header table of count copies of the
// fixture's PT_INTERP header, each claiming filesz bytes (up to PATH_MAX
// is allowed): a reader that reads every PT_INTERP reads count*filesz
// bytes from a file of 56*count.
func ManyInterps(fixture []byte, count int, filesz uint64) ([]byte, error) {
	x, err := open(fixture)
	if err != nil {
		return nil, err
	}
	phoff, phnum := le.Uint64(x.b[32:]), int(le.Uint16(x.b[56:]))
	var interp []byte
	for i := 0; i < phnum; i++ {
		if h := x.b[phoff+uint64(i)*56:][:56]; elf.ProgType(le.Uint32(h)) == elf.PT_INTERP {
			interp = append([]byte(nil), h...)
			break
		}
	}
	if interp == nil || count >= 0xffff {
		return nil, fmt.Errorf("abitest: no PT_INTERP in the fixture, or %d headers (want fewer than 65535)", count)
	}
	le.PutUint64(interp[32:], filesz) // p_filesz
	for len(x.b)%8 != 0 {
		x.b = append(x.b, 0)
	}
	le.PutUint64(x.b[32:], uint64(len(x.b))) // e_phoff
	le.PutUint16(x.b[56:], uint16(count))    // e_phnum
	return append(x.b, bytes.Repeat(interp, count)...), nil
}

// CompressedBomb replaces the named section with a zlib stream (SHF_COMPRESSED,
// an Elf64_Chdr in front) that inflates to size zero bytes: about 1000
// times what it takes in the file.
func CompressedBomb(fixture []byte, section string, size int) ([]byte, error) {
	x, err := open(fixture)
	if err != nil {
		return nil, err
	}
	var d bytes.Buffer
	chdr := make([]byte, 24)
	le.PutUint32(chdr[0:], uint32(elf.COMPRESS_ZLIB))
	le.PutUint64(chdr[8:], uint64(size))
	le.PutUint64(chdr[16:], 1)
	d.Write(chdr)
	zw := zlib.NewWriter(&d)
	zero := make([]byte, 64<<10)
	for left := size; left > 0; left -= len(zero) {
		zw.Write(zero[:min(left, len(zero))])
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	if err := x.place(section, d.Bytes()); err != nil {
		return nil, err
	}
	// debug/elf refuses SHF_COMPRESSED on an SHF_ALLOC section (after
	// inflating it), so the flag goes: relpack does not look at it.
	h, _ := x.sh(section)
	le.PutUint64(h[8:], le.Uint64(h[8:])&^uint64(elf.SHF_ALLOC)|uint64(elf.SHF_COMPRESSED))
	return x.b, nil
}
