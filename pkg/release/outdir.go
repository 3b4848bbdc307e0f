package release

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"relpack/pkg/manifest"
	"relpack/pkg/pack"
)

// The output folder is a published release: a reader (a mirror job, a
// person running sha256sum -c) must see either the whole old release or the
// whole new one. Three mechanisms hold that:
//
//   - One writer: a build holds an exclusive flock(2) on the folder itself
//     from before its first write to after its last; a second build into the
//     same folder is refused at once. The lock dies with the process, so a
//     killed build never leaves it held.
//   - A journaled swap: every new file is complete in a staging folder
//     first. Publishing moves the old release's files aside into the staging
//     folder (SHA256SUMS first), then the new ones in (SHA256SUMS last), under
//     a journal naming the new files. Any failure rolls back to the old
//     release; a build killed mid-swap is rolled back by the next build,
//     which finds the journal.
//   - Stale leftovers (.relpack-staging-*, .relpack-tmp-*) of killed builds
//     are removed by the next build, under the lock. A build makes no
//     temporary files outside its staging folder.

const (
	stagingPattern = ".relpack-staging-*"
	journalName    = "publish.journal" // present while a swap is under way
	publishedName  = "published"       // the journal, renamed when the swap is complete
	oldDirName     = "old"             // the previous release's files, moved aside
)

// outDir is the output folder, locked for one build.
type outDir struct {
	path    string
	created bool // this build created it; removed again if the build fails
	lock    *os.File
}

// lockOut creates path when missing and takes the build lock on it.
func lockOut(path string) (*outDir, error) {
	o := &outDir{path: path}
	st, err := os.Stat(path)
	switch {
	case os.IsNotExist(err):
		if err := os.MkdirAll(path, 0o755); err != nil {
			return nil, fmt.Errorf("output directory %s: %w", path, err)
		}
		o.created = true
	case err != nil:
		return nil, fmt.Errorf("output directory %s: %w", path, err)
	case !st.IsDir():
		return nil, fmt.Errorf("output directory %s is not a directory; choose another --out", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("output directory %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("output directory %s is in use by another relpack build; wait for it to finish, or choose another --out", path)
		}
		return nil, fmt.Errorf("output directory %s: cannot lock it: %w", path, err)
	}
	o.lock = f
	return o, nil
}

// release drops the lock; a folder this build created is removed when the
// build failed and left it empty.
func (o *outDir) release(failed bool) {
	if failed && o.created {
		os.Remove(o.path)
	}
	o.lock.Close()
}

// recoverStale finishes what killed builds left: a swap that was under way
// is rolled back to the old release; staging folders and temporary files
// are removed. It runs under the lock, so none of them belongs to a live
// build.
func (o *outDir) recoverStale(warn io.Writer) error {
	entries, err := os.ReadDir(o.path)
	if err != nil {
		return fmt.Errorf("output directory %s: %w", o.path, err)
	}
	for _, e := range entries {
		name := e.Name()
		full := filepath.Join(o.path, name)
		switch {
		case matches(stagingPattern, name) && e.IsDir():
			if _, err := os.Stat(filepath.Join(full, journalName)); err == nil {
				if err := rollback(o.path, full); err != nil {
					return fmt.Errorf("output directory %s: an interrupted build's publish could not be rolled back (%v); restore the files under %s by hand", o.path, err, full)
				}
				if warn != nil {
					fmt.Fprintf(warn, "warning: an earlier build into %s was killed while publishing; its old release was restored\n", o.path)
				}
			}
			if err := os.RemoveAll(full); err != nil {
				return fmt.Errorf("output directory %s: removing an interrupted build's %s: %w", o.path, name, err)
			}
		case matches(pack.TempPattern, name) && !e.IsDir():
			os.Remove(full)
		}
	}
	return nil
}

func matches(pattern, name string) bool {
	ok, _ := filepath.Match(pattern, name)
	return ok
}

// journal is what a swap writes before it moves anything.
type journal struct {
	New []string `json:"new"` // names moved from the staging folder into the output
}

// renameFile is os.Rename; tests replace it to fail a rename midway.
var renameFile = os.Rename

// publish swaps the old release in dir for the new files in stage. names
// are the new files in publishing order (SHA256SUMS last); displace are the
// old release's files to move aside (existing ones among names are moved
// aside too). On error the old release is back in place.
func publish(dir, stage string, names, displace []string) error {
	j, err := json.Marshal(journal{New: names})
	if err != nil {
		return err
	}
	if err := pack.WriteFileAtomic(filepath.Join(stage, journalName), func(w io.Writer) error { _, err := w.Write(j); return err }); err != nil {
		return err
	}
	if err := os.Mkdir(filepath.Join(stage, oldDirName), 0o700); err != nil {
		return err
	}
	var aside []string
	for _, n := range append(slices.Clone(displace), names...) {
		if slices.Contains(aside, n) {
			continue
		}
		if _, err := os.Lstat(filepath.Join(dir, n)); err == nil {
			aside = append(aside, n)
		}
	}
	// SHA256SUMS and its signature leave first: while the swap runs, no
	// reader finds sums that do not match the files beside them.
	slices.SortStableFunc(aside, func(a, b string) int { return sumsFirst(a) - sumsFirst(b) })
	fail := func(err error) error {
		if rerr := rollback(dir, stage); rerr != nil {
			return fmt.Errorf("%w; rolling back also failed (%v): the previous release is under %s", err, rerr, stage)
		}
		return err
	}
	for _, n := range aside {
		if err := renameFile(filepath.Join(dir, n), filepath.Join(stage, oldDirName, n)); err != nil {
			return fail(fmt.Errorf("moving the previous %s aside: %w", n, err))
		}
	}
	for _, n := range names {
		if err := renameFile(filepath.Join(stage, n), filepath.Join(dir, n)); err != nil {
			return fail(fmt.Errorf("moving %s into %s: %w", n, dir, err))
		}
	}
	// The rename of the journal is the commit point: from here on a
	// recovering build deletes the staging folder instead of rolling back.
	if err := os.Rename(filepath.Join(stage, journalName), filepath.Join(stage, publishedName)); err != nil {
		return fail(fmt.Errorf("completing the publish: %w", err))
	}
	syncDirectory(dir)
	return nil
}

func sumsFirst(name string) int {
	if strings.HasPrefix(name, "SHA256SUMS") {
		return 0
	}
	return 1
}

// rollback undoes a swap from what is on disk: every new file no longer in
// the staging folder was moved into dir and is removed; every old file
// moved aside goes back, SHA256SUMS last.
func rollback(dir, stage string) error {
	data, err := os.ReadFile(filepath.Join(stage, journalName))
	if err != nil {
		return err
	}
	var j journal
	if err := json.Unmarshal(data, &j); err != nil {
		return fmt.Errorf("reading the publish journal: %w", err)
	}
	var errs []error
	for _, n := range j.New {
		if !safeName(n) {
			continue
		}
		if _, err := os.Lstat(filepath.Join(stage, n)); os.IsNotExist(err) {
			if err := os.Remove(filepath.Join(dir, n)); err != nil && !os.IsNotExist(err) {
				errs = append(errs, err)
			}
		}
	}
	old, _ := os.ReadDir(filepath.Join(stage, oldDirName))
	slices.SortStableFunc(old, func(a, b os.DirEntry) int { return sumsFirst(b.Name()) - sumsFirst(a.Name()) })
	for _, e := range old {
		if err := os.Rename(filepath.Join(stage, oldDirName, e.Name()), filepath.Join(dir, e.Name())); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	return os.Remove(filepath.Join(stage, journalName))
}

func syncDirectory(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// safeName reports whether n is a plain file name relpack could have
// written: no separator, no leading dot, no "..".
func safeName(n string) bool {
	return n != "" && !strings.ContainsAny(n, "/\\\x00") && !strings.HasPrefix(n, ".")
}

// releaseFiles are the names relpack writes besides the artifacts.
var releaseFiles = manifest.ReleaseFiles

// isArtifactName reports whether n has the shape of an artifact relpack
// writes (tarball, deb, ddeb, rpm) or of an artifact's SBOM.
func isArtifactName(n string) bool {
	for _, suffix := range manifest.SBOMSuffix {
		n = strings.TrimSuffix(n, suffix)
	}
	return safeName(n) && (strings.HasSuffix(n, ".tar.gz") || strings.HasSuffix(n, ".deb") || strings.HasSuffix(n, ".ddeb") || strings.HasSuffix(n, ".rpm"))
}

// earlierBuild reports files of an earlier build in dir: its manifest.json
// and SHA256SUMS and every artifact-like file. It returns the names and the
// earlier manifest (nil if none could be read).
func earlierBuild(dir string) ([]string, *manifest.Manifest) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil
	}
	var names []string
	for _, e := range entries {
		n := e.Name()
		if slices.Contains(releaseFiles, n) || strings.HasSuffix(n, ".asc") || isArtifactName(n) {
			names = append(names, n)
		}
	}
	m, _ := manifest.Read(filepath.Join(dir, "manifest.json"))
	return names, m
}

// staleFiles are the earlier build's artifacts the new build does not write
// again and --clean removes. The earlier manifest.json is input like any
// other (a crafted one could list notes.txt, or the new build's own
// files): a name is removed only when it has an artifact's shape, is not
// one of the new build's files, and still holds the bytes the earlier
// manifest recorded for it, i.e. it is the file an earlier relpack wrote.
func staleFiles(dir string, old *manifest.Manifest, written map[string]bool, warn io.Writer) []string {
	if old == nil {
		return nil
	}
	var out []string
	var files []manifest.Artifact // the artifacts, and their SBOMs as files of the same kind
	for _, a := range old.Artifacts {
		files = append(files, a)
		for _, s := range a.SBOMs {
			files = append(files, manifest.Artifact{File: s.File, SHA256: s.SHA256})
		}
	}
	for _, a := range files {
		n := a.File
		if written[n] || slices.Contains(out, n) {
			continue
		}
		if !isArtifactName(n) {
			if warn != nil {
				fmt.Fprintf(warn, "warning: the earlier manifest.json in %s lists %q, which is not an artifact name relpack writes; left in place\n", dir, n)
			}
			continue
		}
		sum, _, err := pack.SHA256File(filepath.Join(dir, n))
		if err != nil {
			continue // already gone
		}
		if sum != a.SHA256 {
			if warn != nil {
				fmt.Fprintf(warn, "warning: %s in %s is not the file the earlier manifest.json recorded (sha256 differs); left in place\n", n, dir)
			}
			continue
		}
		out = append(out, n)
	}
	return out
}
