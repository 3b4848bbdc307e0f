package pack

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/mholt/archives"
)

// TarEntry is one file or directory of a tarball.
type TarEntry struct {
	// Name is the slash-separated path in the archive, relative and clean:
	// "openshell-gateway", "bin/openshell-gateway", "lib/libz3.so.4".
	Name string
	// Src is the file on disk whose content is archived. Symbolic links are
	// followed: the archive holds the content, never a link to the build
	// host.
	Src string
	// Data is inline content, used instead of Src (a nil Data with an empty
	// Src is an error; an empty non-nil Data is an empty file).
	Data []byte
	// Mode holds the permission bits written to the archive. It is never
	// taken from the file on disk (that would leak the build host's umask),
	// so it must be given: 0 is an error.
	Mode fs.FileMode
	// IsDir makes the entry a directory (Src and Data must be empty). Parent
	// directories need not be listed: WriteTarGz adds them with mode 0755.
	IsDir bool
}

// tarGzipLevel is the deflate level of tarballs, for klauspost/compress's
// gzip. Measured on machine code (16 MiB of the Go toolchain's binaries,
// this machine): the standard library's level 9 gives a ratio of 0.386 at
// 9.5 MB/s; klauspost's level 7 gives 0.389 at 48 MB/s, and its level 9
// 0.385 at 9 MB/s. A tarball 0.8% larger for a fifth of the CPU time is
// the trade a release job wants: the six tarballs of a release were half
// of its compression time (docs/benchmarks.md, run 3).
const tarGzipLevel = 7

// WriteTarGz writes a gzip'd tar of entries to path, atomically and
// reproducibly:
//
//   - entries are sorted by name, and every parent directory is emitted
//     (mode 0755 unless listed) before its contents;
//   - every entry is owned by root:root (uid/gid 0, uname/gname "root") and
//     has mtime as its modification time; no atime or ctime is recorded;
//   - the tar format is POSIX pax: each header is plain ustar when it fits
//     (all short ASCII names do), and a pax extended header carries only
//     what ustar cannot hold (long or non-ASCII names, sizes over 8 GiB).
//     GNU extensions are never needed, and every tar reads pax;
//   - the gzip header has no file name, a zero mtime ("not set", RFC 1952)
//     and the OS byte 255 ("unknown"), written by single-threaded
//     klauspost/compress/gzip.
//
// mtime is normally SOURCE_DATE_EPOCH; it is truncated to whole seconds and
// must not be before 1970.
func WriteTarGz(path string, entries []TarEntry, mtime time.Time) error {
	mtime, err := checkMTime(mtime)
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	items, err := planTar(entries, mtime)
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	files := make([]archives.FileInfo, len(items))
	for i, it := range items {
		files[i] = it.fileInfo()
	}

	// archives builds each tar header from the fs.FileInfo it is given
	// (tar.FileInfoHeader), so owner, mode and mtime are ours, not the
	// disk's: tarFileInfo says so. archives' own Gz compressor is not used,
	// so the gzip header is ours: klauspost's gzip writes
	// uint32(ModTime.Unix()) even when ModTime is unset, which for the zero
	// time.Time is 2288912640 (a date in 2042), not the "no timestamp" 0;
	// ModTime is therefore set to the Unix epoch, which writes 0.
	format := archives.Tar{Format: tar.FormatPAX}
	return WriteFileAtomic(path, func(w io.Writer) error {
		zw, err := gzip.NewWriterLevel(w, tarGzipLevel)
		if err != nil {
			return err
		}
		// The header fields are set explicitly so a change of defaults
		// in the gzip package cannot change the bytes.
		zw.Header = gzip.Header{OS: 255, ModTime: time.Unix(0, 0)}
		if err := format.Archive(context.Background(), zw, files); err != nil {
			return err
		}
		// archives.Tar.Archive closes its tar.Writer in a defer and drops
		// that error; a write failure of the trailer is still caught
		// here, because gzip.Writer keeps the first write error and
		// returns it from Close. A short file is caught by the reader
		// (sizeCheckedFile), a file that grew by checkUnchanged.
		if err := zw.Close(); err != nil {
			return err
		}
		return checkUnchanged(items)
	})
}

// checkMTime validates and normalises an artifact mtime.
func checkMTime(mtime time.Time) (time.Time, error) {
	if mtime.IsZero() {
		return time.Time{}, errors.New("no modification time given; pass SOURCE_DATE_EPOCH (or the release commit time) so the output is reproducible")
	}
	if mtime.Unix() < 0 {
		return time.Time{}, fmt.Errorf("modification time %s is before 1970; check SOURCE_DATE_EPOCH", mtime.UTC().Format(time.RFC3339))
	}
	return mtime.Truncate(time.Second).UTC(), nil
}

// tarItem is one planned archive member.
type tarItem struct {
	name  string // archive name; directories end in "/"
	src   string // file to read, or ""
	data  []byte // inline content when src == ""
	size  int64
	mode  fs.FileMode // permission bits | fs.ModeDir for directories
	mtime time.Time
	// What src looked like when planned; checked again after writing.
	srcSize  int64
	srcMTime time.Time
}

// planTar validates entries, adds the implicit parent directories and
// returns every member in archive order.
func planTar(entries []TarEntry, mtime time.Time) ([]*tarItem, error) {
	byName := map[string]*tarItem{}
	for i, e := range entries {
		if err := checkArchiveName(e.Name); err != nil {
			return nil, fmt.Errorf("tar entry %d: %w", i, err)
		}
		if e.Mode == 0 {
			return nil, fmt.Errorf("tar entry %s: no mode given; set Mode (e.g. 0755 for executables, 0644 for other files)", e.Name)
		}
		if e.Mode&^(fs.ModePerm) != 0 {
			return nil, fmt.Errorf("tar entry %s: mode %v has more than permission bits; give only 0..0777", e.Name, e.Mode)
		}
		if _, dup := byName[e.Name]; dup {
			return nil, fmt.Errorf("tar entry %s is listed twice", e.Name)
		}
		it := &tarItem{name: e.Name, mode: e.Mode, mtime: mtime}
		switch {
		case e.IsDir:
			if e.Src != "" || e.Data != nil {
				return nil, fmt.Errorf("tar entry %s is a directory but has content (Src or Data)", e.Name)
			}
			it.mode |= fs.ModeDir
			it.name += "/"
		case e.Src != "" && e.Data != nil:
			return nil, fmt.Errorf("tar entry %s has both Src and Data; give one", e.Name)
		case e.Src != "":
			st, err := os.Stat(e.Src)
			if err != nil {
				return nil, fmt.Errorf("tar entry %s: %w", e.Name, err)
			}
			if !st.Mode().IsRegular() {
				return nil, fmt.Errorf("tar entry %s: %s is not a regular file (%v); only files and explicit directories are archived", e.Name, e.Src, st.Mode().Type())
			}
			it.src, it.size = e.Src, st.Size()
			it.srcSize, it.srcMTime = st.Size(), st.ModTime()
		case e.Data != nil:
			it.data, it.size = e.Data, int64(len(e.Data))
		default:
			return nil, fmt.Errorf("tar entry %s has no content; set Src, Data or IsDir", e.Name)
		}
		byName[e.Name] = it
	}

	// Parents first: an extractor that meets "lib/x" before "lib/" creates
	// lib with its own umask-dependent mode.
	for _, e := range entries {
		for dir := path.Dir(e.Name); dir != "."; dir = path.Dir(dir) {
			if it, ok := byName[dir]; ok {
				if !it.mode.IsDir() {
					return nil, fmt.Errorf("tar entry %s is a file, but %s is inside it", dir, e.Name)
				}
				continue
			}
			byName[dir] = &tarItem{name: dir + "/", mode: fs.ModeDir | 0o755, mtime: mtime}
		}
	}

	items := make([]*tarItem, 0, len(byName))
	for _, it := range byName {
		items = append(items, it)
	}
	// Byte order of the archive names. A directory's name ("lib/") is a
	// prefix of its children's, so it always sorts before them.
	sort.Slice(items, func(i, j int) bool { return items[i].name < items[j].name })
	return items, nil
}

// checkArchiveName refuses names that are not clean, relative, forward
// paths: an archive must extract inside the directory it is extracted in.
func checkArchiveName(name string) error {
	switch {
	case name == "":
		return errors.New("empty name")
	case strings.HasPrefix(name, "/"):
		return fmt.Errorf("name %q is absolute; archive names are relative (e.g. %q)", name, strings.TrimLeft(name, "/"))
	case strings.Contains(name, "\\"):
		return fmt.Errorf("name %q contains a backslash; use / between path elements", name)
	case path.Clean(name) != name || name == ".":
		return fmt.Errorf("name %q is not a clean path (no trailing /, //, . or .. elements)", name)
	case name == ".." || strings.HasPrefix(name, "../"):
		return fmt.Errorf("name %q points outside the archive", name)
	}
	return nil
}

// checkUnchanged reports a source file that changed while it was archived
// (the archive would hold a torn copy).
func checkUnchanged(items []*tarItem) error {
	for _, it := range items {
		if it.src == "" {
			continue
		}
		st, err := os.Stat(it.src)
		if err != nil {
			return fmt.Errorf("%s: %w", it.src, err)
		}
		if st.Size() != it.srcSize || !st.ModTime().Equal(it.srcMTime) {
			return fmt.Errorf("%s changed while it was being archived; make sure nothing writes the inputs during the build, then retry", it.src)
		}
	}
	return nil
}

func (it *tarItem) fileInfo() archives.FileInfo {
	fi := tarFileInfo{name: path.Base(it.name), size: it.size, mode: it.mode, mtime: it.mtime}
	return archives.FileInfo{
		FileInfo:      fi,
		NameInArchive: it.name,
		Open: func() (fs.File, error) {
			if it.src == "" {
				return &memFile{Reader: bytes.NewReader(it.data), fi: fi}, nil
			}
			f, err := os.Open(it.src)
			if err != nil {
				return nil, err
			}
			return &sizeCheckedFile{f: f, fi: fi, path: it.src}, nil
		},
	}
}

// tarFileInfo is the fs.FileInfo handed to archives. tar.FileInfoHeader
// takes Uid, Gid, Uname and Gname from Sys() when it is a *tar.Header, and
// only looks at the disk (syscall.Stat_t, /etc/passwd) otherwise. Setting
// archives.Tar{Uid: 0} instead would not work: archives treats 0 as "not
// set" and keeps whatever FileInfoHeader found.
type tarFileInfo struct {
	name  string
	size  int64
	mode  fs.FileMode
	mtime time.Time
}

func (fi tarFileInfo) Name() string       { return fi.name }
func (fi tarFileInfo) Size() int64        { return fi.size }
func (fi tarFileInfo) Mode() fs.FileMode  { return fi.mode }
func (fi tarFileInfo) ModTime() time.Time { return fi.mtime }
func (fi tarFileInfo) IsDir() bool        { return fi.mode.IsDir() }
func (fi tarFileInfo) Sys() any {
	// AccessTime and ChangeTime stay zero: none is written.
	return &tar.Header{Uid: 0, Gid: 0, Uname: "root", Gname: "root"}
}

// memFile is inline Data as an fs.File.
type memFile struct {
	*bytes.Reader
	fi tarFileInfo
}

func (m *memFile) Stat() (fs.FileInfo, error) { return m.fi, nil }
func (m *memFile) Close() error               { return nil }

// sizeCheckedFile turns a source file that ends before its planned size
// into an error. archives copies exactly Size() bytes and treats an early
// EOF as success, and the tar.Writer error about the missing bytes would be
// lost in archives' deferred Close: the tarball would be silently corrupt.
type sizeCheckedFile struct {
	f    *os.File
	fi   tarFileInfo
	path string
	n    int64
}

func (s *sizeCheckedFile) Read(p []byte) (int, error) {
	n, err := s.f.Read(p)
	s.n += int64(n)
	if err == io.EOF && s.n < s.fi.size {
		return n, fmt.Errorf("%s shrank while it was being archived (%d of %d bytes); make sure nothing writes the inputs during the build, then retry", s.path, s.n, s.fi.size)
	}
	return n, err
}

func (s *sizeCheckedFile) Stat() (fs.FileInfo, error) { return s.fi, nil }
func (s *sizeCheckedFile) Close() error               { return s.f.Close() }
