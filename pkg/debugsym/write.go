package debugsym

import (
	"bufio"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
)

// plan is an output file described against its input: chunks in output
// order, each new bytes or a range of the input; the gaps between them
// (alignment padding) are zeros, up to size.
type plan struct {
	chunks []chunk
	size   uint64
}

// chunk is b at off in the output, or, when b is nil, the n input bytes
// at src.
type chunk struct {
	off    uint64
	b      []byte
	src, n uint64
}

func (c chunk) len() uint64 {
	if c.b != nil {
		return uint64(len(c.b))
	}
	return c.n
}

// outSect is a section of the output: its header (offset and name
// offset filled in by the layout), its name, and its contents: data when
// rebuilt, else the input's bytes at the header's original offset.
type outSect struct {
	hdr  elf.Section64
	name string
	src  uint64
	data []byte
}

func (s *outSect) hasBits() bool {
	t := elf.SectionType(s.hdr.Type)
	return t != elf.SHT_NOBITS && t != elf.SHT_NULL
}

// prefix copies the input's first end bytes with the patches (sorted, in
// range, not overlapping) in place of what they cover.
func prefix(end uint64, patches []chunk) []chunk {
	var cs []chunk
	var cur uint64
	for _, p := range patches {
		if p.off > cur {
			cs = append(cs, chunk{off: cur, src: cur, n: p.off - cur})
		}
		cs = append(cs, p)
		cur = p.off + p.len()
	}
	if end > cur {
		cs = append(cs, chunk{off: cur, src: cur, n: end - cur})
	}
	return cs
}

// layout places the non-allocated sections that have contents after
// start, in order, each at its alignment, then the section header table;
// allocated sections keep their offsets. It returns the output's chunks
// after the prefix and its size, and sets every header's sh_offset.
func layout(out []outSect, start uint64) ([]chunk, uint64) {
	var cs []chunk
	cur := start
	for i := range out {
		s := &out[i]
		if i == 0 || elf.SectionFlag(s.hdr.Flags)&elf.SHF_ALLOC != 0 {
			continue
		}
		if !s.hasBits() {
			s.hdr.Off = cur
			continue
		}
		cur = alignUp(cur, s.hdr.Addralign)
		s.hdr.Off = cur
		if s.data != nil {
			cs = append(cs, chunk{off: cur, b: s.data})
		} else if s.hdr.Size > 0 {
			cs = append(cs, chunk{off: cur, src: s.src, n: s.hdr.Size})
		}
		cur += s.hdr.Size
	}
	shoff := alignUp(cur, 8)
	tab := make([]byte, 0, len(out)*shdrSize)
	for i := range out {
		tab, _ = binary.Append(tab, le, &out[i].hdr)
	}
	cs = append(cs, chunk{off: shoff, b: tab})
	return cs, shoff + uint64(len(tab))
}

func alignUp(x, a uint64) uint64 {
	if a <= 1 {
		return x
	}
	return (x + a - 1) &^ (a - 1)
}

// header is the ELF header with the new section header table.
func (f *File) header(shoff uint64, shnum, shstrndx int) []byte {
	h := f.hdr
	h.Shoff = shoff
	h.Shnum = uint16(shnum)
	h.Shstrndx = uint16(shstrndx)
	b, _ := binary.Append(nil, le, &h)
	return b
}

// write writes the plan's output to w, copying the input's ranges
// through a fixed buffer: memory does not depend on section sizes.
func (f *File) write(w io.Writer, p *plan) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	var pos uint64
	for _, c := range p.chunks {
		if c.off < pos {
			return &Error{f.Path, fmt.Sprintf("internal error: output chunk at %#x overlaps the previous one (ends at %#x)", c.off, pos)}
		}
		if err := zeros(bw, c.off-pos); err != nil {
			return err
		}
		if c.b != nil {
			if _, err := bw.Write(c.b); err != nil {
				return err
			}
		} else {
			n, err := io.Copy(bw, io.NewSectionReader(f.r, int64(c.src), int64(c.n)))
			if err != nil {
				return &Error{f.Path, fmt.Sprintf("reading %d bytes at %#x: %v", c.n, c.src, err)}
			}
			if uint64(n) != c.n {
				return &Error{f.Path, "the file is shorter than when it was opened (it changed during the split); run again"}
			}
		}
		pos = c.off + c.len()
	}
	if pos > p.size {
		return &Error{f.Path, "internal error: output chunks past the output's size"}
	}
	if err := zeros(bw, p.size-pos); err != nil {
		return err
	}
	return bw.Flush()
}

var zeroBuf [4096]byte

func zeros(w io.Writer, n uint64) error {
	for n > 0 {
		k := min(n, uint64(len(zeroBuf)))
		if _, err := w.Write(zeroBuf[:k]); err != nil {
			return err
		}
		n -= k
	}
	return nil
}

// headEnd is where the part of the file that is copied unchanged ends:
// past the ELF header, the program header table, every segment's file
// image and every allocated section's contents.
func (f *File) headEnd() uint64 {
	end := uint64(ehdrSize)
	end = max(end, f.hdr.Phoff+uint64(len(f.progs))*phdrSize)
	for _, p := range f.progs {
		if elf.ProgType(p.Type) != elf.PT_NULL {
			end = max(end, p.Off+p.Filesz)
		}
	}
	for i := range f.sects {
		if s := &f.sects[i]; s.alloc() && s.hasBits() {
			end = max(end, s.Off+s.Size)
		}
	}
	return end
}

// strippedPlan is the input without its debug sections and symbols, with
// a new .gnu_debuglink (see the package comment).
func (f *File) strippedPlan(link string, crc uint32) (*plan, error) {
	removed := f.strippedSections()
	out, newIdx, linkIdx := f.keptWithLink(removed, link, crc)
	for i := range out {
		remapLinks(&out[i].hdr, newIdx)
	}
	if err := f.rebuildSymtab(out, newIdx, linkIdx); err != nil {
		return nil, err
	}
	shstrndx := int(newIdx[f.hdr.Shstrndx])
	if shstrndx == 0 {
		return nil, errors.New("the section name table is a debug section" + malformed)
	}
	out[shstrndx].data = nameTable(out)
	out[shstrndx].hdr.Size = uint64(len(out[shstrndx].data))
	end := f.headEnd()
	cs, size := layout(out, end)
	head := chunk{off: 0, b: f.header(size-uint64(len(out))*shdrSize, len(out), shstrndx)}
	return &plan{chunks: append(prefix(end, []chunk{head}), cs...), size: size}, nil
}

// strippedSections marks what strip --strip-debug removes: the debug
// sections, the relocations that apply to them, and the .gnu_debuglink
// this split replaces.
func (f *File) strippedSections() []bool {
	removed := make([]bool, len(f.sects))
	for i := range f.sects {
		s := &f.sects[i]
		removed[i] = i > 0 && (s.isDebug() || s.name == ".gnu_debuglink")
	}
	for i := range f.sects {
		s := &f.sects[i]
		switch elf.SectionType(s.Type) {
		case elf.SHT_REL, elf.SHT_RELA:
			if !s.alloc() && s.Info > 0 && int(s.Info) < len(f.sects) && removed[s.Info] {
				removed[i] = true
			}
		}
	}
	return removed
}

// keptWithLink lists the kept sections in order with the new
// .gnu_debuglink inserted where objcopy puts it: after the last section
// that is not a symbol or string table (BFD writes those last). newIdx
// maps an input index to its output index (0: removed).
func (f *File) keptWithLink(removed []bool, link string, crc uint32) (out []outSect, newIdx []uint32, linkIdx int) {
	var kept []int
	for i := range f.sects {
		if !removed[i] {
			kept = append(kept, i)
		}
	}
	pos := 1
	for k, i := range kept {
		s := &f.sects[i]
		t := elf.SectionType(s.Type)
		if i > 0 && !(t == elf.SHT_SYMTAB || (t == elf.SHT_STRTAB && !s.alloc())) {
			pos = k + 1
		}
	}
	data := debugLink(link, crc)
	newIdx = make([]uint32, len(f.sects))
	for k, i := range kept {
		if k == pos {
			out = append(out, outSect{
				hdr:  elf.Section64{Type: uint32(elf.SHT_PROGBITS), Size: uint64(len(data)), Addralign: 4},
				name: ".gnu_debuglink", data: data,
			})
		}
		newIdx[i] = uint32(len(out))
		s := &f.sects[i]
		out = append(out, outSect{hdr: s.Section64, name: s.name, src: s.Off})
	}
	if pos == len(kept) {
		out = append(out, outSect{
			hdr:  elf.Section64{Type: uint32(elf.SHT_PROGBITS), Size: uint64(len(data)), Addralign: 4},
			name: ".gnu_debuglink", data: data,
		})
	}
	return out, newIdx, pos
}

// debugLink is a .gnu_debuglink's contents: the file name, NUL-padded to
// a multiple of 4, then the CRC in the file's byte order.
func debugLink(name string, crc uint32) []byte {
	b := make([]byte, alignUp(uint64(len(name))+1, 4)+4)
	copy(b, name)
	le.PutUint32(b[len(b)-4:], crc)
	return b
}

// remapLinks moves sh_link, and sh_info where it names a section, to the
// output's indexes (0 when the section was removed).
func remapLinks(h *elf.Section64, newIdx []uint32) {
	if int(h.Link) < len(newIdx) && h.Link != 0 {
		h.Link = newIdx[h.Link]
	}
	t := elf.SectionType(h.Type)
	if t == elf.SHT_REL || t == elf.SHT_RELA || elf.SectionFlag(h.Flags)&elf.SHF_INFO_LINK != 0 {
		if int(h.Info) < len(newIdx) && h.Info != 0 {
			h.Info = newIdx[h.Info]
		}
	}
}

// nameTable rebuilds the section name table for out and sets every
// header's sh_name.
func nameTable(out []outSect) []byte {
	var t strtab
	for i := 1; i < len(out); i++ {
		t.add(out[i].name)
	}
	data, off := t.finish()
	for i := 1; i < len(out); i++ {
		out[i].hdr.Name = off[out[i].name]
	}
	return data
}

// debugPlan is the input as objcopy --only-keep-debug writes it (see the
// package comment).
func (f *File) debugPlan() (*plan, error) {
	end := uint64(ehdrSize)
	end = max(end, f.hdr.Phoff+uint64(len(f.progs))*phdrSize)
	for i := range f.sects {
		if s := &f.sects[i]; s.alloc() && elf.SectionType(s.Type) == elf.SHT_NOTE {
			end = max(end, s.Off+s.Size)
		}
	}
	out := make([]outSect, len(f.sects))
	for i := range f.sects {
		s := &f.sects[i]
		out[i] = outSect{hdr: s.Section64, name: s.name, src: s.Off}
		if s.alloc() && elf.SectionType(s.Type) != elf.SHT_NOTE {
			out[i].hdr.Type = uint32(elf.SHT_NOBITS)
			out[i].hdr.Off = min(s.Off, end)
		}
	}
	cs, size := layout(out, end)
	patches := []chunk{{off: 0, b: f.header(size-uint64(len(out))*shdrSize, len(out), int(f.hdr.Shstrndx))}}
	if len(f.progs) > 0 {
		patches = append(patches, chunk{off: f.hdr.Phoff, b: f.debugProgs(end)})
	}
	slices.SortFunc(patches, func(a, b chunk) int { return int(a.off) - int(b.off) })
	if len(patches) == 2 && patches[0].off+patches[0].len() > patches[1].off {
		return nil, errors.New("the program header table overlaps the ELF header" + malformed)
	}
	return &plan{chunks: append(prefix(end, patches), cs...), size: size}, nil
}

// debugProgs is the program header table with every segment's file size
// cut to the first end bytes, which is all the debug file holds of them.
func (f *File) debugProgs(end uint64) []byte {
	ps := slices.Clone(f.progs)
	for i := range ps {
		p := &ps[i]
		if p.Off >= end {
			p.Filesz = 0
		} else {
			p.Filesz = min(p.Filesz, end-p.Off)
		}
	}
	b, _ := binary.Append(nil, le, ps)
	return b
}
