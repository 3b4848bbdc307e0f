// Package regular opens files that must be regular files: release inputs,
// configuration, sources of packaged files. A named pipe blocks open(2)
// until a writer appears and a character device (/dev/zero) never ends, so
// either would hang a release job or exhaust its memory; both are refused
// before a blocking open, and the opened descriptor is checked again so a
// path swapped between the two checks cannot slip through.
package regular

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// Kind names a file type for messages: "a named pipe", "a directory".
func Kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0 || m&fs.ModeCharDevice != 0:
		return "a device"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m.IsRegular():
		return "a regular file"
	}
	return "a special file"
}

// NotRegularError says a path names something other than a regular file.
type NotRegularError struct {
	Path string
	Mode fs.FileMode
}

func (e *NotRegularError) Error() string {
	return fmt.Sprintf("%s is %s, not a regular file", e.Path, Kind(e.Mode))
}

// Check stats path (following symbolic links) and refuses anything but a
// regular file without opening it.
func Check(path string) (fs.FileInfo, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, &NotRegularError{path, st.Mode()}
	}
	return st, nil
}

// Open opens path for reading when it is a regular file. The open itself
// is non-blocking (O_NONBLOCK: a FIFO swapped in after the stat returns at
// once instead of waiting for a writer), and the descriptor is checked
// with fstat before it is returned. O_NONBLOCK has no effect on reads of
// regular files.
func Open(path string) (*os.File, fs.FileInfo, error) {
	if _, err := Check(path); err != nil {
		return nil, nil, err
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, nil, &NotRegularError{path, st.Mode()}
	}
	return f, st, nil
}

// TooLargeError says a file is larger than what relpack reads of its kind.
type TooLargeError struct {
	Path  string
	Size  int64 // bytes found (at least Limit+1 when the size grew while read)
	Limit int64
	What  string // "a signing key", "a manifest"
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%s is %d bytes, more than the %d bytes %s may hold; give the right file", e.Path, e.Size, e.Limit, e.What)
}

// ReadFile reads a whole regular file of at most limit bytes. what names
// the kind of file for the message ("a signing key"). A FIFO or device is
// refused before it can block or stream forever (Open), and at most
// limit+1 bytes are ever read, so memory stays within limit whatever the
// file claims or becomes while it is read.
func ReadFile(path string, limit int64, what string) ([]byte, error) {
	f, st, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st.Size() > limit {
		return nil, &TooLargeError{Path: path, Size: st.Size(), Limit: limit, What: what}
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if int64(len(b)) > limit {
		return nil, &TooLargeError{Path: path, Size: int64(len(b)), Limit: limit, What: what}
	}
	return b, nil
}
