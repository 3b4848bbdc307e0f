// Package regular opens files that must be regular files: release inputs,
// configuration, sources of packaged files. A named pipe blocks open(2)
// until a writer appears and a character device (/dev/zero) never ends, so
// either would hang a release job or exhaust its memory; both are refused
// before a blocking open, and the opened descriptor is checked again so a
// path swapped between the two checks cannot slip through.
package regular

import (
	"fmt"
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
