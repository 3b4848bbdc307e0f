package repo

import (
	"crypto/sha256"
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

	"relpack/internal/regular"
	"relpack/internal/rootfs"
	"relpack/pkg/pack"
)

// An existing tree is hostile input: anyone who can write the folder the
// web server serves could have put a symbolic link where relpack writes
// (a pool folder, dists/SUITE, repodata/, a by-hash file), a named pipe
// where it reads, or a record that does not match the indexes. relpack
// never writes a symbolic link or a special file into a tree, so before
// anything is written the tree is walked (bounded: maxTreeEntries,
// maxTreeDepth) and any such entry is refused, naming it; every path is
// then opened beneath the root through os.Root (internal/rootfs), which
// refuses to leave it even if a link appears after the walk.
const (
	maxTreeEntries = 1 << 20
	maxTreeDepth   = 16
	// stateLimit bounds relpack-repo.json: about 300 bytes per package,
	// so 64 MiB is some 200 000 packages.
	stateLimit = 64 << 20
)

// tree is the repository folder of one run, open and locked.
type tree struct {
	*rootfs.Tree
	dir  string
	lock *os.File
	// madeDirs are the folders (--out and missing parents) this run
	// created, outermost first; madeLock is true when it created the lock
	// file. A run that fails leaves neither.
	madeDirs []string
	madeLock bool
}

// openTree creates dir when missing (each folder DirMode), opens it as a
// root and takes its lock (LockFile, exclusive, not waiting).
func openTree(dir string) (_ *tree, err error) {
	tr := &tree{dir: dir}
	defer func() {
		if err != nil {
			tr.release(true)
		}
	}()
	var missing []string
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		_, err := os.Lstat(d)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("repository %s: %w", dir, err)
		}
		missing = append(missing, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	for i := len(missing) - 1; i >= 0; i-- {
		if err := os.Mkdir(missing[i], rootfs.DirMode); err != nil {
			return nil, fmt.Errorf("repository %s: %w", dir, err)
		}
		tr.madeDirs = append(tr.madeDirs, missing[i])
		if err := os.Chmod(missing[i], rootfs.DirMode); err != nil {
			return nil, fmt.Errorf("repository %s: %w", dir, err)
		}
	}
	if tr.Tree, err = rootfs.Open(dir); err != nil {
		return nil, fmt.Errorf("repository %s: %w", dir, err)
	}
	st, err := tr.Root().Lstat(LockFile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		tr.madeLock = true
	case err != nil:
		return nil, fmt.Errorf("repository %s: %w", dir, err)
	case !st.Mode().IsRegular():
		return nil, fmt.Errorf("%s is %s, not the lock file relpack repo writes; remove it", filepath.Join(dir, LockFile), regular.Kind(st.Mode()))
	}
	lock, err := tr.Root().OpenFile(LockFile, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, rootfs.FileMode)
	if err != nil {
		return nil, fmt.Errorf("repository %s: cannot open its lock file: %w", dir, err)
	}
	tr.lock = lock
	if st, err := lock.Stat(); err != nil || !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file; remove it", filepath.Join(dir, LockFile))
	}
	if tr.madeLock {
		lock.Chmod(rootfs.FileMode)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		tr.madeLock = false // another run's
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("repository %s is in use by another relpack repo (%s is locked); run again when it has finished", dir, filepath.Join(dir, LockFile))
		}
		return nil, fmt.Errorf("repository %s: cannot lock %s: %w", dir, LockFile, err)
	}
	return tr, nil
}

// release unlocks the tree. After a failure it also removes the lock file
// and the folders this run created (when empty: what the run wrote has
// been rolled back), so a refused run leaves no trace.
func (tr *tree) release(failed bool) {
	if failed && tr.madeLock && tr.lock != nil {
		if a, err := tr.lock.Stat(); err == nil {
			if b, err := tr.Root().Lstat(LockFile); err == nil && os.SameFile(a, b) {
				tr.Root().Remove(LockFile)
			}
		}
	}
	if tr.lock != nil {
		tr.lock.Close()
	}
	if tr.Tree != nil {
		tr.Tree.Close()
	}
	if failed {
		for i := len(tr.madeDirs) - 1; i >= 0; i-- {
			os.Remove(tr.madeDirs[i]) // only when empty
		}
	}
}

// scan walks the tree before anything is read or written: it refuses a
// symbolic link, a named pipe, a device or a socket anywhere in it (with
// its path), and more than maxTreeEntries entries or maxTreeDepth levels;
// it returns the temporary files (pack.TempPattern) a killed run left.
func (tr *tree) scan() (temps []string, err error) {
	prefix := strings.TrimSuffix(pack.TempPattern, "*")
	n := 0
	var walk func(dir string, depth int) error
	walk = func(dir string, depth int) error {
		if depth > maxTreeDepth {
			return fmt.Errorf("%s is more than %d folders deep; relpack's repository layout is at most 8: it is not a relpack repository tree", filepath.Join(tr.dir, dir), maxTreeDepth)
		}
		f, err := tr.Root().OpenFile(dir, os.O_RDONLY|syscall.O_DIRECTORY|syscall.O_NOFOLLOW, 0)
		if err != nil {
			return fmt.Errorf("repository %s: %w", tr.dir, err)
		}
		defer f.Close()
		for {
			ents, err := f.ReadDir(1024)
			for _, e := range ents {
				n++
				if n > maxTreeEntries {
					return fmt.Errorf("%s holds more than %d files and folders, more than relpack repo reads; give a relpack repository tree", tr.dir, maxTreeEntries)
				}
				p := path.Join(dir, e.Name())
				switch t := e.Type(); {
				case t.IsDir():
					if err := walk(p, depth+1); err != nil {
						return err
					}
				case t&fs.ModeSymlink != 0:
					return fmt.Errorf("%s is a symbolic link: relpack repo writes none, and one could send its writes, or the removal of a failed run, outside %s; remove it (or restore the tree from a backup) and run again", filepath.Join(tr.dir, p), tr.dir)
				case !t.IsRegular():
					return fmt.Errorf("%s is %s: a repository tree holds only folders and regular files (reading it could block or never end); remove it and run again", filepath.Join(tr.dir, p), regular.Kind(t))
				case strings.HasPrefix(e.Name(), prefix):
					temps = append(temps, p)
				}
			}
			if err == io.EOF || len(ents) == 0 {
				return nil
			}
			if err != nil {
				return fmt.Errorf("repository %s: %w", tr.dir, err)
			}
		}
	}
	if err := walk(".", 0); err != nil {
		return nil, err
	}
	return temps, nil
}

// removeTemps removes the temporary files a run killed mid-way left
// (under the lock, so no other run is writing them), so they are never
// published.
func (tr *tree) removeTemps(temps []string) error {
	for _, p := range temps {
		if err := tr.Root().Remove(p); err != nil {
			return fmt.Errorf("removing %s, left by a run that was killed: %w", filepath.Join(tr.dir, p), err)
		}
	}
	return nil
}

// readState reads the record beneath the root (ReadState's checks).
func (tr *tree) readState() (*State, error) {
	return readStateIn(tr.Root(), tr.dir)
}

func readStateIn(r *os.Root, dir string) (*State, error) {
	p := filepath.Join(dir, StateFile)
	b, err := regular.ReadFileIn(r, StateFile, stateLimit, "a relpack-repo.json record")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return parseState(p, b)
}

// hash returns the sha256 and size of the regular file name beneath the
// root, reading at most limit+1 bytes (a larger file's size is reported
// as limit+1).
func (tr *tree) hash(name string, limit int64) (string, int64, error) {
	f, _, err := regular.OpenIn(tr.Root(), name)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, io.LimitReader(f, limit+1))
	if err != nil {
		return "", 0, fmt.Errorf("%s: %w", filepath.Join(tr.dir, name), err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}
