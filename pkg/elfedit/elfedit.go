// Package elfedit writes a DT_RUNPATH into an ELF file, in Go, without
// patchelf at run time.
//
// It handles ELF64 little-endian executables (ET_EXEC and PIE ET_DYN) and
// shared libraries for x86_64 and aarch64, as GNU ld links them. There are
// two ways to do the edit, tried in this order:
//
//  1. In place. The file already has a DT_RUNPATH or DT_RPATH entry whose
//     string is at least as long as the new one, and no other reference into
//     .dynstr (dynamic entry, dynamic symbol name, version need or
//     definition) points into those bytes (linkers may share string
//     suffixes). The new string overwrites the old one (padded with NULs)
//     and the entry's tag becomes DT_RUNPATH. The file keeps its size.
//
//  2. Relocation. A copy of .dynstr with the new string appended is written
//     past the end of the last PT_LOAD segment, and DT_STRTAB/DT_STRSZ (and
//     the .dynstr section header) point to it. If the file has no
//     RUNPATH/RPATH entry, one is added: in one of the spare DT_NULL slots
//     GNU ld leaves at the end of .dynamic when there is one (no move), else
//     .dynamic itself is copied, one entry longer, next to the new .dynstr
//     and PT_DYNAMIC (and the .dynamic section header) point to the copy.
//
// Where the new bytes go. patchelf appends a new PT_LOAD segment, which
// needs one more program header: the table cannot grow in place (GNU ld puts
// .interp right after it) and moving it breaks Linux kernels before 5.18
// (RHEL 8 runs 4.18), which compute AT_PHDR as first-segment base + e_phoff.
// Instead, this package extends the last PT_LOAD segment (the one with the
// highest address; the RW data segment in GNU ld outputs) so that its file
// image covers its .bss (written out as zero bytes, which is what the loader
// would have put there) followed by the new data. The program header table
// keeps its place and its length, so PIE and non-PIE executables and shared
// libraries are edited the same way, on any kernel. The new data is mapped
// with the segment's permissions (RW), which the moved .dynamic needs
// (ld.so writes DT_DEBUG and, on these targets, relocates .dynamic in
// place). Non-allocated sections and the section header table that followed
// the segment in the file move down past the new data; no loader reads them.
// The cost is the size of .bss in the file (refused above maxBSSGrowth).
//
// The old .dynstr (and, if moved, .dynamic) bytes stay where they were,
// unreferenced by the loader. PT_GNU_RELRO is unchanged: the new data lies
// above it. The result is checked before it is made visible: it is parsed
// again both the way the loader sees it (program headers) and with
// debug/elf (section headers), and any difference in DT_NEEDED, DT_SONAME or
// dynamic symbol names, a RUNPATH that does not read back, or a PT_LOAD out
// of bounds, unsorted or overlapping fails the call.
//
// Memory. The file is never held in memory, whatever its size (server
// binaries with debug info reach hundreds of MB, and a release build edits
// several at once). The edit reads only what it changes or must check —
// the ELF, program and section headers, PT_DYNAMIC, .dynstr, the dynamic
// symbols' name fields and the version tables — through an io.ReaderAt,
// and produces a plan: ranges of the source copied file to file
// (copy_file_range, no user-space buffer of the file), zeros (the written
// out .bss and alignment padding: holes of the temporary file) and small
// patches (headers, dynamic entries, the new .dynstr and .dynamic). The
// check above reads the written temporary file back the same way, before
// it is synced and renamed into place.
//
// Refused, with an error naming the file: ELF32 and big-endian files, other
// machines, static binaries (no PT_DYNAMIC), files whose last segment is
// followed by loaded data, and the relocation case when the .dynamic copy
// would land in a read-only segment. The message names the link flag that
// reserves the entry instead.
package elfedit

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Error is the error every function of this package returns: Path names the
// file (source or destination), Msg says what is wrong.
type Error struct {
	Path string
	Msg  string
}

func (e *Error) Error() string { return "elfedit: " + e.Path + ": " + e.Msg }

// relinkHint is appended to refusals that relinking would avoid: the flag
// makes the linker reserve a RUNPATH entry and string in the file.
const relinkHint = `relink with -Wl,-rpath,'$ORIGIN/../lib'`

// maxBSSGrowth bounds how much .bss the relocation may write out as zeros.
const maxBSSGrowth = 64 << 20

// options changes how the edit is made; tests use it to reach the paths
// that the committed fixtures do not take on their own.
type options struct {
	// noInPlace skips case 1 (rewriting the old string in place).
	noInPlace bool
	// moveDynamic copies .dynamic to the new data even when it has a spare slot.
	moveDynamic bool
}

// SetRunpath copies the ELF file at src to dst with its DT_RUNPATH set to runpath
// (e.g. "$ORIGIN/../lib"). src is never modified. dst is written atomically
// (temp file in dst's folder + rename). Any DT_RPATH is replaced by the DT_RUNPATH
// (RPATH would also apply to the whole dependency tree and win over LD_LIBRARY_PATH).
// Its memory use is bounded by the structures it edits, not by the file's size.
func SetRunpath(src, dst, runpath string) error {
	return setRunpath(src, dst, runpath, options{})
}

func setRunpath(src, dst, runpath string, opt options) error {
	if runpath == "" || strings.IndexByte(runpath, 0) >= 0 {
		return &Error{src, fmt.Sprintf("invalid runpath %q: want a non-empty string without NUL bytes", runpath)}
	}
	st, err := os.Stat(src)
	if err != nil {
		return &Error{src, err.Error()}
	}
	if !st.Mode().IsRegular() {
		return &Error{src, "not a regular file"}
	}
	if dst == "" {
		return &Error{src, "empty destination path"}
	}
	if dt, err := os.Stat(dst); err == nil && os.SameFile(st, dt) {
		return &Error{dst, "destination is the source file: SetRunpath never modifies its source; write to another path"}
	}
	in, err := os.Open(src)
	if err != nil {
		return &Error{src, err.Error()}
	}
	defer in.Close()
	// The size and identity of what was opened, not of what was stat'ed
	// (the path may have been replaced in between).
	ist, err := in.Stat()
	if err != nil {
		return &Error{src, err.Error()}
	}
	if !os.SameFile(st, ist) {
		return &Error{src, "the file was replaced while being opened; run again"}
	}
	size := ist.Size()
	f, err := parse(in, size)
	if err != nil {
		return &Error{src, err.Error()}
	}
	p, err := f.edit(runpath, opt)
	if err != nil {
		return &Error{src, err.Error()}
	}
	err = writeAtomic(dst, st.Mode().Perm(), func(out *os.File) error {
		if err := p.write(out, in); err != nil {
			return &Error{dst, err.Error()}
		}
		if err := verify(in, size, out, int64(p.size), runpath); err != nil {
			return &Error{src, "internal error, the edited file does not check out (nothing written): " + err.Error()}
		}
		return nil
	})
	if e := (*Error)(nil); errors.As(err, &e) {
		return e
	}
	if err != nil {
		return &Error{dst, err.Error()}
	}
	return nil
}

// writeAtomic creates a temporary file in path's folder, has fill write
// (and check) it, then syncs it and renames it to path; on failure nothing
// is left behind.
func writeAtomic(path string, perm fs.FileMode, fill func(*os.File) error) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err = fill(f); err != nil {
		return err
	}
	if err = f.Chmod(perm); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// plan is the edited file, described against its source: size bytes made of
// ranges of the source (copies), then patches written over them in order.
// Bytes that neither covers are zero (the written-out .bss and alignment
// padding).
type plan struct {
	size    uint64
	copies  []span
	patches []patch
}

// span is n bytes of the source at src, copied to dst in the output.
type span struct{ dst, src, n uint64 }

// patch is new bytes b at off in the output.
type patch struct {
	off uint64
	b   []byte
}

// write writes the plan's output into out (a new, empty file) from in. The
// copies go file to file (io.Copy from a *os.File to a *os.File is
// copy_file_range or sendfile on Linux) and the zeros are holes left by
// Truncate, so no buffer the size of the file is ever made.
func (p *plan) write(out, in *os.File) error {
	if err := out.Truncate(int64(p.size)); err != nil {
		return err
	}
	for _, c := range p.copies {
		if c.dst > p.size || c.n > p.size-c.dst {
			return fmt.Errorf("internal error: copy of %d bytes to %#x past the end of the output (%d bytes)", c.n, c.dst, p.size)
		}
		if _, err := in.Seek(int64(c.src), io.SeekStart); err != nil {
			return err
		}
		if _, err := out.Seek(int64(c.dst), io.SeekStart); err != nil {
			return err
		}
		// io.LimitReader of the *os.File itself: os.File.ReadFrom unwraps
		// it for copy_file_range (an io.SectionReader would not be).
		n, err := io.Copy(out, io.LimitReader(in, int64(c.n)))
		if err != nil {
			return fmt.Errorf("copying from %s: %v", in.Name(), err)
		}
		if uint64(n) != c.n {
			return fmt.Errorf("%s is shorter than when it was read (it changed during the edit); run again", in.Name())
		}
	}
	for _, pt := range p.patches {
		if pt.off > p.size || uint64(len(pt.b)) > p.size-pt.off {
			return fmt.Errorf("internal error: patch of %d bytes at %#x past the end of the output (%d bytes)", len(pt.b), pt.off, p.size)
		}
		if _, err := out.WriteAt(pt.b, int64(pt.off)); err != nil {
			return err
		}
	}
	return nil
}

// Sizes of the ELF64 structures this package reads and writes.
const (
	ehdrSize = 64
	phdrSize = 56
	shdrSize = 64
	dynSize  = 16
)

// file is a parsed ELF64 little-endian file: a reader of its bytes, its size
// and the headers, decoded. Edits change the decoded headers; the plan
// writes them back.
type file struct {
	r     io.ReaderAt
	size  uint64
	hdr   elf.Header64
	progs []elf.Prog64
	sects []elf.Section64 // empty when the file has no section headers

	dynProg int         // index in progs of PT_DYNAMIC
	dyns    []elf.Dyn64 // every slot of PT_DYNAMIC's file image, trailing DT_NULLs included
	nused   int         // index of the first DT_NULL: the entries in use
}

var le = binary.LittleEndian

// inFile reports whether [off, off+size) lies inside the file.
func (f *file) inFile(off, size uint64) bool {
	return off <= f.size && size <= f.size-off
}

// read returns the n bytes at off. Callers check first that they lie in the
// file (with their own message); read refuses them otherwise, so that no
// header value can make it allocate more than the file holds.
func (f *file) read(off, n uint64) ([]byte, error) {
	if !f.inFile(off, n) {
		return nil, fmt.Errorf("truncated file: %d bytes at offset %#x lie past its end", n, off)
	}
	b := make([]byte, n)
	if k, err := f.r.ReadAt(b, int64(off)); k < len(b) {
		return nil, fmt.Errorf("reading %d bytes at offset %#x: %v", n, off, err)
	}
	return b, nil
}

// parse decodes the headers and the dynamic table of the size bytes r reads
// and checks that they lie inside the file. Its errors are messages for an
// *Error.
func parse(r io.ReaderAt, size int64) (*file, error) {
	f := &file{r: r, size: uint64(size)}
	for _, step := range []func() error{
		f.readHeader,  // ELF64 little-endian, x86_64 or aarch64, executable or library
		f.readProgs,   // the program header table
		f.readSects,   // the section header table, when there is one
		f.checkLoads,  // every PT_LOAD's file image inside the file
		f.readDynamic, // PT_DYNAMIC's entries, up to and past DT_NULL
	} {
		if err := step(); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// readHeader reads the ELF header and refuses what this package does not
// edit.
func (f *file) readHeader() error {
	size := int64(f.size)
	var ident [ehdrSize]byte
	if k, err := f.r.ReadAt(ident[:min(size, ehdrSize)], 0); int64(k) < min(size, ehdrSize) {
		return fmt.Errorf("reading the ELF header: %v", err)
	}
	if size < elf.EI_NIDENT || !bytes.Equal(ident[:4], []byte(elf.ELFMAG)) {
		return errors.New("not an ELF file")
	}
	if c := elf.Class(ident[elf.EI_CLASS]); c != elf.ELFCLASS64 {
		return fmt.Errorf("%v file: only ELF64 little-endian (x86_64, aarch64) is supported", c)
	}
	if d := elf.Data(ident[elf.EI_DATA]); d != elf.ELFDATA2LSB {
		return fmt.Errorf("%v file: only ELF64 little-endian (x86_64, aarch64) is supported", d)
	}
	if size < ehdrSize {
		return errors.New("truncated ELF header")
	}
	if _, err := binary.Decode(ident[:], le, &f.hdr); err != nil {
		return fmt.Errorf("reading the ELF header: %v", err)
	}
	h := &f.hdr
	if elf.Version(h.Version) != elf.EV_CURRENT {
		return fmt.Errorf("unknown ELF version %d", h.Version)
	}
	switch m := elf.Machine(h.Machine); m {
	case elf.EM_X86_64, elf.EM_AARCH64:
	default:
		return fmt.Errorf("machine %v: only x86_64 and aarch64 are supported", m)
	}
	switch t := elf.Type(h.Type); t {
	case elf.ET_EXEC, elf.ET_DYN:
	default:
		return fmt.Errorf("ELF type %v: only executables and shared libraries have a RUNPATH", t)
	}
	return nil
}

// readProgs reads the program header table.
func (f *file) readProgs() error {
	h := &f.hdr
	if h.Phnum == 0 {
		return errors.New("no program headers: not a dynamically linked executable or library")
	}
	if h.Phentsize != phdrSize {
		return fmt.Errorf("program header entry size %d, want %d", h.Phentsize, phdrSize)
	}
	if !f.inFile(h.Phoff, uint64(h.Phnum)*phdrSize) {
		return errors.New("truncated file: the program header table lies past its end")
	}
	b, err := f.read(h.Phoff, uint64(h.Phnum)*phdrSize)
	if err != nil {
		return err
	}
	f.progs = make([]elf.Prog64, h.Phnum)
	binary.Decode(b, le, f.progs)
	return nil
}

// readSects reads the section header table. It is optional: the loader
// never reads it.
func (f *file) readSects() error {
	h := &f.hdr
	if h.Shoff == 0 {
		return nil
	}
	if h.Shentsize != shdrSize {
		return fmt.Errorf("section header entry size %d, want %d", h.Shentsize, shdrSize)
	}
	n := uint64(h.Shnum)
	if n == 0 { // extended numbering: the count is in section 0's sh_size
		if !f.inFile(h.Shoff, shdrSize) {
			return errors.New("truncated file: the section header table lies past its end")
		}
		b, err := f.read(h.Shoff+32, 8)
		if err != nil {
			return err
		}
		n = le.Uint64(b)
	}
	if n > f.size/shdrSize || !f.inFile(h.Shoff, n*shdrSize) {
		return errors.New("truncated file: the section header table lies past its end")
	}
	b, err := f.read(h.Shoff, n*shdrSize)
	if err != nil {
		return err
	}
	f.sects = make([]elf.Section64, n)
	binary.Decode(b, le, f.sects)
	return nil
}

// checkLoads checks that every PT_LOAD segment's file image lies in the
// file and is no larger than its memory image.
func (f *file) checkLoads() error {
	for i, p := range f.progs {
		if elf.ProgType(p.Type) == elf.PT_LOAD {
			if !f.inFile(p.Off, p.Filesz) {
				return fmt.Errorf("truncated file: segment %d (PT_LOAD) lies past its end", i)
			}
			if p.Filesz > p.Memsz {
				return fmt.Errorf("segment %d (PT_LOAD) has p_filesz > p_memsz", i)
			}
		}
	}
	return nil
}

// readDynamic reads the dynamic table as the loader finds it: through
// PT_DYNAMIC, which must lie in a PT_LOAD segment's file image and hold a
// DT_NULL.
func (f *file) readDynamic() error {
	f.dynProg = -1
	for i, p := range f.progs {
		if elf.ProgType(p.Type) == elf.PT_DYNAMIC {
			f.dynProg = i
			break
		}
	}
	if f.dynProg < 0 {
		return errors.New("statically linked (no PT_DYNAMIC segment): it loads no shared libraries, so a RUNPATH would do nothing")
	}
	dp := f.progs[f.dynProg]
	if !f.inFile(dp.Off, dp.Filesz) {
		return errors.New("truncated file: the dynamic section lies past its end")
	}
	if off, ok := f.offsetOf(dp.Vaddr, dp.Filesz); !ok || off != dp.Off {
		return errors.New("PT_DYNAMIC is not inside a PT_LOAD segment's file image")
	}
	n := dp.Filesz / dynSize
	b, err := f.read(dp.Off, n*dynSize)
	if err != nil {
		return err
	}
	f.dyns = make([]elf.Dyn64, n)
	binary.Decode(b, le, f.dyns)
	f.nused = -1
	for i := range f.dyns {
		if elf.DynTag(f.dyns[i].Tag) == elf.DT_NULL {
			f.nused = i
			break
		}
	}
	if f.nused < 0 {
		return errors.New("the dynamic section has no DT_NULL terminator")
	}
	return nil
}

// offsetOf maps [vaddr, vaddr+size) to its file offset through the PT_LOAD
// segment whose file image holds it.
func (f *file) offsetOf(vaddr, size uint64) (uint64, bool) {
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
func (f *file) dynVal(tag elf.DynTag) (uint64, bool) {
	for _, d := range f.dyns[:f.nused] {
		if elf.DynTag(d.Tag) == tag {
			return d.Val, true
		}
	}
	return 0, false
}

// strtab reads the dynamic string table (DT_STRTAB, DT_STRSZ) and returns
// it with its address and its file offset.
func (f *file) strtab() (tab []byte, addr, off uint64, err error) {
	addr, ok1 := f.dynVal(elf.DT_STRTAB)
	size, ok2 := f.dynVal(elf.DT_STRSZ)
	if !ok1 || !ok2 {
		return nil, 0, 0, errors.New("the dynamic section has no DT_STRTAB or DT_STRSZ")
	}
	off, ok := f.offsetOf(addr, size)
	if !ok {
		return nil, 0, 0, errors.New("DT_STRTAB is not inside a PT_LOAD segment's file image")
	}
	if tab, err = f.read(off, size); err != nil {
		return nil, 0, 0, err
	}
	return tab, addr, off, nil
}

// cstring returns the NUL-terminated string at off in tab.
func cstring(tab []byte, off uint64) (string, bool) {
	if off >= uint64(len(tab)) {
		return "", false
	}
	n := bytes.IndexByte(tab[off:], 0)
	if n < 0 {
		return "", false
	}
	return string(tab[off : off+uint64(n)]), true
}

// isStringTag reports whether a dynamic tag's value is an offset in DT_STRTAB.
func isStringTag(t elf.DynTag) bool {
	switch t {
	case elf.DT_NEEDED, elf.DT_SONAME, elf.DT_RPATH, elf.DT_RUNPATH,
		elf.DT_AUXILIARY, elf.DT_FILTER, elf.DT_CONFIG, elf.DT_DEPAUDIT, elf.DT_AUDIT:
		return true
	}
	return false
}

// isPathTag reports whether t is DT_RPATH or DT_RUNPATH.
func isPathTag(t elf.DynTag) bool { return t == elf.DT_RPATH || t == elf.DT_RUNPATH }

// symChunk is how many dynamic symbols strRefs reads at a time: their name
// fields are all it needs, and .dynsym can be large.
const symChunk = 4096

// strRefs lists every offset into the dynamic string table that the file
// uses, other than the DT_RPATH/DT_RUNPATH entries: string-valued dynamic
// entries, dynamic symbol names, version needs and version definitions. ok
// is false when they cannot all be found (no section headers to count the
// dynamic symbols, or tables outside the file); the caller must then assume
// the worst. err is a read error.
func (f *file) strRefs() (refs []uint64, ok bool, err error) {
	for _, d := range f.dyns[:f.nused] {
		t := elf.DynTag(d.Tag)
		if isStringTag(t) && !isPathTag(t) {
			refs = append(refs, d.Val)
		}
	}
	if refs, ok, err = f.symbolNameRefs(refs); !ok {
		return nil, false, err
	}
	for _, t := range versionTables {
		if refs, ok, err = f.versionNameRefs(t, refs); !ok {
			return nil, false, err
		}
	}
	return refs, true, nil
}

// symbolNameRefs appends the name of every dynamic symbol to refs. The
// count comes from the section header.
func (f *file) symbolNameRefs(refs []uint64) ([]uint64, bool, error) {
	symtab, hasSym := f.dynVal(elf.DT_SYMTAB)
	if !hasSym {
		return refs, true, nil
	}
	var ds *elf.Section64
	for i := range f.sects {
		if elf.SectionType(f.sects[i].Type) == elf.SHT_DYNSYM && f.sects[i].Addr == symtab {
			ds = &f.sects[i]
		}
	}
	if ds == nil {
		return nil, false, nil
	}
	off, ok := f.offsetOf(ds.Addr, ds.Size)
	if !ok {
		return nil, false, nil
	}
	end := off + ds.Size/24*24 // whole symbols only
	for p := off; p < end; {
		n := min(end-p, symChunk*24)
		b, err := f.read(p, n)
		if err != nil {
			return nil, false, err
		}
		for i := 0; i < len(b); i += 24 {
			refs = append(refs, uint64(le.Uint32(b[i:])))
		}
		p += n
	}
	return refs, true, nil
}

// at reads n bytes at p, or reports that they lie outside the file.
func (f *file) at(p, n uint64) (b []byte, in bool, err error) {
	if !f.inFile(p, n) {
		return nil, false, nil
	}
	b, err = f.read(p, n)
	return b, err == nil, err
}

// versionTable says where the fields strRefs reads lie in a version table
// (DT_VERNEED or DT_VERDEF): a chain of entries, each with a chain of
// auxiliary entries that name versions. Offsets are in bytes; counts are
// u16, names and links u32.
type versionTable struct {
	tag, numTag elf.DynTag // the table's address and its number of entries
	size        uint64     // of an entry
	cnt         uint64     // the entry's count of auxiliary entries
	aux         uint64     // the first auxiliary entry, from the entry
	next        uint64     // the next entry, from this one
	name        int        // the entry's own name, or -1
	auxSize     uint64     // of an auxiliary entry
	auxName     uint64     // the auxiliary entry's name
	auxNext     uint64     // the next auxiliary entry, from this one
}

// versionTables are the version needs, Verneed{vn_version, vn_cnt u16;
// vn_file, vn_aux, vn_next u32} and Vernaux{vna_hash u32; vna_flags,
// vna_other u16; vna_name, vna_next u32}, then the version definitions,
// Verdef{vd_version, vd_flags, vd_ndx, vd_cnt u16; vd_hash, vd_aux, vd_next
// u32} and Verdaux{vda_name, vda_next u32}.
var versionTables = []versionTable{
	{tag: elf.DT_VERNEED, numTag: elf.DT_VERNEEDNUM, size: 16, cnt: 2, aux: 8, next: 12, name: 4, auxSize: 16, auxName: 8, auxNext: 12},
	{tag: elf.DT_VERDEF, numTag: elf.DT_VERDEFNUM, size: 20, cnt: 6, aux: 12, next: 16, name: -1, auxSize: 8, auxName: 0, auxNext: 4},
}

// versionNameRefs appends the names a version table uses to refs.
func (f *file) versionNameRefs(t versionTable, refs []uint64) ([]uint64, bool, error) {
	addr, has := f.dynVal(t.tag)
	if !has {
		return refs, true, nil
	}
	num, _ := f.dynVal(t.numTag)
	p, ok := f.offsetOf(addr, t.size)
	for i := uint64(0); i < num; i++ {
		if !ok {
			return nil, false, nil
		}
		e, in, err := f.at(p, t.size)
		if !in {
			return nil, false, err
		}
		if t.name >= 0 {
			refs = append(refs, uint64(le.Uint32(e[t.name:])))
		}
		cnt := uint64(le.Uint16(e[t.cnt:]))
		a := p + uint64(le.Uint32(e[t.aux:]))
		for j := uint64(0); j < cnt; j++ {
			x, in, err := f.at(a, t.auxSize)
			if !in {
				return nil, false, err
			}
			refs = append(refs, uint64(le.Uint32(x[t.auxName:])))
			a += uint64(le.Uint32(x[t.auxNext:]))
		}
		p += uint64(le.Uint32(e[t.next:]))
	}
	return refs, true, nil
}

// edit plans the file with its DT_RUNPATH set to runpath. Its errors are
// messages for an *Error.
func (f *file) edit(runpath string, opt options) (*plan, error) {
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
		fits := len(runpath) <= len(s)
		if fits {
			if fits, err = f.unshared(tab, old, uint64(len(s))); err != nil {
				return nil, err
			}
		}
		if fits {
			str := make([]byte, len(s)) // the new string, NUL padded
			copy(str, runpath)
			f.setPathEntries(paths, old)
			return &plan{
				size:    f.size,
				copies:  []span{{0, 0, f.size}},
				patches: []patch{{tabOff + old, str}, f.dynamicPatch()},
			}, nil
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
func (f *file) unshared(tab []byte, off, n uint64) (bool, error) {
	refs, ok, err := f.strRefs()
	if !ok {
		return false, err
	}
	for _, r := range refs {
		s, ok := cstring(tab, r)
		if !ok {
			continue // out of range: cannot point into our bytes
		}
		if r <= off+n && r+uint64(len(s)) >= off {
			return false, nil
		}
	}
	return true, nil
}

// setPathEntries makes the first entry of paths DT_RUNPATH with value val
// and drops the others, keeping the table's length (DT_NULL padded).
func (f *file) setPathEntries(paths []int, val uint64) {
	f.dyns[paths[0]] = elf.Dyn64{Tag: int64(elf.DT_RUNPATH), Val: val}
	for k := len(paths) - 1; k >= 1; k-- {
		i := paths[k]
		copy(f.dyns[i:], f.dyns[i+1:])
		f.dyns[len(f.dyns)-1] = elf.Dyn64{}
		f.nused--
	}
}

// setDyn sets the value of every entry in use with the tag.
func (f *file) setDyn(tag elf.DynTag, val uint64) {
	for i := range f.dyns[:f.nused] {
		if elf.DynTag(f.dyns[i].Tag) == tag {
			f.dyns[i].Val = val
		}
	}
}

// dynamicPatch is f.dyns written at PT_DYNAMIC's file offset.
func (f *file) dynamicPatch() patch {
	b, _ := binary.Append(nil, le, f.dyns)
	return patch{f.progs[f.dynProg].Off, b}
}

// relocate plans newTab (and, if moveDyn, the dynamic table) past the end
// of the last PT_LOAD segment, extending that segment over its .bss and the
// new data. The non-loaded tail of the file (non allocated sections,
// section header table) moves past the new data.
func (f *file) relocate(oldTabAddr uint64, newTab []byte, moveDyn bool) (*plan, error) {
	last, err := f.lastLoad()
	if err != nil {
		return nil, err
	}
	L := f.progs[last]
	tailStart := L.Off + L.Filesz
	if err := f.canExtend(last, moveDyn); err != nil {
		return nil, err
	}

	// The new data: .dynstr copy at V, then the .dynamic copy (8-aligned).
	V := alignUp(L.Vaddr+L.Memsz, 16)
	f.setDyn(elf.DT_STRTAB, V)
	f.setDyn(elf.DT_STRSZ, uint64(len(newTab)))
	newData := newTab
	var dynAddr uint64
	if moveDyn {
		pad := alignUp(uint64(len(newData)), 8) - uint64(len(newData))
		newData = append(newData, make([]byte, pad)...)
		dynAddr = V + uint64(len(newData))
		newData, _ = binary.Append(newData, le, f.dyns)
	}
	fo := L.Off + (V - L.Vaddr) // file offset of V
	newEnd := fo + uint64(len(newData))
	shift := alignUp(newEnd-tailStart, f.tailAlign(tailStart))

	// The output: the file up to the end of the last segment's image, .bss
	// written out (zeros), the new data, zeros up to the shifted tail, the
	// tail.
	p := &plan{
		size: f.size + shift,
		copies: []span{
			{0, 0, tailStart},
			{tailStart + shift, tailStart, f.size - tailStart},
		},
		patches: []patch{{fo, newData}},
	}

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
	f.moveSections(tailStart, shift, oldTabAddr, V, fo, uint64(len(newTab)), moveDyn)
	p.patches = append(p.patches, f.headerPatches()...)
	if !moveDyn {
		p.patches = append(p.patches, f.dynamicPatch())
	}
	return p, nil
}

// lastLoad returns the index of the last PT_LOAD segment: the one with the
// highest address.
func (f *file) lastLoad() (int, error) {
	last := -1
	for i, p := range f.progs {
		if elf.ProgType(p.Type) == elf.PT_LOAD && (last < 0 || p.Vaddr > f.progs[last].Vaddr) {
			last = i
		}
	}
	if last < 0 {
		return 0, errors.New("no PT_LOAD segment")
	}
	return last, nil
}

// canExtend checks that the last segment (progs[last]) can grow over its
// .bss and the new data: nothing the loader reads follows its file image,
// it is writable if it is to take the moved .dynamic, and its .bss is small
// enough to write out.
func (f *file) canExtend(last int, moveDyn bool) error {
	L := f.progs[last]
	tailStart := L.Off + L.Filesz
	for i, p := range f.progs {
		if i != last && p.Filesz > 0 && p.Off+p.Filesz > tailStart {
			return fmt.Errorf("segment %d (%v) lies in the file after the last PT_LOAD segment; this layout is not supported: %s",
				i, elf.ProgType(p.Type), relinkHint)
		}
	}
	for i, s := range f.sects {
		if elf.SectionFlag(s.Flags)&elf.SHF_ALLOC != 0 && elf.SectionType(s.Type) != elf.SHT_NOBITS &&
			s.Size > 0 && s.Off+s.Size > tailStart {
			return fmt.Errorf("allocated section %d lies in the file after the last PT_LOAD segment; this layout is not supported: %s",
				i, relinkHint)
		}
	}
	if moveDyn && elf.ProgFlag(L.Flags)&elf.PF_W == 0 {
		return fmt.Errorf("the dynamic section has no spare slot and the last PT_LOAD segment is not writable, so it cannot take a moved copy: %s", relinkHint)
	}
	if L.Memsz-L.Filesz > maxBSSGrowth {
		return fmt.Errorf("the last segment's .bss is %d bytes, more than the %d this edit writes out as zeros: %s",
			L.Memsz-L.Filesz, maxBSSGrowth, relinkHint)
	}
	return nil
}

// tailAlign is the strictest alignment of the sections in the tail that
// starts at tailStart (at least 8): the tail moves by a multiple of it.
func (f *file) tailAlign(tailStart uint64) uint64 {
	align := uint64(8)
	for _, s := range f.sects {
		if elf.SectionType(s.Type) != elf.SHT_NOBITS && s.Off >= tailStart && s.Addralign > align &&
			s.Addralign <= 1<<16 && s.Addralign&(s.Addralign-1) == 0 {
			align = s.Addralign
		}
	}
	return align
}

// moveSections updates the section headers (and e_shoff) for the relocated
// file: .dynstr now at tabAddr (file offset tabOff, tabSize bytes), .dynamic
// where PT_DYNAMIC now is if it moved, and the tail from tailStart on
// shift bytes further.
func (f *file) moveSections(tailStart, shift, oldTabAddr, tabAddr, tabOff, tabSize uint64, moveDyn bool) {
	if f.hdr.Shoff >= tailStart {
		f.hdr.Shoff += shift
	}
	for i := range f.sects {
		s := &f.sects[i]
		switch {
		case elf.SectionType(s.Type) == elf.SHT_STRTAB && s.Flags&uint64(elf.SHF_ALLOC) != 0 && s.Addr == oldTabAddr:
			s.Addr, s.Off, s.Size = tabAddr, tabOff, tabSize
		case moveDyn && elf.SectionType(s.Type) == elf.SHT_DYNAMIC:
			dp := f.progs[f.dynProg]
			s.Addr, s.Off, s.Size = dp.Vaddr, dp.Off, dp.Filesz
		case elf.SectionType(s.Type) != elf.SHT_NOBITS && elf.SectionType(s.Type) != elf.SHT_NULL && s.Off >= tailStart:
			s.Off += shift
		}
	}
}

// headerPatches are the ELF header, program headers and section headers,
// each written at its (new) offset.
func (f *file) headerPatches() []patch {
	hdr, _ := binary.Append(nil, le, f.hdr)
	progs, _ := binary.Append(nil, le, f.progs)
	ps := []patch{{0, hdr}, {f.hdr.Phoff, progs}}
	if f.hdr.Shoff != 0 {
		sects, _ := binary.Append(nil, le, f.sects)
		ps = append(ps, patch{f.hdr.Shoff, sects})
	}
	return ps
}

func alignUp(x, a uint64) uint64 { return (x + a - 1) &^ (a - 1) }

// verify checks the edited file out against the original: the loader's view
// (program headers and PT_DYNAMIC) and debug/elf's view (section headers)
// must both read back runpath as the only DT_RUNPATH, no DT_RPATH, the same
// DT_NEEDED and DT_SONAME, and (debug/elf) the same dynamic symbol names;
// every PT_LOAD must lie in the file, in address order, without overlap.
// Both files are read through io.ReaderAt, never whole.
func verify(orig io.ReaderAt, origSize int64, out io.ReaderAt, outSize int64, runpath string) error {
	g, err := parse(out, outSize)
	if err != nil {
		return err
	}
	if err := g.checkSegments(); err != nil {
		return err
	}
	f, err := parse(orig, origSize)
	if err != nil {
		return err
	}
	if err := sameLoaderView(f, g, runpath); err != nil {
		return err
	}
	return sameDebugElfView(orig, out, runpath)
}

// checkSegments checks the PT_LOAD segments of an edited file: each in the
// file, congruent with its alignment, in address order without overlap.
func (f *file) checkSegments() error {
	var loads []elf.Prog64
	for _, p := range f.progs {
		if elf.ProgType(p.Type) == elf.PT_LOAD {
			loads = append(loads, p)
		}
	}
	for i, p := range loads {
		if !f.inFile(p.Off, p.Filesz) || p.Filesz > p.Memsz {
			return fmt.Errorf("PT_LOAD %d out of bounds", i)
		}
		if p.Align > 1 && (p.Vaddr-p.Off)%p.Align != 0 {
			return fmt.Errorf("PT_LOAD %d: p_vaddr and p_offset disagree modulo p_align", i)
		}
		if i > 0 && loads[i-1].Vaddr+loads[i-1].Memsz > p.Vaddr {
			return fmt.Errorf("PT_LOAD %d overlaps or precedes PT_LOAD %d", i, i-1)
		}
	}
	return nil
}

// checkedTags are the dynamic entries verify reads back from both files.
var checkedTags = []elf.DynTag{elf.DT_NEEDED, elf.DT_SONAME, elf.DT_RPATH, elf.DT_RUNPATH}

// sameLoaderView compares the original f and the edited g the way the
// loader reads them (PT_DYNAMIC and DT_STRTAB).
func sameLoaderView(f, g *file, runpath string) error {
	want, err := f.dynStrings()
	if err != nil {
		return err
	}
	got, err := g.dynStrings()
	if err != nil {
		return err
	}
	want[elf.DT_RPATH], want[elf.DT_RUNPATH] = nil, []string{runpath}
	for _, t := range checkedTags {
		if !slices.Equal(got[t], want[t]) {
			return fmt.Errorf("program headers: %v reads %q, want %q", t, got[t], want[t])
		}
	}
	return nil
}

// sameDebugElfView compares the two files the way debug/elf reads them
// (section headers), when the original has a dynamic section it can read.
func sameDebugElfView(orig, out io.ReaderAt, runpath string) error {
	fo, err := elf.NewFile(orig)
	if err != nil {
		return nil // debug/elf cannot read the original: nothing to compare with
	}
	defer fo.Close()
	if fo.SectionByType(elf.SHT_DYNAMIC) == nil {
		return nil
	}
	fe, err := elf.NewFile(out)
	if err != nil {
		return fmt.Errorf("debug/elf: %v", err)
	}
	defer fe.Close()
	for _, t := range checkedTags {
		w, err1 := fo.DynString(t)
		v, err2 := fe.DynString(t)
		if err1 != nil || err2 != nil {
			return fmt.Errorf("debug/elf: %v: %v %v", t, err1, err2)
		}
		switch t {
		case elf.DT_RPATH:
			w = nil
		case elf.DT_RUNPATH:
			w = []string{runpath}
		}
		if !slices.Equal(v, w) {
			return fmt.Errorf("debug/elf: %v reads %q, want %q", t, v, w)
		}
	}
	return sameDynamicSymbols(fo, fe)
}

// sameDynamicSymbols compares the dynamic symbols' names and versions.
func sameDynamicSymbols(fo, fe *elf.File) error {
	ws, err1 := fo.DynamicSymbols()
	vs, err2 := fe.DynamicSymbols()
	if (err1 == nil) != (err2 == nil) || len(ws) != len(vs) {
		return fmt.Errorf("debug/elf: dynamic symbols differ (%d %v, %d %v)", len(ws), err1, len(vs), err2)
	}
	for i := range ws {
		if ws[i].Name != vs[i].Name || ws[i].Version != vs[i].Version || ws[i].Library != vs[i].Library {
			return fmt.Errorf("debug/elf: dynamic symbol %d reads %s@%s, want %s@%s", i, vs[i].Name, vs[i].Version, ws[i].Name, ws[i].Version)
		}
	}
	return nil
}

// dynStrings reads the string-valued dynamic entries the way the loader
// does: through PT_DYNAMIC and DT_STRTAB.
func (f *file) dynStrings() (map[elf.DynTag][]string, error) {
	tab, _, _, err := f.strtab()
	if err != nil {
		return nil, err
	}
	m := map[elf.DynTag][]string{}
	for _, d := range f.dyns[:f.nused] {
		t := elf.DynTag(d.Tag)
		if !isStringTag(t) {
			continue
		}
		s, ok := cstring(tab, d.Val)
		if !ok {
			return nil, fmt.Errorf("%v string out of DT_STRTAB", t)
		}
		m[t] = append(m[t], s)
	}
	return m, nil
}
