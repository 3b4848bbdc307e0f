package regular

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// OpenIn opens name beneath root for reading when it is a regular file:
// Open's rules (no blocking on a FIFO, the descriptor checked with fstat),
// with every component resolved by root (os.Root), so nothing outside the
// root is ever opened, and a symbolic link as the last component refused
// (Lstat first). Messages name root's path joined with name.
func OpenIn(root *os.Root, name string) (*os.File, fs.FileInfo, error) {
	p := filepath.Join(root.Name(), name)
	st, err := root.Lstat(name)
	if err != nil {
		return nil, nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, nil, &NotRegularError{p, st.Mode()}
	}
	f, err := root.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return nil, nil, err
	}
	st, err = f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, nil, &NotRegularError{p, st.Mode()}
	}
	return f, st, nil
}

// ReadFileIn is ReadFile for a file beneath root (OpenIn): at most limit
// bytes of a regular file, or a *TooLargeError naming it.
func ReadFileIn(root *os.Root, name string, limit int64, what string) ([]byte, error) {
	f, st, err := OpenIn(root, name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	p := filepath.Join(root.Name(), name)
	if st.Size() > limit {
		return nil, &TooLargeError{Path: p, Size: st.Size(), Limit: limit, What: what}
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	if int64(len(b)) > limit {
		return nil, &TooLargeError{Path: p, Size: int64(len(b)), Limit: limit, What: what}
	}
	return b, nil
}
