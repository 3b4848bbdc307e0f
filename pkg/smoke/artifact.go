package smoke

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"relpack/internal/regular"
)

// IsArtifact reports whether path names a gzip'd tarball (by its name, or by
// the gzip magic bytes for a file named otherwise).
func IsArtifact(p string) bool {
	if strings.HasSuffix(p, ".tar.gz") || strings.HasSuffix(p, ".tgz") {
		return true
	}
	f, _, err := regular.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	var magic [2]byte
	if _, err := io.ReadFull(f, magic[:]); err != nil {
		return false
	}
	return magic[0] == 0x1f && magic[1] == 0x8b
}

// What extractTarGz writes at most: maxExtractBase bytes plus
// maxExtractRatio times the tarball's size.
const (
	maxExtractBase  = 256 << 20
	maxExtractRatio = 64
)

// extractTarGz unpacks a tarball into dest (an existing, empty directory),
// refusing anything that could write outside it: absolute names, ".."
// components, symbolic links whose target is absolute or climbs out, hard
// links to anything but an earlier regular file, entries reached through a
// symbolic link, and device or FIFO nodes. It returns the regular files, as
// clean slash paths.
func extractTarGz(archive, dest string) ([]string, error) {
	f, st, err := regular.Open(archive)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// A gzip stream expands up to ~1000x: what the entries may claim in
	// all is bounded by the tarball's size (a build's tarball of ELF
	// files is 2-5x), so a small hostile tarball cannot fill the disk.
	limit := maxExtractBase + maxExtractRatio*st.Size()
	x := &extraction{dest: dest, limit: limit, budget: limit, regFiles: map[string]bool{}}
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("not a gzip'd tarball: %w", err)
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading the tarball: %w", err)
		}
		if err := x.entry(h, tr); err != nil {
			return nil, err
		}
	}
	if err := linksStayInside(dest, x.links); err != nil {
		return nil, err
	}
	sort.Strings(x.files)
	return x.files, nil
}

// extraction is what extractTarGz has written so far into dest.
type extraction struct {
	dest   string
	limit  int64 // what the regular files may add up to
	budget int64 // what is left of limit

	files    []string        // the regular files (and hard links to them), once each
	regFiles map[string]bool // the same, as a set: what a hard link may name
	links    []string        // the symbolic links, checked for real at the end
}

// entry writes one entry of the tarball, whose content r reads, or refuses it.
func (x *extraction) entry(h *tar.Header, r io.Reader) error {
	name, err := safeName(h.Name)
	if err != nil {
		return err
	}
	if name == "." {
		return nil
	}
	if err := noLinkOnTheWay(x.dest, name); err != nil {
		return err
	}
	host := filepath.Join(x.dest, filepath.FromSlash(name))
	switch h.Typeflag {
	case tar.TypeDir:
		return os.MkdirAll(host, 0o755)
	case tar.TypeReg:
		return x.regular(h, name, host, r)
	case tar.TypeSymlink:
		return x.symlink(h, name, host)
	case tar.TypeLink:
		return x.hardLink(h, name, host)
	case tar.TypeXGlobalHeader, tar.TypeXHeader:
		return nil
	default:
		return fmt.Errorf("entry %q has type %q (device, FIFO or unknown): refused", h.Name, string(h.Typeflag))
	}
}

// regular writes a regular file, within the budget, owner-writable.
func (x *extraction) regular(h *tar.Header, name, host string, r io.Reader) error {
	if x.budget -= h.Size; x.budget < 0 {
		return fmt.Errorf("entry %q: the tarball's files add up to more than %d bytes, %d times its size: refused (is it a relpack artifact?)", h.Name, x.limit, maxExtractRatio)
	}
	if err := os.MkdirAll(filepath.Dir(host), 0o755); err != nil {
		return err
	}
	if err := writeFile(host, r, h.FileInfo().Mode().Perm()|0o200); err != nil {
		return err
	}
	x.addFile(name)
	return nil
}

// symlink makes a symbolic link whose target stays, as written, inside
// the archive (linksStayInside checks it for real at the end).
func (x *extraction) symlink(h *tar.Header, name, host string) error {
	t := h.Linkname
	if t == "" || path.IsAbs(t) {
		return fmt.Errorf("entry %q is a symbolic link to %q: absolute link targets are refused (they would point at the host)", h.Name, t)
	}
	if resolved := path.Join(path.Dir(name), t); resolved == ".." || strings.HasPrefix(resolved, "../") {
		return fmt.Errorf("entry %q is a symbolic link to %q, outside the archive: refused", h.Name, t)
	}
	if err := os.MkdirAll(filepath.Dir(host), 0o755); err != nil {
		return err
	}
	if err := os.Symlink(t, host); err != nil {
		return err
	}
	x.links = append(x.links, name)
	return nil
}

// hardLink links to an earlier regular file of the archive.
func (x *extraction) hardLink(h *tar.Header, name, host string) error {
	target, err := safeName(h.Linkname)
	if err != nil || !x.regFiles[target] {
		return fmt.Errorf("entry %q is a hard link to %q, which is not an earlier regular file of the archive: refused", h.Name, h.Linkname)
	}
	if err := os.MkdirAll(filepath.Dir(host), 0o755); err != nil {
		return err
	}
	if err := os.Link(filepath.Join(x.dest, filepath.FromSlash(target)), host); err != nil {
		return err
	}
	x.addFile(name)
	return nil
}

// addFile records a regular file once.
func (x *extraction) addFile(name string) {
	if !x.regFiles[name] {
		x.files = append(x.files, name)
	}
	x.regFiles[name] = true
}

// linksStayInside resolves every symbolic link of the extracted tree for
// real (a lexically harmless target can still climb out through another
// link) and refuses the artifact if one ends outside dest or nowhere.
func linksStayInside(dest string, links []string) error {
	realDest, err := filepath.EvalSymlinks(dest)
	if err != nil {
		return err
	}
	for _, l := range links {
		got, err := filepath.EvalSymlinks(filepath.Join(dest, filepath.FromSlash(l)))
		if err != nil {
			return fmt.Errorf("entry %q is a symbolic link that leads nowhere inside the archive: refused", l)
		}
		if got != realDest && !strings.HasPrefix(got, realDest+string(filepath.Separator)) {
			return fmt.Errorf("entry %q is a symbolic link that leads outside the archive: refused", l)
		}
	}
	return nil
}

// safeName checks one archive path and returns it clean and relative.
func safeName(n string) (string, error) {
	if n == "" {
		return "", errors.New("entry with an empty name: refused")
	}
	if path.IsAbs(n) {
		return "", fmt.Errorf("entry %q has an absolute path: refused", n)
	}
	for _, c := range strings.Split(n, "/") {
		if c == ".." {
			return "", fmt.Errorf("entry %q contains \"..\": refused", n)
		}
	}
	return path.Clean(n), nil
}

// noLinkOnTheWay refuses an entry whose parent folders include a symbolic
// link made by an earlier entry: writing through it could leave dest.
func noLinkOnTheWay(dest, name string) error {
	parts := strings.Split(name, "/")
	cur := dest
	for _, p := range parts[:len(parts)-1] {
		cur = filepath.Join(cur, p)
		fi, err := os.Lstat(cur)
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if !fi.IsDir() {
			return fmt.Errorf("entry %q goes through %q, which is not a folder (a symbolic link?): refused", name, strings.TrimPrefix(cur, dest+string(filepath.Separator)))
		}
	}
	// The entry itself must not replace an existing link or folder silently.
	if fi, err := os.Lstat(filepath.Join(dest, filepath.FromSlash(name))); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		return fmt.Errorf("entry %q would overwrite a symbolic link of the archive: refused", name)
	}
	return nil
}

func writeFile(host string, r io.Reader, mode os.FileMode) error {
	out, err := os.OpenFile(host, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, r); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Chmod(host, mode) // the umask must not decide the mode
}

// tripleSuffix matches the target part of an artifact name:
// "openshell-gateway-x86_64-unknown-linux-gnu" -> "openshell-gateway".
var tripleSuffix = regexp.MustCompile(`-(x86_64|aarch64|amd64|arm64|i[3-6]86|armv7[a-z]*|riscv64[a-z]*|ppc64le|s390x)([-_.].*)?$`)

// artifactStem is the tarball's name without the extension.
func artifactStem(archive string) string {
	b := filepath.Base(archive)
	for _, ext := range []string{".tar.gz", ".tgz", ".gz"} {
		if strings.HasSuffix(b, ext) {
			return strings.TrimSuffix(b, ext)
		}
	}
	return b
}

// pickBinary finds the program to start in an extracted artifact, in this
// order: the binary named explicitly; the archive root file named like the
// tarball's prefix; bin/<prefix> (the sidecar layout, bin/ and lib/); the
// same two under a single top folder; the only ELF executable at the root or
// in bin/.
func pickBinary(archive, dest string, files []string, want string) (string, error) {
	has := map[string]bool{}
	for _, f := range files {
		has[f] = true
	}
	if want != "" {
		n, err := safeName(want)
		if err != nil {
			return "", err
		}
		if !has[n] {
			return "", fmt.Errorf("the artifact has no file %q (files: %s)", want, strings.Join(files, ", "))
		}
		return n, nil
	}
	stem := artifactStem(archive)
	prog := tripleSuffix.ReplaceAllString(stem, "")
	var tops []string
	tops = append(tops, "")
	if top := singleTop(files); top != "" {
		tops = append(tops, top+"/")
	}
	for _, top := range tops {
		for _, name := range uniq(prog, stem) {
			for _, c := range []string{top + name, top + "bin/" + name} {
				if has[c] {
					return c, nil
				}
			}
		}
	}
	var elfs []string
	for _, f := range files {
		d := path.Dir(f)
		if d != "." && d != "bin" && !strings.HasSuffix(d, "/bin") && strings.Contains(d, "/") {
			continue
		}
		if isELFExecutable(filepath.Join(dest, filepath.FromSlash(f))) {
			elfs = append(elfs, f)
		}
	}
	if len(elfs) == 1 {
		return elfs[0], nil
	}
	return "", fmt.Errorf("cannot tell which file of the artifact to start: none is named %q or bin/%s (files: %s); name it with --bin", prog, prog, strings.Join(files, ", "))
}

func uniq(a, b string) []string {
	if a == b {
		return []string{a}
	}
	return []string{a, b}
}

func singleTop(files []string) string {
	top := ""
	for _, f := range files {
		i := strings.IndexByte(f, '/')
		if i < 0 {
			return ""
		}
		if top == "" {
			top = f[:i]
		} else if top != f[:i] {
			return ""
		}
	}
	return top
}

func isELFExecutable(p string) bool {
	fi, err := os.Stat(p)
	if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
		return false
	}
	f, _, err := regular.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	var m [4]byte
	if _, err := io.ReadFull(f, m[:]); err != nil {
		return false
	}
	return string(m[:]) == "\x7fELF"
}
