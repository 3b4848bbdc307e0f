// Package rootfs writes beneath a folder whose contents are not trusted
// (a repository tree anyone with write access may have changed): every
// path is resolved by os.Root, so no symbolic link or ".." can make a
// write, a read or a removal land outside the folder; folders are made
// DirMode and files FileMode whatever the caller's umask, so a web server
// can serve them; and each folder and file a run creates is logged with
// its device and inode, so that undoing a failed run removes only what
// it created, and only while it is still what it created.
package rootfs

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"

	"relpack/pkg/pack"
)

// DirMode and FileMode are the permissions of every folder and file
// written: readable by all (served as they are), writable by the owner.
const (
	DirMode  = 0o755
	FileMode = 0o644
)

// Tree is a root folder, or a view of a folder beneath it (Sub), that
// shares its root's log of created entries.
type Tree struct {
	root   *os.Root
	prefix string // slash path of the view beneath the root; "" for the root
	log    *[]Entry
}

// Entry is a folder or file a run created.
type Entry struct {
	Name     string // slash path relative to the root
	Dir      bool
	Replaced bool // a file written over one that was there before
	dev, ino uint64
	// A file's size and modification time as written: an inode number
	// is reused once its file is deleted, so a file someone put in place
	// of this one may carry the same dev and inode; it hardly carries the
	// same size and time too. (A folder's time changes with what it holds,
	// so folders are known by dev and inode alone.)
	size, mtime int64
}

// Open opens dir (which must exist) as a root.
func Open(dir string) (*Tree, error) {
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	return &Tree{root: r, log: new([]Entry)}, nil
}

// Close closes the root (of every view).
func (t *Tree) Close() error { return t.root.Close() }

// Root is the os.Root of the whole tree.
func (t *Tree) Root() *os.Root { return t.root }

// Sub is a view of the folder dir beneath t (which need not exist yet).
func (t *Tree) Sub(dir string) *Tree {
	return &Tree{root: t.root, prefix: t.rel(dir), log: t.log}
}

// Name is the slash path of name relative to the root.
func (t *Tree) rel(name string) string { return path.Join(t.prefix, filepath.ToSlash(name)) }

// Rel is the slash path of name (beneath the view) relative to the root.
func (t *Tree) Rel(name string) string { return t.rel(name) }

// Path is name's path on disk, for messages.
func (t *Tree) Path(name string) string {
	return filepath.Join(t.root.Name(), filepath.FromSlash(t.rel(name)))
}

// Written lists what was written through this tree, in order.
func (t *Tree) Written() []Entry { return append([]Entry(nil), (*t.log)...) }

func (t *Tree) record(name string, dir, replaced bool, st fs.FileInfo) {
	e := Entry{Name: name, Dir: dir, Replaced: replaced}
	if s, ok := st.Sys().(*syscall.Stat_t); ok {
		e.dev, e.ino = uint64(s.Dev), uint64(s.Ino)
	}
	if !dir {
		e.size, e.mtime = st.Size(), st.ModTime().UnixNano()
	}
	*t.log = append(*t.log, e)
}

// MkdirAll makes the folder name and its missing parents beneath the view,
// each DirMode (chmod after mkdir: the umask does not apply), and logs
// each it made. An existing component must be a folder, not a symbolic
// link.
func (t *Tree) MkdirAll(name string) error {
	full := t.rel(name)
	if full == "." || full == "" {
		return nil
	}
	cur := ""
	for _, c := range strings.Split(full, "/") {
		cur = path.Join(cur, c)
		st, err := t.root.Lstat(cur)
		switch {
		case err == nil && st.IsDir():
			continue
		case err == nil:
			return fmt.Errorf("%s is %s, not a folder", filepath.Join(t.root.Name(), cur), kind(st.Mode()))
		case !errors.Is(err, fs.ErrNotExist):
			return err
		}
		if err := t.root.Mkdir(cur, DirMode); err != nil {
			return err
		}
		if err := t.root.Chmod(cur, DirMode); err != nil {
			return err
		}
		st, err = t.root.Lstat(cur)
		if err != nil {
			return err
		}
		t.record(cur, true, false, st)
	}
	return nil
}

func kind(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m.IsRegular():
		return "a file"
	}
	return "a special file"
}

// WriteFile writes name atomically: a temporary file (pack.TempPattern) in
// its folder, FileMode, fsynced, then renamed over name.
func (t *Tree) WriteFile(name string, data []byte) error {
	return t.write(name, true, func(w io.Writer) error { _, err := w.Write(data); return err })
}

// CreateFile writes name like WriteFile, but link(2)s the temporary file
// to name, which fails rather than replace a file already there.
func (t *Tree) CreateFile(name string, write func(w io.Writer) error) error {
	return t.write(name, false, write)
}

func (t *Tree) write(name string, replace bool, write func(io.Writer) error) (err error) {
	full := t.rel(name)
	dir := path.Dir(full)
	if err := (&Tree{root: t.root, log: t.log}).MkdirAll(dir); err != nil {
		return fmt.Errorf("writing %s: %w", t.Path(name), err)
	}
	var f *os.File
	var tmp string
	for range 100 {
		var b [8]byte
		rand.Read(b[:])
		tmp = path.Join(dir, strings.TrimSuffix(pack.TempPattern, "*")+hex.EncodeToString(b[:]))
		f, err = t.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, FileMode)
		if !errors.Is(err, fs.ErrExist) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("writing %s: cannot create a temporary file: %w", t.Path(name), err)
	}
	defer func() {
		if f != nil {
			f.Close()
		}
		t.root.Remove(tmp)
	}()
	if err := write(f); err != nil {
		return fmt.Errorf("writing %s: %w", t.Path(name), err)
	}
	// Explicitly: the umask applied to the open.
	if err := f.Chmod(FileMode); err != nil {
		return fmt.Errorf("writing %s: chmod: %w", t.Path(name), err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("writing %s: fsync: %w", t.Path(name), err)
	}
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		f = nil
		return fmt.Errorf("writing %s: %w", t.Path(name), err)
	}
	f = nil
	_, lerr := t.root.Lstat(full)
	isNew := errors.Is(lerr, fs.ErrNotExist)
	if replace {
		err = t.root.Rename(tmp, full)
	} else {
		err = t.root.Link(tmp, full)
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", t.Path(name), err)
	}
	t.record(full, false, !isNew && replace, st)
	if d, err := t.root.Open(dir); err == nil {
		d.Sync() // best effort: the rename's durability only
		d.Close()
	}
	return nil
}

// Undo removes, newest first, what was written through this tree (the
// folders and files it created, the files it replaced), except the
// entries keep says to keep; an entry is removed only while it is the
// file or folder that was written (same device and inode), and a folder
// only when empty. It returns the paths it had to leave.
func (t *Tree) Undo(keep func(name string, replaced bool) bool) []string {
	var left []string
	log := *t.log
	for i := len(log) - 1; i >= 0; i-- {
		e := log[i]
		if keep != nil && keep(e.Name, e.Replaced) {
			continue
		}
		st, err := t.root.Lstat(e.Name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil || !same(e, st) {
			left = append(left, filepath.Join(t.root.Name(), e.Name))
			continue
		}
		if err := t.root.Remove(e.Name); err != nil {
			left = append(left, filepath.Join(t.root.Name(), e.Name))
		}
	}
	*t.log = slicesKeep(log, keep)
	return left
}

func slicesKeep(log []Entry, keep func(string, bool) bool) []Entry {
	var out []Entry
	for _, e := range log {
		if keep != nil && keep(e.Name, e.Replaced) {
			out = append(out, e)
		}
	}
	return out
}

func same(e Entry, st fs.FileInfo) bool {
	s, ok := st.Sys().(*syscall.Stat_t)
	if !ok || st.IsDir() != e.Dir || st.Mode()&fs.ModeSymlink != 0 || uint64(s.Dev) != e.dev || uint64(s.Ino) != e.ino {
		return false
	}
	return e.Dir || st.Size() == e.size && st.ModTime().UnixNano() == e.mtime
}
