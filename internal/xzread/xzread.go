// Package xzread decodes xz (the .xz container with LZMA2 blocks) with its
// memory held to what the input can justify, for every reader of hostile
// packages: relpack verify-release, relpack repo's deb reader and relpack
// distro capture.
package xzread

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"

	"github.com/ulikunitz/xz/lzma"
)

// maxXZDict is the largest LZMA2 dictionary one xz block may claim: xz -9's
// 64 MiB. relpack writes 8 MiB (one stream) or 1 MiB (chunked) ones.
const maxXZDict = 64 << 20

// xz.NewReader allocates the dictionary a block header claims, up to
// 4 GiB, before it decodes a byte: a 600-byte deb made it allocate 4 GiB,
// and every further block as much again. So the verifier reads the xz
// container itself (stream header, block headers, padding, checks, index,
// footer; the xz file format 1.2.0) and hands each block's LZMA2 data to
// lzma.Reader2 only once its dictionary (what the block header claims, or
// the block's size when the header records a smaller one) is held to two
// bounds: at most maxXZDict, and all dictionaries of the member together
// at most maxXZDict + the bytes decoded before the block (so relpack's
// chunked payloads, 1 MiB per 4 MiB block, and xz -T's blocks always fit,
// and a run of blocks that claim large dictionaries and decode nothing
// does not).

var xzMagic = []byte{0xfd, '7', 'z', 'X', 'Z', 0}

// Reader decodes the xz streams of one member (NewReader).
type Reader struct {
	src     *xzCounter
	check   byte // of the current stream
	lz      io.Reader
	block   xzBlock
	records [][2]uint64 // unpadded and uncompressed size of each block
	dicts   int64       // dictionary bytes allocated
	decoded int64       // bytes decoded
	err     error
}

// xzBlock is the state of the block being decoded.
type xzBlock struct {
	headerLen          int64
	start, n           int64 // compressed start (src.n), uncompressed bytes
	compSize, uncompSz int64 // from the header; -1: not recorded
	h                  hash.Hash
}

// xzCounter counts the bytes read of the member.
type xzCounter struct {
	r *bufio.Reader
	n int64
}

func (c *xzCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func (c *xzCounter) ReadByte() (byte, error) {
	b, err := c.r.ReadByte()
	if err == nil {
		c.n++
	}
	return b, err
}

func (c *xzCounter) full(p []byte) error {
	if _, err := io.ReadFull(c, p); err != nil {
		if err == io.EOF {
			return io.ErrUnexpectedEOF
		}
		return err
	}
	return nil
}

// NewReader reads the xz streams of r (concatenated streams and padding as
// xz-utils writes them); every block's check is verified.
func NewReader(r io.Reader) (*Reader, error) {
	x := &Reader{src: &xzCounter{r: bufio.NewReader(r)}}
	if err := x.streamHeader(nil); err != nil {
		return nil, err
	}
	return x, nil
}

func xzErr(format string, args ...any) error { return fmt.Errorf("xz: "+format, args...) }

// streamHeader reads a stream header (first: the bytes of it already read).
func (x *Reader) streamHeader(first []byte) error {
	h := make([]byte, 12)
	copy(h, first)
	if err := x.src.full(h[len(first):]); err != nil {
		return err
	}
	if !bytes.Equal(h[:6], xzMagic) {
		return xzErr("no stream header magic")
	}
	if binary.LittleEndian.Uint32(h[8:]) != crc32.ChecksumIEEE(h[6:8]) {
		return xzErr("stream header CRC32 does not match")
	}
	if h[6] != 0 || newXZCheck(h[7]) == nil {
		return xzErr("unsupported stream flags %02x %02x", h[6], h[7])
	}
	x.check, x.records = h[7], x.records[:0]
	return nil
}

// newXZCheck is the hash of check type c; nil: not one xz defines.
func newXZCheck(c byte) hash.Hash {
	switch c {
	case 0x00:
		return noCheck{}
	case 0x01:
		return crc32.NewIEEE()
	case 0x04:
		return crc64.New(crc64.MakeTable(crc64.ECMA))
	case 0x0a:
		return sha256.New()
	}
	return nil
}

// xzSum is a check as the xz format stores it (CRCs little-endian).
func xzSum(h hash.Hash) []byte {
	switch h := h.(type) {
	case hash.Hash32:
		return binary.LittleEndian.AppendUint32(nil, h.Sum32())
	case hash.Hash64:
		return binary.LittleEndian.AppendUint64(nil, h.Sum64())
	}
	return h.Sum(nil)
}

type noCheck struct{}

func (noCheck) Write(p []byte) (int, error) { return len(p), nil }
func (noCheck) Sum(b []byte) []byte         { return b }
func (noCheck) Reset()                      {}
func (noCheck) Size() int                   { return 0 }
func (noCheck) BlockSize() int              { return 1 }

func (x *Reader) Read(p []byte) (int, error) {
	for x.err == nil {
		if x.lz == nil {
			x.err = x.next()
			continue
		}
		n, err := x.lz.Read(p)
		x.block.n += int64(n)
		x.decoded += int64(n)
		x.block.h.Write(p[:n])
		if u := x.block.uncompSz; u >= 0 && x.block.n > u {
			x.err = xzErr("a block holds more than the %d bytes its header records", u)
			return n, x.err
		}
		if err == io.EOF {
			x.err = x.endBlock()
			if n > 0 || x.err != nil {
				return n, x.err
			}
			continue
		}
		if err != nil {
			x.err = fmt.Errorf("xz: %w", err)
		}
		return n, x.err
	}
	return 0, x.err
}

// next reads what follows a stream header or a block: a block header (and
// starts the block), or the index and footer (and then the next stream, or
// the end).
func (x *Reader) next() error {
	start := x.src.n
	b, err := x.src.ReadByte()
	if err != nil {
		return unexpected(err)
	}
	if b == 0 {
		if err := x.index(); err != nil {
			return err
		}
		return x.nextStream()
	}
	hdr := make([]byte, (int(b)+1)*4)
	hdr[0] = b
	if err := x.src.full(hdr[1:]); err != nil {
		return err
	}
	body, sum := hdr[:len(hdr)-4], binary.LittleEndian.Uint32(hdr[len(hdr)-4:])
	if crc32.ChecksumIEEE(body) != sum {
		return xzErr("block header at byte %d: CRC32 does not match", start)
	}
	flags := body[1]
	if flags&0x3c != 0 {
		return xzErr("block header at byte %d: reserved flags set", start)
	}
	if flags&3 != 0 {
		return xzErr("block header at byte %d: %d filters; only LZMA2 alone is supported", start, flags&3+1)
	}
	r := bytes.NewReader(body[2:])
	x.block = xzBlock{headerLen: int64(len(hdr)), compSize: -1, uncompSz: -1, h: newXZCheck(x.check)}
	for _, f := range []struct {
		bit byte
		v   *int64
	}{{0x40, &x.block.compSize}, {0x80, &x.block.uncompSz}} {
		if flags&f.bit != 0 {
			v, err := binary.ReadUvarint(r)
			if err != nil || v >= 1<<62 {
				return xzErr("block header at byte %d: bad size field", start)
			}
			*f.v = int64(v)
		}
	}
	id, err1 := binary.ReadUvarint(r)
	size, err2 := binary.ReadUvarint(r)
	code, err3 := r.ReadByte()
	if err1 != nil || err2 != nil || err3 != nil || id != 0x21 || size != 1 {
		return xzErr("block header at byte %d: the filter is not LZMA2", start)
	}
	for r.Len() > 0 {
		if c, _ := r.ReadByte(); c != 0 {
			return xzErr("block header at byte %d: non-zero padding", start)
		}
	}
	dict, err := lzma.DecodeDictCap(code)
	if err != nil {
		return xzErr("block header at byte %d: %v", start, err)
	}
	// A block starts with an empty dictionary, so it never needs one
	// larger than what it decodes: xz -T records that size in each block
	// header (blocks of 3 dictionaries), and its blocks are then charged
	// only what they hold.
	if u := x.block.uncompSz; u >= 0 && u < dict {
		dict = max(u, lzma.MinDictCap)
	}
	if dict > maxXZDict {
		return xzErr("a block claims a dictionary of %d bytes, over the %d bytes (xz -9's) a package may use", dict, maxXZDict)
	}
	if x.dicts+dict > maxXZDict+x.decoded {
		return xzErr("the block at byte %d of the member claims a dictionary of %d bytes, after blocks that used %d bytes of dictionary to decode %d bytes: the dictionaries may add up to %d bytes + the bytes decoded", start, dict, x.dicts, x.decoded, maxXZDict)
	}
	x.dicts += dict
	x.block.start = x.src.n
	lz, err := lzma.Reader2Config{DictCap: int(max(dict, lzma.MinDictCap))}.NewReader2(x.src)
	if err != nil {
		return fmt.Errorf("xz: %w", err)
	}
	x.lz = lz
	return nil
}

// endBlock reads the block's padding and check once its LZMA2 data ended.
func (x *Reader) endBlock() error {
	x.lz = nil
	comp := x.src.n - x.block.start
	if c := x.block.compSize; c >= 0 && comp != c {
		return xzErr("a block holds %d compressed bytes, its header records %d", comp, c)
	}
	if u := x.block.uncompSz; u >= 0 && x.block.n != u {
		return xzErr("a block holds %d bytes, its header records %d", x.block.n, u)
	}
	pad := make([]byte, (4-comp%4)%4)
	if err := x.src.full(pad); err != nil {
		return err
	}
	if !allZero(pad) {
		return xzErr("non-zero block padding")
	}
	want := xzSum(x.block.h)
	got := make([]byte, len(want))
	if err := x.src.full(got); err != nil {
		return err
	}
	if !bytes.Equal(got, want) {
		return xzErr("a block's check does not match its data")
	}
	x.records = append(x.records, [2]uint64{uint64(x.block.headerLen + comp + int64(len(want))), uint64(x.block.n)})
	return nil
}

// index reads the index (its indicator byte read) and the stream footer,
// and holds them to the blocks read.
func (x *Reader) index() error {
	start := x.src.n - 1
	crc := crc32.NewIEEE()
	crc.Write([]byte{0})
	br := &teeByteReader{x.src, crc}
	n, err := binary.ReadUvarint(br)
	if err != nil || n != uint64(len(x.records)) {
		return xzErr("the index does not list the %d blocks read", len(x.records))
	}
	for _, rec := range x.records {
		for _, want := range rec {
			v, err := binary.ReadUvarint(br)
			if err != nil || v != want {
				return xzErr("the index does not match the blocks read")
			}
		}
	}
	for (x.src.n-start)%4 != 0 {
		if b, err := br.ReadByte(); err != nil || b != 0 {
			return xzErr("bad index padding")
		}
	}
	size := x.src.n - start
	var sum [4]byte
	if err := x.src.full(sum[:]); err != nil {
		return err
	}
	if binary.LittleEndian.Uint32(sum[:]) != crc.Sum32() {
		return xzErr("index CRC32 does not match")
	}
	var f [12]byte
	if err := x.src.full(f[:]); err != nil {
		return err
	}
	if binary.LittleEndian.Uint32(f[:4]) != crc32.ChecksumIEEE(f[4:10]) || string(f[10:]) != "YZ" ||
		f[8] != 0 || f[9] != x.check || (int64(binary.LittleEndian.Uint32(f[4:8]))+1)*4 != size+4 {
		return xzErr("bad stream footer")
	}
	return nil
}

// nextStream reads stream padding and the next stream's header, or ends.
func (x *Reader) nextStream() error {
	for {
		var b [4]byte
		n, err := io.ReadFull(x.src, b[:])
		switch {
		case n == 0 && err == io.EOF:
			return io.EOF
		case err != nil:
			return xzErr("truncated after a stream")
		case b == [4]byte{}:
			continue
		}
		return x.streamHeader(b[:])
	}
}

type teeByteReader struct {
	r *xzCounter
	h hash.Hash
}

func (t *teeByteReader) ReadByte() (byte, error) {
	b, err := t.r.ReadByte()
	if err == nil {
		t.h.Write([]byte{b})
	}
	return b, err
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// Blocks is the number of blocks of the stream read last.
func (x *Reader) Blocks() int { return len(x.records) }
