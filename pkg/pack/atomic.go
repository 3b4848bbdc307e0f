// Package pack writes release artifacts: gzip'd tarballs (through
// mholt/archives), deb and rpm packages (through nfpm), and the
// sha256sum-compatible SHA256SUMS that lists them.
//
// Two properties hold for every writer here:
//
//   - Atomic: an artifact appears under its final name complete or not at
//     all (see WriteFileAtomic). A crash, a full disk or a failed step leaves
//     at most a ".relpack-tmp-*" file behind, never a truncated artifact.
//   - Reproducible: the bytes depend only on the inputs (file contents,
//     explicit modes, the given mtime), never on the build host's clock,
//     timezone, umask, user, host name or file system order.
package pack

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// TempPattern is the os.CreateTemp pattern of the temporary files
// WriteFileAtomic creates next to their destination. Cleanup jobs may
// delete leftovers that match it.
const TempPattern = ".relpack-tmp-*"

// ArtifactMode is the permission every artifact is written with. It is set
// explicitly with chmod so the process umask never changes it.
const ArtifactMode = 0o644

// WriteFileAtomic writes path through write, atomically: the content goes to
// a temporary file in path's directory (so the final rename never crosses a
// file system), which is flushed, fsynced and chmod'ed to ArtifactMode, then
// renamed over path. If write or any step fails (or write panics), the
// temporary file is removed and path is left as it was. write receives a
// buffered writer; it must not retain it after returning.
func WriteFileAtomic(path string, write func(io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, TempPattern)
	if err != nil {
		return fmt.Errorf("writing %s: cannot create a temporary file in %s: %w", path, dir, err)
	}
	tmp := f.Name()
	committed := false
	defer func() {
		// Runs on errors and on panics alike: nothing partial may stay.
		if !committed {
			f.Close()
			os.Remove(tmp)
		}
	}()

	bw := bufio.NewWriterSize(f, writeBufSize)
	if err := write(bw); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	// os.CreateTemp creates 0600; artifacts are meant to be published.
	if err := f.Chmod(ArtifactMode); err != nil {
		return fmt.Errorf("writing %s: chmod: %w", path, err)
	}
	// Without the fsync a crash after the rename could leave a
	// zero-length file under the final name on some file systems.
	if err := f.Sync(); err != nil {
		return fmt.Errorf("writing %s: fsync: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("writing %s: rename from %s: %w", path, filepath.Base(tmp), err)
	}
	committed = true
	syncDir(dir)
	return nil
}

// syncDir makes a rename in dir durable. It is best effort: some file
// systems refuse fsync on directories, and the artifact is already complete
// under its name either way; only its survival across a power cut is at
// stake.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	d.Sync()
	d.Close()
}

// writeBufSize is the buffer between an artifact's writers and its file.
// The large writes (compressed chunks, copied payloads) pass through it;
// it gathers the small ones (tar and cpio headers, control files). Each
// artifact being written holds one or two, so it counts in the build's
// peak memory: 256 KiB, not more.
const writeBufSize = 256 << 10
