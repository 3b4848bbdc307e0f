package pack

import (
	"archive/tar"
	"compress/gzip"
	"crypto/md5" // deb md5sums, as dpkg writes them
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"
	"time"

	"github.com/goreleaser/nfpm/v2/files"
	"github.com/klauspost/compress/zstd"
)

// PayloadCache holds the compressed data members (data.tar.*) of the debs
// of one build, so that debs holding the same files (the debian11 and
// debian12 packages of one arch, the Ubuntu ones) compress them once. A
// payload is keyed by a digest of everything its bytes depend on: each
// entry's content sha256, name, type, mode, owner, group and mtime, and the
// compression. Concurrent requests for one payload wait for the one
// compression. Payloads are files in Dir, which lives as long as the build
// (relpack build puts it in its staging folder); the cache never removes
// them.
type PayloadCache struct {
	dir string
	mu  sync.Mutex
	m   map[string]*debPayload
	n   int
	// chunks are the compressed chunks (xz blocks, zstd frames) of the
	// payloads, by a digest of codec and bytes: payloads that differ only
	// in their tail (the changelog names the distro's version) share the
	// compression of everything before it.
	chunks     map[string]*chunkEntry
	compressed int
}

// NewPayloadCache returns a cache writing its payloads into dir (created
// if missing).
func NewPayloadCache(dir string) *PayloadCache {
	return &PayloadCache{dir: dir, m: map[string]*debPayload{}, chunks: map[string]*chunkEntry{}}
}

// debPayload is a deb's data member, compressed, in a file: what the
// control member needs from it (md5sums, installed size) and its ar name.
type debPayload struct {
	ready   chan struct{}
	err     error
	path    string
	name    string // data.tar.xz, ...
	md5sums []byte
	// installedKiB is the control file's Installed-Size (see installedKiB).
	installedKiB int64
}

// installedKiB is what dpkg-gencontrol counts for one entry of the package
// tree when it computes Installed-Size itself (dpkg 1.21.22,
// scripts/dpkg-gencontrol.pl, the $scan_installed_size sub that File::Find
// runs over the package build directory, the directory itself included):
//
//   - a regular file or a symbolic link counts its lstat size in KiB,
//     rounded up (POSIX::ceil(size / 1024)): an empty file counts 0, a file
//     of 1024 bytes 1, of 1025 bytes 2, a symbolic link the length of its
//     target (1 for any target under 1 KiB);
//   - anything else, a directory above all, counts 1;
//   - a second name of a hard-linked file counts 0 (relpack writes no hard
//     links: every file of a deb is its own tar entry).
//
// relpack counts the tree dpkg-deb -x extracts from the data member: its
// top directory (nfpm writes no ./ entry; dpkg-gencontrol counts its
// -P folder) and every entry. The control member is not counted: what
// dpkg-gencontrol finds in DEBIAN/ depends on the build steps before it
// (a debhelper build has the maintainer scripts there but not yet
// md5sums), and none of it is installed where the package's files go.
func installedKiB(size int64) int64 { return (size + 1023) / 1024 }

// get returns the payload of key, building it with build into a new file
// in the cache folder when it is the first to ask.
func (c *PayloadCache) get(key string, build func(f *os.File, p *debPayload) error) (*debPayload, error) {
	c.mu.Lock()
	if p, ok := c.m[key]; ok {
		c.mu.Unlock()
		<-p.ready
		return p, p.err
	}
	p := &debPayload{ready: make(chan struct{})}
	c.m[key] = p
	c.n++
	c.mu.Unlock()
	defer close(p.ready)
	p.err = func() error {
		if err := os.MkdirAll(c.dir, 0o700); err != nil {
			return err
		}
		f, err := os.CreateTemp(c.dir, "payload-*")
		if err != nil {
			return err
		}
		p.path = f.Name()
		if err := build(f, p); err != nil {
			f.Close()
			os.Remove(p.path)
			return err
		}
		return f.Close()
	}()
	return p, p.err
}

// payloadKey digests what a deb's data member is made of (nfpm's prepared
// contents, the package mtime that directories get, the compression).
func payloadKey(contents files.Contents, mtime time.Time, compression string) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "relpack deb data v1\x00%s\x00%d\x00", compression, mtime.UnixNano())
	for _, c := range contents {
		fi := c.FileInfo
		fmt.Fprintf(h, "%s\x00%s\x00%o\x00%s\x00%s\x00%d\x00%d\x00", c.Type, c.Destination, fi.Mode, fi.Owner, fi.Group, fi.MTime.UnixNano(), fi.Size)
		switch c.Type {
		case files.TypeDir, files.TypeImplicitDir, files.TypeRPMGhost:
		case files.TypeSymlink:
			fmt.Fprintf(h, "%s\x00", c.Source)
		default:
			sum, _, err := SHA256File(c.Source)
			if err != nil {
				return "", fmt.Errorf("file %s: %w", c.Destination, err)
			}
			fmt.Fprintf(h, "%s\x00", sum)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// nopWriteCloser is a WriteCloser whose Close does nothing (data.tar
// without compression).
type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

// debCompressor is the data member's name and compressor for a deb
// compression, with nfpm's settings (gzip -9, xz with ulikunitz/xz's
// defaults, zstd at SpeedBetterCompression). xz is written in chunks
// compressed on every core and shared through cache (see chunkedWriter);
// zstd is one frame (see chunkSize); gzip stays one single-threaded stream
// (pgzip cannot write gzip's empty timestamp).
func debCompressor(compression string, w io.Writer, cache *PayloadCache) (string, io.WriteCloser, error) {
	switch compression {
	case "gzip", "":
		zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
		return "data.tar.gz", zw, err
	case "xz":
		return "data.tar.xz", newChunkedWriter(w, xzCodec{}, cache), nil
	case "zstd":
		// One frame (see chunkSize); klauspost's stream encoder writes the
		// same bytes with any concurrency.
		zw, err := zstd.NewWriter(w, zstd.WithEncoderLevel(zstd.SpeedBetterCompression))
		return "data.tar.zst", zw, err
	case "none":
		return "data.tar", nopWriteCloser{w}, nil
	}
	return "", nil, fmt.Errorf("unknown compression %q", compression)
}

// writeDebData writes the data tarball of contents (prepared by nfpm, in
// its order) through the compression into w, as nfpm's deb writer does,
// and fills p's name, md5sums and installed size.
func writeDebData(contents files.Contents, mtime time.Time, compression string, w io.Writer, p *debPayload, cache *PayloadCache) error {
	name, zw, err := debCompressor(compression, w, cache)
	if err != nil {
		return err
	}
	p.name = name
	tw := tar.NewWriter(zw)
	var md5sums []byte
	p.installedKiB = 1 // the top directory (see installedKiB)
	for _, c := range contents {
		switch c.Type {
		case files.TypeRPMGhost:
			continue
		case files.TypeDir, files.TypeImplicitDir:
			h, err := debTarHeader(c, mtime)
			if err != nil {
				return err
			}
			if err := tw.WriteHeader(h); err != nil {
				return fmt.Errorf("directory %s: %w", c.Destination, err)
			}
			if files.NormalizeAbsoluteFilePath(c.Destination) != "/" { // counted already
				p.installedKiB++
			}
		case files.TypeSymlink:
			h, err := debTarHeader(c, mtime)
			if err != nil {
				return err
			}
			if err := tw.WriteHeader(h); err != nil {
				return fmt.Errorf("symlink %s: %w", c.Destination, err)
			}
			p.installedKiB += installedKiB(int64(len(h.Linkname)))
		case files.TypeDebChangelog:
			return fmt.Errorf("%s: nfpm's changelog entries are not supported; relpack adds the changelog as a file", c.Destination)
		default:
			h, err := debTarHeader(c)
			if err != nil {
				return err
			}
			sum, err := copyToTar(tw, h, c.Source)
			if err != nil {
				return fmt.Errorf("file %s: %w", c.Destination, err)
			}
			md5sums = fmt.Appendf(md5sums, "%x  %s\n", sum, files.AsRelativePath(h.Name))
			p.installedKiB += installedKiB(h.Size)
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("compressing %s: %w", name, err)
	}
	p.md5sums = md5sums
	return nil
}

func copyToTar(tw *tar.Writer, h *tar.Header, src string) ([]byte, error) {
	f, err := os.Open(src)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if err := tw.WriteHeader(h); err != nil {
		return nil, err
	}
	d := md5.New()
	n, err := io.Copy(tw, io.TeeReader(f, d))
	if err != nil {
		return nil, err
	}
	if n != h.Size {
		return nil, fmt.Errorf("%s changed while it was packaged (%d bytes, %d expected)", src, n, h.Size)
	}
	return d.Sum(nil), nil
}

// debTarHeader is nfpm's tar header of a content (deb/deb.go tarHeader):
// GNU format, the owner and group names, the mode's low 12 bits plus Go's
// setuid/setgid/sticky flags, the first non-zero of the preferred times and
// the content's own.
func debTarHeader(c *files.Content, preferred ...time.Time) (*tar.Header, error) {
	fm := c.Mode()
	mt := c.ModTime()
	for i := len(preferred) - 1; i >= 0; i-- {
		if !preferred[i].IsZero() {
			mt = preferred[i]
		}
	}
	if mt.IsZero() {
		return nil, fmt.Errorf("%s: no mtime; the clock would be written", c.Destination)
	}
	h := &tar.Header{
		Name:    c.Name(),
		ModTime: mt,
		Mode:    int64(fm & 0o7777),
		Uname:   c.FileInfo.Owner,
		Gname:   c.FileInfo.Group,
		Format:  tar.FormatGNU,
	}
	switch {
	case c.IsDir() || fm&fs.ModeDir != 0:
		h.Typeflag = tar.TypeDir
		h.Name = files.AsExplicitRelativePath(c.Destination)
	case c.Type == files.TypeSymlink || fm&fs.ModeSymlink != 0:
		h.Typeflag = tar.TypeSymlink
		h.Name = files.AsExplicitRelativePath(c.Destination)
		h.Linkname = c.Source
	case fm&(fs.ModeDevice|fs.ModeNamedPipe|fs.ModeSocket) != 0:
		return nil, fmt.Errorf("%s: special files are not supported", c.Destination)
	default:
		h.Typeflag = tar.TypeReg
		h.Name = files.AsExplicitRelativePath(c.Destination)
		h.Size = c.Size()
	}
	if fm&fs.ModeSetuid != 0 {
		h.Mode |= 0o4000
	}
	if fm&fs.ModeSetgid != 0 {
		h.Mode |= 0o2000
	}
	if fm&fs.ModeSticky != 0 {
		h.Mode |= 0o1000
	}
	return h, nil
}

// counts are the numbers of payloads and chunks the cache compressed
// (tests).
func (c *PayloadCache) counts() (payloads, chunks int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n, c.compressed
}
