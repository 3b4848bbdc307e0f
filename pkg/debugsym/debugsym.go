// Package debugsym splits the debug symbols out of an ELF binary, in Go,
// the way distros do before packaging (issue 22): the binary keeps what
// runs plus a .gnu_debuglink, the debug file keeps the debug sections and
// the headers a debugger needs, and both are found by the binary's GNU
// build-id (/usr/lib/debug/.build-id/xx/rest.debug).
//
// THIS FILE IS THE AGREED API, NOT YET IMPLEMENTED: every function below
// panics until the package's implementation replaces this file.
package debugsym

import (
	"debug/elf"
	"io"
)

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
}

// NoBuildIDError is the refusal to split a binary without a build-id:
// nothing could find its debug file. The message says how to link one in.
type NoBuildIDError struct{ Path string }

func (e *NoBuildIDError) Error() string { panic("debugsym: not implemented") }

// Open opens path (a regular file, size-bounded) and reads its headers.
func Open(path string) (*File, error) { panic("debugsym: not implemented") }

// Close closes the file.
func (f *File) Close() error { panic("debugsym: not implemented") }

// WriteDebug writes f's debug file to w, as objcopy --only-keep-debug
// does: every section header, the contents of the debug sections, notes,
// .symtab and .strtab; the other sections become SHT_NOBITS.
func (f *File) WriteDebug(w io.Writer) error { panic("debugsym: not implemented") }

// WriteStripped writes f to w without its debug sections, as strip
// --strip-debug does, plus a .gnu_debuglink naming link with crc (an
// existing .gnu_debuglink is replaced).
func (f *File) WriteStripped(w io.Writer, link string, crc uint32) error {
	panic("debugsym: not implemented")
}

// LinkCRC is the .gnu_debuglink CRC of a debug file's contents.
func LinkCRC(r io.Reader) (uint32, error) { panic("debugsym: not implemented") }

// BuildIDPath is the debug file's path in a build-id tree, relative to
// the debug directory: ".build-id/xx/rest.debug".
func BuildIDPath(buildID string) string { panic("debugsym: not implemented") }
