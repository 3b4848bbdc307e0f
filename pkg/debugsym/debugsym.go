// Package debugsym splits the debug symbols out of an ELF binary, in Go,
// the way distros do before packaging (issue 22): the binary keeps what
// runs plus a .gnu_debuglink, the debug file keeps the debug sections and
// the headers a debugger needs, and both are found by the binary's GNU
// build-id (/usr/lib/debug/.build-id/xx/rest.debug). No objcopy, strip or
// eu-strip runs: relpack stays one static binary.
//
// Which tool it matches:
//   - The stripped binary keeps what `strip --strip-debug` keeps (followed
//     by `objcopy --add-gnu-debuglink`), not what eu-strip keeps: eu-strip
//     also moves .symtab/.strtab into the debug file, and a backtrace of an
//     installed binary without its debug package would lose every function
//     name. Like strip --strip-debug it drops the debug sections (the names
//     BFD marks SEC_DEBUGGING: .debug*, .zdebug*, .gnu.debuglto_.debug_*,
//     .gnu.linkonce.wi.*, .line*, .stab*, .gdb_index), the STT_FILE symbols
//     and the symbols of removed sections; it rebuilds .strtab and
//     .shstrtab the way BFD does (duplicates and suffixes shared), so every
//     kept section has strip's size.
//   - The debug file is what `objcopy --only-keep-debug` writes: every
//     section header in its place, the allocated sections other than notes
//     as SHT_NOBITS, the notes, the debug sections, .comment, .symtab and
//     .strtab with their contents, and the program headers with their file
//     sizes cut to what the file still holds.
//
// What stays unchanged in the stripped binary: every byte from the start of
// the file to the end of the last loaded (or otherwise program-header
// covered) byte, hence every PT_LOAD's contents and the program headers,
// except the ELF header's e_shoff, e_shnum and e_shstrndx (where the new
// section header table is, which nothing reads at run time); the allocated
// section headers. Only what follows (the non-allocated
// sections and the section header table) is rewritten. So the ABI facts
// pkg/abi reads (dynamic section, version tables) are those of the input.
//
// Bounds, as the other ELF readers: only regular files (internal/regular),
// at most MaxFileSize bytes, ELF64 little-endian x86_64 and aarch64
// executables and shared libraries (ET_EXEC, ET_DYN), fewer than 65280
// sections (no extended numbering), a section name table of at most 16 MiB,
// symbol and string tables of at most 256 MiB each (the only tables read
// whole; the stripped .symtab is rebuilt in memory), note sections read up
// to 1 MiB for the build-id. Section contents (the debug sections above
// all) are never read into memory: they are copied with io.Copy from an
// io.SectionReader of the input.
package debugsym

import (
	"debug/elf"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"strings"

	"relpack/internal/regular"
)

// MaxFileSize is the largest input Open reads (4 GiB): more than any
// server binary with its DWARF, and a bound on the time a split takes.
const MaxFileSize = 4 << 30

// File is one ELF file opened for splitting: its headers are read and
// checked, its section contents are read only while writing.
type File struct {
	Path string
	// BuildID is the NT_GNU_BUILD_ID note's description in lower-case
	// hex; "" when the file has none.
	BuildID string
	// HasDebug: the file has at least one debug section with contents
	// (.debug_*, .zdebug_*), i.e. something to split.
	HasDebug bool
	// DebugLink is the file name its .gnu_debuglink names; "" when none.
	DebugLink string
	Machine   elf.Machine

	r      io.ReaderAt
	closer io.Closer
	size   int64
	hdr    elf.Header64
	progs  []elf.Prog64
	sects  []section
}

// Error is what Open and the writers return for a file they cannot split:
// Path names the file, Msg says what is wrong and what to do.
type Error struct {
	Path string
	Msg  string
}

func (e *Error) Error() string { return "debugsym: " + e.Path + ": " + e.Msg }

// NoBuildIDError is the refusal to split a binary without a build-id:
// nothing could find its debug file. The message says how to link one in.
type NoBuildIDError struct{ Path string }

func (e *NoBuildIDError) Error() string {
	return e.Path + " has no GNU build-id (no NT_GNU_BUILD_ID note), so no debugger or debuginfod could find its debug file: " +
		"link it with one (gcc and clang: -Wl,--build-id; Rust links one by default; Go: -ldflags=-B gobuildid), " +
		"or ship this input unstripped"
}

// Open opens path (a regular file, size-bounded) and reads its headers.
func Open(path string) (*File, error) {
	fh, st, err := regular.Open(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is named once, by Error
		}
		return nil, &Error{path, "cannot open: " + err.Error() + "; give the path of the binary itself"}
	}
	if st.Size() > MaxFileSize {
		fh.Close()
		return nil, &Error{path, fmt.Sprintf("%d bytes, more than the %d bytes relpack splits; give the right file", st.Size(), int64(MaxFileSize))}
	}
	f, err := newFile(path, fh, st.Size())
	if err != nil {
		fh.Close()
		return nil, err
	}
	f.closer = fh
	return f, nil
}

// newFile reads the headers of the size bytes r holds; name is used in
// errors and as Path.
func newFile(name string, r io.ReaderAt, size int64) (*File, error) {
	f := &File{Path: name, r: r, size: size}
	if err := f.parse(); err != nil {
		return nil, &Error{name, err.Error()}
	}
	return f, nil
}

// Close closes the file.
func (f *File) Close() error {
	if f.closer == nil {
		return nil
	}
	err := f.closer.Close()
	f.closer = nil
	return err
}

// WriteDebug writes f's debug file to w, as objcopy --only-keep-debug
// does: every section header, the contents of the debug sections, notes,
// .symtab and .strtab; the other sections become SHT_NOBITS.
func (f *File) WriteDebug(w io.Writer) error {
	if err := f.splittable(); err != nil {
		return err
	}
	p, err := f.debugPlan()
	if err != nil {
		return &Error{f.Path, err.Error()}
	}
	return f.write(w, p)
}

// WriteStripped writes f to w without its debug sections, as strip
// --strip-debug does, plus a .gnu_debuglink naming link with crc (an
// existing .gnu_debuglink is replaced).
func (f *File) WriteStripped(w io.Writer, link string, crc uint32) error {
	if link == "" || strings.ContainsAny(link, "/\x00") || len(link) > 255 {
		return &Error{f.Path, fmt.Sprintf("debug link %q: want a file name (no '/', no NUL, at most 255 bytes)", link)}
	}
	if err := f.splittable(); err != nil {
		return err
	}
	p, err := f.strippedPlan(link, crc)
	if err != nil {
		return &Error{f.Path, err.Error()}
	}
	return f.write(w, p)
}

// splittable refuses what has no build-id or no section headers.
func (f *File) splittable() error {
	if f.BuildID == "" {
		return &NoBuildIDError{f.Path}
	}
	if len(f.sects) == 0 {
		return &Error{f.Path, "has no section headers (was it stripped with sstrip?): nothing to split; give the binary as the linker wrote it"}
	}
	return nil
}

// LinkCRC is the .gnu_debuglink CRC of a debug file's contents: the
// CRC-32 (IEEE, as zlib's crc32) that gdb checks, as objcopy
// --add-gnu-debuglink computes it.
func LinkCRC(r io.Reader) (uint32, error) {
	h := crc32.NewIEEE()
	if _, err := io.Copy(h, r); err != nil {
		return 0, err
	}
	return h.Sum32(), nil
}

// BuildIDPath is the debug file's path in a build-id tree, relative to
// the debug directory: ".build-id/xx/rest.debug". buildID is a File's
// BuildID (at least 3 lower-case hex digits); anything else gives "".
func BuildIDPath(buildID string) string {
	if len(buildID) < 3 || strings.Trim(buildID, "0123456789abcdef") != "" {
		return ""
	}
	return ".build-id/" + buildID[:2] + "/" + buildID[2:] + ".debug"
}
