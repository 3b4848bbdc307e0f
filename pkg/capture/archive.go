package capture

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz/lzma"

	"relpack/internal/xzread"
)

// What capture holds in memory or decompresses, for a package file of n
// bytes. A package is small and compressed, and a compressed stream
// expands up to ~1000x (gzip) or far more (xz, zstd of zeros), so each
// limit is checked against the size a tar or cpio header declares before
// anything is read, and the decompressed bytes are counted as they come:
//
//   - every decompressed stream of one package together: at most
//     expandBase + expandRatio x n bytes (a distro's library packages
//     expand 2-5x; libz3-4's 7 MB deb holds a 23 MB library);
//   - one ELF file read into memory: at most maxMember, and within what
//     is left of that budget;
//   - the deb's control, shlibs and symbols files: maxControl, maxShlibs
//     and maxSymbols (Debian's largest symbols files, libstdc++6 and
//     libssl3, are 420 KB and 250 KB);
//   - an rpm's two headers: rpm's own limits (0xffff entries, 256 MiB),
//     and no more than the file holds.
const (
	expandBase  = 64 << 20
	expandRatio = 64
	maxMember   = 1 << 30
	maxControl  = 1 << 20
	maxShlibs   = 1 << 20
	maxSymbols  = 16 << 20
)

// budget counts the bytes a package's decompressors have produced.
type budget struct {
	left, limit, size int64
}

func newBudget(size int64) *budget {
	l := int64(expandBase) + expandRatio*max(size, 0)
	return &budget{left: l, limit: l, size: size}
}

func (b *budget) err() error {
	return fmt.Errorf("decompresses to more than %d bytes (%d MiB + %d times the file's %d bytes): a compression bomb, not a distro package", b.limit, expandBase>>20, expandRatio, b.size)
}

// budgetReader charges what it reads to a budget, and fails once over.
type budgetReader struct {
	r io.Reader
	b *budget
}

func (br *budgetReader) Read(p []byte) (int, error) {
	if br.b.left <= 0 {
		return 0, br.b.err()
	}
	if int64(len(p)) > br.b.left {
		p = p[:br.b.left]
	}
	n, err := br.r.Read(p)
	br.b.left -= int64(n)
	return n, err
}

// readExactly reads a file of declared size n (a tar or cpio member,
// whose reader delivers exactly n bytes or an error) into one buffer of
// that size: no growing, no more than declared.
func readExactly(r io.Reader, n int64) ([]byte, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, err
	}
	return b, nil
}

// decompress wraps r in the decompressor its first bytes name: gzip, xz,
// zstd, bzip2, lzma (rpm's legacy "lzma" payloads) or none (uncompressed
// tar or cpio), whose output is charged to bud. The caller closes the
// returned closer.
func decompress(r io.Reader, bud *budget) (io.Reader, func(), error) {
	z, closeFn, err := decompressor(r)
	if err != nil {
		return nil, closeFn, err
	}
	return &budgetReader{z, bud}, closeFn, nil
}

func decompressor(r io.Reader) (io.Reader, func(), error) {
	br := bufio.NewReaderSize(r, 1<<16)
	head, _ := br.Peek(6)
	none := func() {}
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		z, err := gzip.NewReader(br)
		if err != nil {
			return nil, none, err
		}
		return z, func() { z.Close() }, nil
	case bytes.HasPrefix(head, []byte{0xfd, '7', 'z', 'X', 'Z', 0}):
		z, err := xzread.NewReader(br) // not xz.NewReader: a block may claim a 4 GiB dictionary
		if err != nil {
			return nil, none, err
		}
		return z, none, nil
	case bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		z, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(256<<20))
		if err != nil {
			return nil, none, err
		}
		return z, z.Close, nil
	case bytes.HasPrefix(head, []byte("BZh")):
		return bzip2.NewReader(br), none, nil
	case len(head) >= 1 && head[0] == 0x5d: // lzma alone: properties byte 0x5d for the default lc/lp/pb
		// The header's dictionary size is allocated at once: lzma -9
		// uses 64 MiB.
		z, err := lzma.ReaderConfig{DictCap: 64 << 20}.NewReader(br)
		if err != nil {
			return nil, none, err
		}
		return z, none, nil
	}
	return br, none, nil
}

// arMember is one member of an ar archive (a .deb).
type arMember struct {
	name string
	data io.Reader
}

// readAr calls fn for each member of the ar archive r, in order; a member's
// reader is valid only during its call.
func readAr(r io.Reader, fn func(arMember) error) error {
	br := bufio.NewReader(r)
	magic := make([]byte, 8)
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != "!<arch>\n" {
		return errors.New("not an ar archive (a .deb starts with \"!<arch>\\n\")")
	}
	hdr := make([]byte, 60)
	for {
		if _, err := io.ReadFull(br, hdr); err != nil {
			if err == io.EOF {
				return nil
			}
			return fmt.Errorf("truncated ar header: %w", err)
		}
		if string(hdr[58:60]) != "`\n" {
			return errors.New("malformed ar member header")
		}
		name := strings.TrimRight(strings.TrimSpace(string(hdr[0:16])), "/")
		size, err := strconv.ParseInt(strings.TrimSpace(string(hdr[48:58])), 10, 64)
		if err != nil || size < 0 {
			return fmt.Errorf("ar member %q: bad size %q", name, strings.TrimSpace(string(hdr[48:58])))
		}
		lr := &io.LimitedReader{R: br, N: size}
		if err := fn(arMember{name: name, data: lr}); err != nil {
			return err
		}
		if _, err := io.Copy(io.Discard, lr); err != nil {
			return err
		}
		if lr.N > 0 {
			return fmt.Errorf("ar member %q is truncated", name)
		}
		if size%2 == 1 {
			if _, err := br.ReadByte(); err != nil && err != io.EOF {
				return err
			}
		}
	}
}

// cpioEntry is one entry of a cpio "newc" archive (an rpm payload).
type cpioEntry struct {
	name string
	mode uint32
	size int64
	data io.Reader
}

const (
	cpioTypeMask = 0o170000
	cpioRegular  = 0o100000
)

// readCpio calls fn for each entry of the cpio newc ("070701") or newc
// with checksum ("070702") archive r until the TRAILER!!! entry.
func readCpio(r io.Reader, fn func(cpioEntry) error) error {
	br := bufio.NewReaderSize(r, 1<<16)
	var off int64
	skip := func(n int64) error {
		m, err := io.CopyN(io.Discard, br, n)
		off += m
		return err
	}
	hdr := make([]byte, 110)
	for {
		if _, err := io.ReadFull(br, hdr); err != nil {
			return fmt.Errorf("truncated cpio header: %w", err)
		}
		off += 110
		magic := string(hdr[:6])
		if magic != "070701" && magic != "070702" {
			return fmt.Errorf("cpio magic %q: only the newc format (070701) rpm writes is read", magic)
		}
		field := func(i int) (uint64, error) {
			return strconv.ParseUint(string(hdr[6+8*i:14+8*i]), 16, 32)
		}
		mode, err1 := field(1)
		size, err2 := field(6)
		namesize, err3 := field(11)
		if err := errors.Join(err1, err2, err3); err != nil || namesize == 0 || namesize > 1<<16 {
			return fmt.Errorf("malformed cpio header at byte %d", off-110)
		}
		name := make([]byte, namesize)
		if _, err := io.ReadFull(br, name); err != nil {
			return fmt.Errorf("truncated cpio name: %w", err)
		}
		off += int64(namesize)
		if err := skip((4 - off%4) % 4); err != nil {
			return err
		}
		n := string(bytes.TrimRight(name, "\x00"))
		if n == "TRAILER!!!" {
			return nil
		}
		lr := &io.LimitedReader{R: br, N: int64(size)}
		if err := fn(cpioEntry{name: n, mode: uint32(mode), size: int64(size), data: lr}); err != nil {
			return err
		}
		rest := lr.N
		if err := skip(rest); err != nil {
			return fmt.Errorf("cpio entry %q is truncated", n)
		}
		off += int64(size) - rest
		if err := skip((4 - off%4) % 4); err != nil {
			return err
		}
	}
}

// rpmHeader is the part of an rpm's main header capture reads.
type rpmHeader struct {
	name, version, release, arch string
	epoch                        int64 // -1: none
}

const (
	rpmTagName    = 1000
	rpmTagVersion = 1001
	rpmTagRelease = 1002
	rpmTagEpoch   = 1003
	rpmTagArch    = 1022

	rpmTypeInt32  = 4
	rpmTypeInt64  = 5
	rpmTypeString = 6

	// Signature tags: the size of header and payload together.
	rpmSigTagSize     = 1000
	rpmSigTagLongSize = 270
)

// readRPMHeaders reads the lead, the signature header and the main header
// of an rpm and leaves r at the start of the payload. It returns the
// signature's size of header plus payload (RPMSIGTAG_SIZE or LONGSIZE; -1
// when absent) and a counter of the bytes read from the main header on, for
// the caller to check once the payload is read.
func readRPMHeaders(r io.Reader, fileSize int64) (rpmHeader, int64, *countingReader, error) {
	h := rpmHeader{epoch: -1}
	lead := make([]byte, 96)
	if _, err := io.ReadFull(r, lead); err != nil || !bytes.Equal(lead[:4], []byte{0xed, 0xab, 0xee, 0xdb}) {
		return h, -1, nil, errors.New("not an rpm (no rpm lead)")
	}
	// Signature header, padded to 8 bytes.
	sig, sigLen, err := readHeaderStruct(r, fileSize-96, []uint32{rpmSigTagSize, rpmSigTagLongSize})
	if err != nil {
		return h, -1, nil, fmt.Errorf("signature header: %w", err)
	}
	if pad := (8 - sigLen%8) % 8; pad > 0 {
		if _, err := io.CopyN(io.Discard, r, int64(pad)); err != nil {
			return h, -1, nil, err
		}
	}
	size := int64(-1)
	if v, ok := sig[rpmSigTagLongSize].(int64); ok {
		size = v
	} else if v, ok := sig[rpmSigTagSize].(int64); ok {
		size = v
	}
	cr := &countingReader{r: r}
	tags, _, err := readHeaderStruct(cr, fileSize-96-int64(sigLen)-int64((8-sigLen%8)%8), []uint32{rpmTagName, rpmTagVersion, rpmTagRelease, rpmTagEpoch, rpmTagArch})
	if err != nil {
		return h, -1, nil, fmt.Errorf("main header: %w", err)
	}
	str := func(tag uint32) string {
		if v, ok := tags[tag].(string); ok {
			return v
		}
		return ""
	}
	h.name, h.version, h.release, h.arch = str(rpmTagName), str(rpmTagVersion), str(rpmTagRelease), str(rpmTagArch)
	if v, ok := tags[rpmTagEpoch].(int64); ok {
		h.epoch = v
	}
	if h.name == "" || h.version == "" {
		return h, -1, nil, errors.New("main header has no NAME or VERSION")
	}
	return h, size, cr, nil
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// readHeaderStruct reads one rpm header structure (magic, index, store),
// of which at most left bytes remain in the file, and returns the first
// value of each of the wanted tags that is a STRING, INT32 or INT64, and
// its length in bytes. Sizes are checked against rpm's limits and left
// before anything is allocated, and only the wanted tags' first entries
// are decoded, so the cost is the header's size whatever its entries
// claim (an rpm of 65 535 entries all naming one long string would
// otherwise copy it each time).
func readHeaderStruct(r io.Reader, left int64, want []uint32) (map[uint32]any, int, error) {
	pre := make([]byte, 16)
	if _, err := io.ReadFull(r, pre); err != nil {
		return nil, 0, err
	}
	if !bytes.Equal(pre[:3], []byte{0x8e, 0xad, 0xe8}) {
		return nil, 0, errors.New("bad header magic")
	}
	nindex := binary.BigEndian.Uint32(pre[8:12])
	hsize := binary.BigEndian.Uint32(pre[12:16])
	if nindex > 0xffff || hsize > 0x0fffffff {
		return nil, 0, fmt.Errorf("header too large (%d entries, %d bytes; rpm's limits are 65535 and 256 MiB)", nindex, hsize)
	}
	if need := 16 + 16*int64(nindex) + int64(hsize); left >= 0 && need > left {
		return nil, 0, fmt.Errorf("header of %d entries and %d bytes of data (%d bytes) runs past the end of the file (%d bytes left): truncated or damaged", nindex, hsize, need, left)
	}
	index := make([]byte, 16*int(nindex))
	if _, err := io.ReadFull(r, index); err != nil {
		return nil, 0, err
	}
	store := make([]byte, hsize)
	if _, err := io.ReadFull(r, store); err != nil {
		return nil, 0, err
	}
	tags := map[uint32]any{}
	for i := 0; i < int(nindex); i++ {
		e := index[16*i : 16*i+16]
		tag := binary.BigEndian.Uint32(e[0:4])
		if _, seen := tags[tag]; seen || !slices.Contains(want, tag) {
			continue
		}
		typ := binary.BigEndian.Uint32(e[4:8])
		off := binary.BigEndian.Uint32(e[8:12])
		if off >= hsize {
			continue
		}
		switch typ {
		case rpmTypeString:
			s := store[off:]
			if j := bytes.IndexByte(s, 0); j >= 0 {
				tags[tag] = string(s[:j])
			}
		case rpmTypeInt32:
			if int(off)+4 <= len(store) {
				tags[tag] = int64(binary.BigEndian.Uint32(store[off : off+4]))
			}
		case rpmTypeInt64:
			if int(off)+8 <= len(store) {
				tags[tag] = int64(binary.BigEndian.Uint64(store[off : off+8]))
			}
		}
	}
	return tags, 16 + len(index) + len(store), nil
}
