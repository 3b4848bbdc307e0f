package elfedit

// The oracle: SetRunpath's in-memory algorithm as it was before it
// streamed (commit 6e1588d), kept verbatim apart from its names (old...).
// TestStreamingMatchesOracle checks that the streaming SetRunpath writes
// exactly the bytes this code computes, on every fixture and path.

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
)

// oldFile is (the oracle) a parsed ELF64 little-endian file: its bytes and the headers,
// decoded. Edits change the decoded headers; encode writes them back.
type oldFile struct {
	data  []byte
	hdr   elf.Header64
	progs []elf.Prog64
	sects []elf.Section64 // empty when the file has no section headers

	dynProg int         // index in progs of PT_DYNAMIC
	dyns    []elf.Dyn64 // every slot of PT_DYNAMIC's file image, trailing DT_NULLs included
	nused   int         // index of the first DT_NULL: the entries in use
}

// parse decodes the headers and the dynamic table of data and checks that
// they lie inside the file. Its errors are messages for an *Error.
func oldParse(data []byte) (*oldFile, error) {
	if len(data) < elf.EI_NIDENT || !bytes.Equal(data[:4], []byte(elf.ELFMAG)) {
		return nil, errors.New("not an ELF file")
	}
	if c := elf.Class(data[elf.EI_CLASS]); c != elf.ELFCLASS64 {
		return nil, fmt.Errorf("%v file: only ELF64 little-endian (x86_64, aarch64) is supported", c)
	}
	if d := elf.Data(data[elf.EI_DATA]); d != elf.ELFDATA2LSB {
		return nil, fmt.Errorf("%v file: only ELF64 little-endian (x86_64, aarch64) is supported", d)
	}
	if len(data) < ehdrSize {
		return nil, errors.New("truncated ELF header")
	}
	f := &oldFile{data: data}
	if _, err := binary.Decode(data, le, &f.hdr); err != nil {
		return nil, fmt.Errorf("reading the ELF header: %v", err)
	}
	h := &f.hdr
	if elf.Version(h.Version) != elf.EV_CURRENT {
		return nil, fmt.Errorf("unknown ELF version %d", h.Version)
	}
	switch m := elf.Machine(h.Machine); m {
	case elf.EM_X86_64, elf.EM_AARCH64:
	default:
		return nil, fmt.Errorf("machine %v: only x86_64 and aarch64 are supported", m)
	}
	switch t := elf.Type(h.Type); t {
	case elf.ET_EXEC, elf.ET_DYN:
	default:
		return nil, fmt.Errorf("ELF type %v: only executables and shared libraries have a RUNPATH", t)
	}

	// Program headers.
	if h.Phnum == 0 {
		return nil, errors.New("no program headers: not a dynamically linked executable or library")
	}
	if h.Phentsize != phdrSize {
		return nil, fmt.Errorf("program header entry size %d, want %d", h.Phentsize, phdrSize)
	}
	if !oldInFile(data, h.Phoff, uint64(h.Phnum)*phdrSize) {
		return nil, errors.New("truncated file: the program header table lies past its end")
	}
	f.progs = make([]elf.Prog64, h.Phnum)
	for i := range f.progs {
		binary.Decode(data[h.Phoff+uint64(i)*phdrSize:], le, &f.progs[i])
	}

	// Section headers (optional: the loader never reads them).
	if h.Shoff != 0 {
		if h.Shentsize != shdrSize {
			return nil, fmt.Errorf("section header entry size %d, want %d", h.Shentsize, shdrSize)
		}
		n := uint64(h.Shnum)
		if n == 0 { // extended numbering: the count is in section 0's sh_size
			if !oldInFile(data, h.Shoff, shdrSize) {
				return nil, errors.New("truncated file: the section header table lies past its end")
			}
			n = le.Uint64(data[h.Shoff+32:])
		}
		if n > uint64(len(data))/shdrSize || !oldInFile(data, h.Shoff, n*shdrSize) {
			return nil, errors.New("truncated file: the section header table lies past its end")
		}
		f.sects = make([]elf.Section64, n)
		for i := range f.sects {
			binary.Decode(data[h.Shoff+uint64(i)*shdrSize:], le, &f.sects[i])
		}
	}

	for i, p := range f.progs {
		if elf.ProgType(p.Type) == elf.PT_LOAD {
			if !oldInFile(data, p.Off, p.Filesz) {
				return nil, fmt.Errorf("truncated file: segment %d (PT_LOAD) lies past its end", i)
			}
			if p.Filesz > p.Memsz {
				return nil, fmt.Errorf("segment %d (PT_LOAD) has p_filesz > p_memsz", i)
			}
		}
	}

	// The dynamic table, as the loader finds it.
	f.dynProg = -1
	for i, p := range f.progs {
		if elf.ProgType(p.Type) == elf.PT_DYNAMIC {
			f.dynProg = i
			break
		}
	}
	if f.dynProg < 0 {
		return nil, errors.New("statically linked (no PT_DYNAMIC segment): it loads no shared libraries, so a RUNPATH would do nothing")
	}
	dp := f.progs[f.dynProg]
	if !oldInFile(data, dp.Off, dp.Filesz) {
		return nil, errors.New("truncated file: the dynamic section lies past its end")
	}
	if off, ok := f.offsetOf(dp.Vaddr, dp.Filesz); !ok || off != dp.Off {
		return nil, errors.New("PT_DYNAMIC is not inside a PT_LOAD segment's file image")
	}
	n := dp.Filesz / dynSize
	f.dyns = make([]elf.Dyn64, n)
	f.nused = -1
	for i := range f.dyns {
		binary.Decode(data[dp.Off+uint64(i)*dynSize:], le, &f.dyns[i])
		if f.nused < 0 && elf.DynTag(f.dyns[i].Tag) == elf.DT_NULL {
			f.nused = i
		}
	}
	if f.nused < 0 {
		return nil, errors.New("the dynamic section has no DT_NULL terminator")
	}
	return f, nil
}

// inFile reports whether [off, off+size) lies inside data.
func oldInFile(data []byte, off, size uint64) bool {
	return off <= uint64(len(data)) && size <= uint64(len(data))-off
}

// offsetOf maps [vaddr, vaddr+size) to its file offset through the PT_LOAD
// segment whose file image holds it.
func (f *oldFile) offsetOf(vaddr, size uint64) (uint64, bool) {
	for _, p := range f.progs {
		if elf.ProgType(p.Type) != elf.PT_LOAD {
			continue
		}
		if vaddr >= p.Vaddr && vaddr-p.Vaddr <= p.Filesz && size <= p.Filesz-(vaddr-p.Vaddr) {
			return p.Off + (vaddr - p.Vaddr), true
		}
	}
	return 0, false
}

// dynVal returns the value of the first entry in use with the tag.
func (f *oldFile) dynVal(tag elf.DynTag) (uint64, bool) {
	for _, d := range f.dyns[:f.nused] {
		if elf.DynTag(d.Tag) == tag {
			return d.Val, true
		}
	}
	return 0, false
}

// strtab returns the dynamic string table (DT_STRTAB, DT_STRSZ), its address
// and its file offset.
func (f *oldFile) strtab() (tab []byte, addr, off uint64, err error) {
	addr, ok1 := f.dynVal(elf.DT_STRTAB)
	size, ok2 := f.dynVal(elf.DT_STRSZ)
	if !ok1 || !ok2 {
		return nil, 0, 0, errors.New("the dynamic section has no DT_STRTAB or DT_STRSZ")
	}
	off, ok := f.offsetOf(addr, size)
	if !ok {
		return nil, 0, 0, errors.New("DT_STRTAB is not inside a PT_LOAD segment's file image")
	}
	return f.data[off : off+size], addr, off, nil
}

// strRefs lists every offset into the dynamic string table that the file
// uses, other than the DT_RPATH/DT_RUNPATH entries: string-valued dynamic
// entries, dynamic symbol names, version needs and version definitions. ok
// is false when they cannot all be found (no section headers to count the
// dynamic symbols, or tables outside the file); the caller must then assume
// the worst.
func (f *oldFile) strRefs() (refs []uint64, ok bool) {
	for _, d := range f.dyns[:f.nused] {
		t := elf.DynTag(d.Tag)
		if isStringTag(t) && !isPathTag(t) {
			refs = append(refs, d.Val)
		}
	}
	// Dynamic symbols: the count comes from the section header.
	symtab, hasSym := f.dynVal(elf.DT_SYMTAB)
	if hasSym {
		var ds *elf.Section64
		for i := range f.sects {
			if elf.SectionType(f.sects[i].Type) == elf.SHT_DYNSYM && f.sects[i].Addr == symtab {
				ds = &f.sects[i]
			}
		}
		if ds == nil {
			return nil, false
		}
		off, ok := f.offsetOf(ds.Addr, ds.Size)
		if !ok {
			return nil, false
		}
		for p := off; p+24 <= off+ds.Size; p += 24 {
			refs = append(refs, uint64(le.Uint32(f.data[p:])))
		}
	}
	// Version needs: Verneed{vn_version, vn_cnt u16; vn_file, vn_aux, vn_next u32}
	// and Vernaux{vna_hash u32; vna_flags, vna_other u16; vna_name, vna_next u32}.
	if addr, has := f.dynVal(elf.DT_VERNEED); has {
		num, _ := f.dynVal(elf.DT_VERNEEDNUM)
		p, ok := f.offsetOf(addr, 16)
		for i := uint64(0); i < num; i++ {
			if !ok || !oldInFile(f.data, p, 16) {
				return nil, false
			}
			refs = append(refs, uint64(le.Uint32(f.data[p+4:])))
			cnt := uint64(le.Uint16(f.data[p+2:]))
			a := p + uint64(le.Uint32(f.data[p+8:]))
			for j := uint64(0); j < cnt; j++ {
				if !oldInFile(f.data, a, 16) {
					return nil, false
				}
				refs = append(refs, uint64(le.Uint32(f.data[a+8:])))
				a += uint64(le.Uint32(f.data[a+12:]))
			}
			p += uint64(le.Uint32(f.data[p+12:]))
		}
	}
	// Version definitions: Verdef{vd_version, vd_flags, vd_ndx, vd_cnt u16;
	// vd_hash, vd_aux, vd_next u32} and Verdaux{vda_name, vda_next u32}.
	if addr, has := f.dynVal(elf.DT_VERDEF); has {
		num, _ := f.dynVal(elf.DT_VERDEFNUM)
		p, ok := f.offsetOf(addr, 20)
		for i := uint64(0); i < num; i++ {
			if !ok || !oldInFile(f.data, p, 20) {
				return nil, false
			}
			cnt := uint64(le.Uint16(f.data[p+6:]))
			a := p + uint64(le.Uint32(f.data[p+12:]))
			for j := uint64(0); j < cnt; j++ {
				if !oldInFile(f.data, a, 8) {
					return nil, false
				}
				refs = append(refs, uint64(le.Uint32(f.data[a:])))
				a += uint64(le.Uint32(f.data[a+4:]))
			}
			p += uint64(le.Uint32(f.data[p+16:]))
		}
	}
	return refs, true
}

// edit returns a copy of data with its DT_RUNPATH set to runpath. Its errors
// are messages for an *Error.
func oldEdit(data []byte, runpath string, opt options) ([]byte, error) {
	f, err := oldParse(data)
	if err != nil {
		return nil, err
	}
	tab, tabAddr, tabOff, err := f.strtab()
	if err != nil {
		return nil, err
	}

	// The DT_RPATH/DT_RUNPATH entries in use; the first one is kept (as
	// DT_RUNPATH), the others are dropped.
	var paths []int
	for i, d := range f.dyns[:f.nused] {
		if isPathTag(elf.DynTag(d.Tag)) {
			paths = append(paths, i)
		}
	}

	// Case 1: the new string fits over the old one, which nothing else uses.
	if len(paths) > 0 && !opt.noInPlace {
		old := f.dyns[paths[0]].Val
		s, ok := cstring(tab, old)
		if !ok {
			return nil, fmt.Errorf("the %v string lies outside DT_STRTAB", elf.DynTag(f.dyns[paths[0]].Tag))
		}
		if len(runpath) <= len(s) && f.unshared(tab, old, uint64(len(s))) {
			out := bytes.Clone(data)
			region := out[tabOff+old : tabOff+old+uint64(len(s))]
			clear(region)
			copy(region, runpath)
			f.data = out
			f.setPathEntries(paths, old)
			f.encodeDynamic()
			return out, nil
		}
	}

	// Case 2 and 3: relocate .dynstr, and .dynamic if it has no spare slot.
	newTab := make([]byte, 0, len(tab)+len(runpath)+1)
	newTab = append(append(append(newTab, tab...), runpath...), 0)
	strOff := uint64(len(tab))

	moveDyn := false
	if len(paths) > 0 {
		f.setPathEntries(paths, strOff)
	} else {
		// One more entry, before the terminating DT_NULL.
		if f.nused+2 > len(f.dyns) || opt.moveDynamic {
			moveDyn = true
			f.dyns = append(f.dyns[:f.nused:f.nused], elf.Dyn64{}, elf.Dyn64{})
		}
		f.dyns[f.nused] = elf.Dyn64{Tag: int64(elf.DT_RUNPATH), Val: strOff}
		f.dyns[f.nused+1] = elf.Dyn64{}
		f.nused++
	}
	return f.relocate(tabAddr, newTab, moveDyn)
}

// unshared reports whether no string reference other than the RPATH/RUNPATH
// entries overlaps the n bytes at off in tab (and their NUL).
func (f *oldFile) unshared(tab []byte, off, n uint64) bool {
	refs, ok := f.strRefs()
	if !ok {
		return false
	}
	for _, r := range refs {
		s, ok := cstring(tab, r)
		if !ok {
			continue // out of range: cannot point into our bytes
		}
		if r <= off+n && r+uint64(len(s)) >= off {
			return false
		}
	}
	return true
}

// setPathEntries makes the first entry of paths DT_RUNPATH with value val
// and drops the others, keeping the table's length (DT_NULL padded).
func (f *oldFile) setPathEntries(paths []int, val uint64) {
	f.dyns[paths[0]] = elf.Dyn64{Tag: int64(elf.DT_RUNPATH), Val: val}
	for k := len(paths) - 1; k >= 1; k-- {
		i := paths[k]
		copy(f.dyns[i:], f.dyns[i+1:])
		f.dyns[len(f.dyns)-1] = elf.Dyn64{}
		f.nused--
	}
}

// setDyn sets the value of every entry in use with the tag.
func (f *oldFile) setDyn(tag elf.DynTag, val uint64) {
	for i := range f.dyns[:f.nused] {
		if elf.DynTag(f.dyns[i].Tag) == tag {
			f.dyns[i].Val = val
		}
	}
}

// encodeDynamic writes f.dyns at PT_DYNAMIC's file offset.
func (f *oldFile) encodeDynamic() {
	off := f.progs[f.dynProg].Off
	for i, d := range f.dyns {
		binary.Encode(f.data[off+uint64(i)*dynSize:], le, d)
	}
}

// relocate writes newTab (and, if moveDyn, the dynamic table) past the end
// of the last PT_LOAD segment, extending that segment over its .bss and the
// new data, and returns the new file. The non-loaded tail of the file (non
// allocated sections, section header table) moves past the new data.
func (f *oldFile) relocate(oldTabAddr uint64, newTab []byte, moveDyn bool) ([]byte, error) {
	// The last segment: highest address.
	last := -1
	for i, p := range f.progs {
		if elf.ProgType(p.Type) == elf.PT_LOAD && (last < 0 || p.Vaddr > f.progs[last].Vaddr) {
			last = i
		}
	}
	if last < 0 {
		return nil, errors.New("no PT_LOAD segment")
	}
	L := f.progs[last]
	tailStart := L.Off + L.Filesz
	// Nothing the loader reads may follow the last segment's file image.
	for i, p := range f.progs {
		if i != last && p.Filesz > 0 && p.Off+p.Filesz > tailStart {
			return nil, fmt.Errorf("segment %d (%v) lies in the file after the last PT_LOAD segment; this layout is not supported: %s",
				i, elf.ProgType(p.Type), relinkHint)
		}
	}
	for i, s := range f.sects {
		if elf.SectionFlag(s.Flags)&elf.SHF_ALLOC != 0 && elf.SectionType(s.Type) != elf.SHT_NOBITS &&
			s.Size > 0 && s.Off+s.Size > tailStart {
			return nil, fmt.Errorf("allocated section %d lies in the file after the last PT_LOAD segment; this layout is not supported: %s",
				i, relinkHint)
		}
	}
	if moveDyn && elf.ProgFlag(L.Flags)&elf.PF_W == 0 {
		return nil, fmt.Errorf("the dynamic section has no spare slot and the last PT_LOAD segment is not writable, so it cannot take a moved copy: %s", relinkHint)
	}
	if L.Memsz-L.Filesz > maxBSSGrowth {
		return nil, fmt.Errorf("the last segment's .bss is %d bytes, more than the %d this edit writes out as zeros: %s",
			L.Memsz-L.Filesz, maxBSSGrowth, relinkHint)
	}

	// The new data: .dynstr copy at V, then the .dynamic copy (8-aligned).
	V := alignUp(L.Vaddr+L.Memsz, 16)
	f.setDyn(elf.DT_STRTAB, V)
	f.setDyn(elf.DT_STRSZ, uint64(len(newTab)))
	newData := bytes.Clone(newTab)
	var dynAddr uint64
	if moveDyn {
		pad := alignUp(uint64(len(newData)), 8) - uint64(len(newData))
		newData = append(newData, make([]byte, pad)...)
		dynAddr = V + uint64(len(newData))
		for _, d := range f.dyns {
			newData, _ = binary.Append(newData, le, d)
		}
	}
	fo := L.Off + (V - L.Vaddr) // file offset of V
	newEnd := fo + uint64(len(newData))

	// The tail moves by a multiple of its strictest alignment.
	tailAlign := uint64(8)
	for _, s := range f.sects {
		if elf.SectionType(s.Type) != elf.SHT_NOBITS && s.Off >= tailStart && s.Addralign > tailAlign &&
			s.Addralign <= 1<<16 && s.Addralign&(s.Addralign-1) == 0 {
			tailAlign = s.Addralign
		}
	}
	shift := alignUp(newEnd-tailStart, tailAlign)

	out := make([]byte, 0, uint64(len(f.data))+shift)
	out = append(out, f.data[:tailStart]...)
	out = append(out, make([]byte, fo-tailStart)...) // .bss, written out
	out = append(out, newData...)
	out = append(out, make([]byte, tailStart+shift-newEnd)...)
	out = append(out, f.data[tailStart:]...)

	// Headers.
	L.Filesz = newEnd - L.Off
	L.Memsz = L.Filesz
	f.progs[last] = L
	if moveDyn {
		dp := &f.progs[f.dynProg]
		dp.Off, dp.Vaddr, dp.Paddr = fo+(dynAddr-V), dynAddr, dynAddr
		dp.Filesz = uint64(len(f.dyns)) * dynSize
		dp.Memsz = dp.Filesz
	}
	if f.hdr.Shoff >= tailStart {
		f.hdr.Shoff += shift
	}
	for i := range f.sects {
		s := &f.sects[i]
		switch {
		case elf.SectionType(s.Type) == elf.SHT_STRTAB && s.Flags&uint64(elf.SHF_ALLOC) != 0 && s.Addr == oldTabAddr:
			s.Addr, s.Off, s.Size = V, fo, uint64(len(newTab))
		case moveDyn && elf.SectionType(s.Type) == elf.SHT_DYNAMIC:
			dp := f.progs[f.dynProg]
			s.Addr, s.Off, s.Size = dp.Vaddr, dp.Off, dp.Filesz
		case elf.SectionType(s.Type) != elf.SHT_NOBITS && elf.SectionType(s.Type) != elf.SHT_NULL && s.Off >= tailStart:
			s.Off += shift
		}
	}
	f.data = out
	f.encodeHeaders()
	if !moveDyn {
		f.encodeDynamic()
	}
	return out, nil
}

// encodeHeaders writes the ELF header, program headers and section headers
// back into f.data.
func (f *oldFile) encodeHeaders() {
	binary.Encode(f.data, le, f.hdr)
	for i, p := range f.progs {
		binary.Encode(f.data[f.hdr.Phoff+uint64(i)*phdrSize:], le, p)
	}
	if f.hdr.Shoff != 0 {
		for i, s := range f.sects {
			binary.Encode(f.data[f.hdr.Shoff+uint64(i)*shdrSize:], le, s)
		}
	}
}
