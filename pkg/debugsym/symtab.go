package debugsym

import (
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// rebuildSymtab filters the output's .symtab as strip --strip-debug does
// (BFD marks STT_FILE symbols as debugging symbols, and drops the symbols
// of removed sections), moves st_shndx to the output's indexes, adds the
// section symbol objcopy gives the new .gnu_debuglink when the table has
// section symbols, and rebuilds the table's .strtab. A file without
// .symtab is left as it is.
func (f *File) rebuildSymtab(out []outSect, newIdx []uint32, linkIdx int) error {
	si := slices.IndexFunc(out, func(s outSect) bool { return elf.SectionType(s.hdr.Type) == elf.SHT_SYMTAB })
	if si < 0 {
		return nil
	}
	sym := &out[si]
	stri := int(sym.hdr.Link)
	if stri == 0 || stri == int(newIdx[f.hdr.Shstrndx]) || elf.SectionType(out[stri].hdr.Type) != elf.SHT_STRTAB {
		return errors.New("the symbol table's string table is missing, or is the section name table" + malformed)
	}
	str := &out[stri]
	if str.hdr.Size > maxSymtab {
		return fmt.Errorf("the symbol names take %d bytes, more than the %d this package reads%s", str.hdr.Size, maxSymtab, malformed)
	}
	raw, err := f.read(sym.src, sym.hdr.Size)
	if err != nil {
		return err
	}
	names, err := f.read(str.src, str.hdr.Size)
	if err != nil {
		return err
	}
	kept, locals, err := f.keptSymbols(raw, names, newIdx, sym.hdr.Info, linkIdx)
	if err != nil {
		return err
	}
	var t strtab
	for _, k := range kept {
		t.add(k.name)
	}
	strData, off := t.finish()
	symData := make([]byte, 0, len(kept)*symSize)
	for _, k := range kept {
		k.sym.Name = off[k.name]
		symData, _ = binary.Append(symData, le, &k.sym)
	}
	sym.data, sym.hdr.Size, sym.hdr.Info = symData, uint64(len(symData)), uint32(locals)
	str.data, str.hdr.Size = strData, uint64(len(strData))
	return nil
}

// keptSym is a symbol of the output with its name.
type keptSym struct {
	sym  elf.Sym64
	name string
}

// keptSymbols decodes the symbols and keeps those strip --strip-debug
// keeps; firstGlobal is the input's sh_info. It returns the kept symbols
// and how many of them are local.
func (f *File) keptSymbols(raw, names []byte, newIdx []uint32, firstGlobal uint32, linkIdx int) ([]keptSym, int, error) {
	n := len(raw) / symSize
	if int(firstGlobal) > n {
		return nil, 0, fmt.Errorf("the symbol table says its first global symbol is %d of %d%s", firstGlobal, n, malformed)
	}
	kept := make([]keptSym, 0, n)
	locals, lastSection := 0, -1
	for i := 0; i < n; i++ {
		var s elf.Sym64
		binary.Decode(raw[i*symSize:], le, &s)
		name, ok := cstring(names, uint64(s.Name))
		if !ok {
			return nil, 0, fmt.Errorf("symbol %d's name lies outside its string table%s", i, malformed)
		}
		typ := elf.ST_TYPE(s.Info)
		if i > 0 && typ == elf.STT_FILE {
			continue
		}
		if s.Shndx > 0 && s.Shndx < uint16(elf.SHN_LORESERVE) {
			if int(s.Shndx) >= len(newIdx) {
				return nil, 0, fmt.Errorf("symbol %d is in section %d, which does not exist%s", i, s.Shndx, malformed)
			}
			if newIdx[s.Shndx] == 0 {
				continue
			}
			s.Shndx = uint16(newIdx[s.Shndx])
		}
		if typ == elf.STT_SECTION && i < int(firstGlobal) {
			lastSection = len(kept)
		}
		kept = append(kept, keptSym{s, name})
		if i < int(firstGlobal) {
			locals++
		}
	}
	if lastSection >= 0 {
		s := keptSym{sym: elf.Sym64{Info: elf.ST_INFO(elf.STB_LOCAL, elf.STT_SECTION), Shndx: uint16(linkIdx)}}
		kept = slices.Insert(kept, lastSection+1, s)
		locals++
	}
	return kept, locals, nil
}

// strtab builds an ELF string table the way BFD's elf-strtab.c does:
// each string once, and a string that ends another shares its bytes
// (".plt" inside ".rela.plt"), so the size is strip's.
type strtab struct {
	order []string
	seen  map[string]bool
}

func (t *strtab) add(s string) {
	if s == "" {
		return
	}
	if t.seen == nil {
		t.seen = map[string]bool{}
	}
	if !t.seen[s] {
		t.seen[s] = true
		t.order = append(t.order, s)
	}
}

// finish lays the table out: the strings no other string ends with, in
// the order they were added, after the leading NUL; the others point
// into the longest one they end.
func (t *strtab) finish() ([]byte, map[string]uint32) {
	rev := make([]string, len(t.order))
	for i, s := range t.order {
		rev[i] = reverse(s)
	}
	sorted := slices.Clone(rev)
	slices.Sort(sorted)
	// In reversed order, every string a string ends with is a prefix, and
	// the strings it prefixes follow it directly: its host is the host of
	// the next one when that one starts with it.
	host := make(map[string]string, len(sorted))
	for i := len(sorted) - 1; i >= 0; i-- {
		r := sorted[i]
		host[r] = r
		if i+1 < len(sorted) && strings.HasPrefix(sorted[i+1], r) {
			host[r] = host[sorted[i+1]]
		}
	}
	data := []byte{0}
	at := map[string]uint32{}
	for _, r := range rev {
		if host[r] == r {
			at[r] = uint32(len(data))
			data = append(data, reverse(r)...)
			data = append(data, 0)
		}
	}
	off := map[string]uint32{"": 0}
	for i, r := range rev {
		h := host[r]
		off[t.order[i]] = at[h] + uint32(len(h)-len(r))
	}
	return data, off
}

func reverse(s string) string {
	b := []byte(s)
	slices.Reverse(b)
	return string(b)
}
