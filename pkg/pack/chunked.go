package pack

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"runtime"
	"sync"

	"github.com/ulikunitz/xz"
)

// chunkSize is the uncompressed size of every independently compressed
// block of an xz payload but the last.
//
// A payload of at most one chunk is one block from ulikunitz/xz with its
// defaults (8 MiB dictionary): exactly the bytes of nfpm's deb writer. A
// larger payload is cut into chunks compressed with a 1 MiB dictionary
// (xzChunkDict). Both sizes are set by the build's memory, not by speed:
// every chunk in flight holds its input (one being filled per stream, one
// being compressed per core) and its encoder, whose hash table and chains
// grow with the dictionary (9 MiB at 1 MiB, 18 at 2, 72 at 8). Measured on
// 32 MiB of libLLVM-14 (this machine), the compressed size against the
// input: 8 MiB chunks with a 2 MiB dictionary 0.2947, 4 MiB chunks with
// 2 MiB 0.2960, with 1 MiB 0.2978 (+1% in all); on the benchmark's padded
// binaries 0.3679, 0.3681 and 0.3684. One 8 MiB-dictionary stream is
// smaller (docs/benchmarks.md: 10% on the padded binaries, whose padding
// repeats itself megabytes apart), but it is one core's work and 72 MiB.
//
// zstd is not chunked: concatenated zstd frames are valid zstd, but dpkg
// 1.21 (Debian 12) stops after the first frame ("tar: Unexpected EOF"), so
// a zstd payload is one frame from klauspost's stream encoder, which
// overlaps block matching and entropy coding on two goroutines.
const (
	chunkSize   = 4 << 20
	xzChunkDict = 1 << 20
)

// compressSlots bounds the chunks being compressed at once in the process,
// whatever number of payloads are being written: the count, not the
// number of artifacts, decides the encoders' memory and that of the input
// chunks they hold. A slot is taken before a chunk is handed over (in
// submit), not once its goroutine runs, so a filled chunk never waits in
// memory for a core: a stream that has filled its next chunk blocks
// until one is free. In the process there are then at most one chunk
// being filled per stream and one being compressed per core.
var compressSlots = make(chan struct{}, runtime.GOMAXPROCS(0))

// chunkBufs recycles the input buffers of chunks (chunkSize each): with
// a new one per chunk, the garbage collector, not the slots, would decide
// how many are in memory.
var chunkBufs = sync.Pool{New: func() any { return make([]byte, 0, chunkSize) }}

// chunkCodec compresses one chunk on its own.
type chunkCodec interface {
	// id names the codec and its settings in cache keys.
	id(multi bool) string
	// compress compresses in: the stream header (the same for every
	// chunk), the chunk's bytes and its index record. multi: in is one
	// of several chunks (else the whole payload).
	compress(in []byte, multi bool) (header, chunk []byte, rec xzRecord, err error)
	// finish writes what follows the last chunk (xz index and footer).
	finish(w io.Writer, header []byte, recs []xzRecord) error
}

// chunkedWriter compresses its input in chunks of chunkSize on every core
// and writes them in order: an xz stream of independent blocks with one
// index (the layout `xz -T0` writes). Chunk
// boundaries depend only on the input, so the bytes are the same with any
// number of cores. With a cache, a chunk already compressed in the build
// (the same bytes at the same offset of another package's data member:
// the binary of the debian11 and debian12 debs, whose changelogs differ)
// is reused, not compressed again.
type chunkedWriter struct {
	w       io.Writer
	codec   chunkCodec
	cache   *PayloadCache // may be nil
	buf     []byte
	pending []chan chunkResult // in input order
	recs    []xzRecord
	header  []byte
	started bool
	multi   bool // more than one chunk
	err     error
	closed  bool
	// maxPending bounds the chunks this stream holds at once.
	maxPending int
}

type xzRecord struct{ unpadded, uncompressed uint64 }

type chunkResult struct {
	header, chunk []byte
	rec           xzRecord
	err           error
}

func newChunkedWriter(w io.Writer, codec chunkCodec, cache *PayloadCache) *chunkedWriter {
	return &chunkedWriter{w: w, codec: codec, cache: cache, maxPending: cap(compressSlots)}
}

func (x *chunkedWriter) Write(p []byte) (int, error) {
	if x.closed {
		return 0, errors.New("write after close")
	}
	n := 0
	for len(p) > 0 {
		if x.err != nil {
			return n, x.err
		}
		if len(x.buf) == chunkSize {
			// A full chunk is sent once more input follows: a payload of
			// exactly one chunk is compressed as a whole at Close.
			x.multi = true
			x.submit()
			continue
		}
		if x.buf == nil {
			x.buf = chunkBufs.Get().([]byte)[:0]
		}
		k := min(len(p), chunkSize-len(x.buf))
		x.buf = append(x.buf, p[:k]...)
		p, n = p[k:], n+k
	}
	return n, x.err
}

// submit starts compressing the filled buffer; when maxPending chunks are
// in flight, it first writes out the oldest.
func (x *chunkedWriter) submit() {
	for len(x.pending) >= x.maxPending && x.err == nil {
		x.flushOne()
	}
	if x.err != nil {
		return
	}
	in, multi := x.buf, x.multi
	x.buf = nil
	ch := make(chan chunkResult, 1)
	x.pending = append(x.pending, ch)
	x.started = true
	compressSlots <- struct{}{}
	go func() {
		r := x.cache.chunk(x.codec, in, multi)
		<-compressSlots
		if cap(in) == chunkSize {
			chunkBufs.Put(in[:0])
		}
		ch <- r
	}()
}

// flushOne waits for the oldest pending chunk and writes it.
func (x *chunkedWriter) flushOne() {
	r := <-x.pending[0]
	x.pending = x.pending[1:]
	if x.err != nil {
		return
	}
	if r.err != nil {
		x.err = r.err
		return
	}
	if x.header == nil {
		x.header = r.header
		if _, err := x.w.Write(r.header); err != nil {
			x.err = err
			return
		}
	}
	if _, err := x.w.Write(r.chunk); err != nil {
		x.err = err
		return
	}
	x.recs = append(x.recs, r.rec)
}

// Close compresses what is left and writes every chunk and the trailer. It
// does not close the underlying writer.
func (x *chunkedWriter) Close() error {
	if x.closed {
		return errors.New("already closed")
	}
	x.closed = true
	if len(x.buf) > 0 || !x.started {
		if x.buf == nil {
			x.buf = []byte{}
		}
		x.submit()
	}
	for len(x.pending) > 0 {
		x.flushOne()
	}
	if x.err != nil {
		return x.err
	}
	return x.codec.finish(x.w, x.header, x.recs)
}

// compressChunk compresses in; its caller holds a compression slot. Each xz encoder
// allocates its memory afresh (ulikunitz/xz has no reset); collecting the
// dead one before the next starts keeps the heap at the live encoders
// instead of letting it grow to twice that (GOGC), for one GC cycle per
// chunk, next to seconds of compression.
func compressChunk(codec chunkCodec, in []byte, multi bool) chunkResult {
	h, c, rec, err := codec.compress(in, multi)
	runtime.GC()
	return chunkResult{header: h, chunk: c, rec: rec, err: err}
}

// chunkEntry is a compressed chunk kept by a PayloadCache, in a file.
type chunkEntry struct {
	ready  chan struct{}
	path   string
	header []byte
	rec    xzRecord
	err    error
}

// chunk compresses in with codec, or returns the chunk compressed earlier
// in the build from the same bytes; concurrent requests for one chunk wait
// for the one compression. A nil cache compresses.
func (c *PayloadCache) chunk(codec chunkCodec, in []byte, multi bool) chunkResult {
	if c == nil {
		return compressChunk(codec, in, multi)
	}
	h := sha256.New()
	fmt.Fprintf(h, "relpack chunk v1\x00%s\x00", codec.id(multi))
	h.Write(in)
	key := hex.EncodeToString(h.Sum(nil))
	c.mu.Lock()
	if e, ok := c.chunks[key]; ok {
		c.mu.Unlock()
		<-e.ready
		if e.err != nil {
			return chunkResult{err: e.err}
		}
		b, err := os.ReadFile(e.path)
		return chunkResult{header: e.header, chunk: b, rec: e.rec, err: err}
	}
	e := &chunkEntry{ready: make(chan struct{})}
	c.chunks[key] = e
	c.compressed++
	c.mu.Unlock()
	defer close(e.ready)
	r := compressChunk(codec, in, multi)
	e.header, e.rec, e.err = r.header, r.rec, r.err
	if r.err == nil {
		e.err = func() error {
			if err := os.MkdirAll(c.dir, 0o700); err != nil {
				return err
			}
			f, err := os.CreateTemp(c.dir, "chunk-*")
			if err != nil {
				return err
			}
			e.path = f.Name()
			if _, err := f.Write(r.chunk); err != nil {
				f.Close()
				return err
			}
			return f.Close()
		}()
		r.err = e.err
	}
	return r
}

// xzCodec: each chunk an xz block compressed by ulikunitz/xz: with its
// defaults (nfpm's and rpmpack's settings) for a one-chunk payload, with
// a xzChunkDict dictionary for a chunk of several.
type xzCodec struct{}

func (xzCodec) id(multi bool) string {
	if multi {
		return fmt.Sprintf("xz ulikunitz v0.5.15 dict %d", xzChunkDict)
	}
	return "xz ulikunitz v0.5.15 defaults"
}

// compress compresses in as one xz stream and takes it apart: the stream
// header, the single block, and its index record.
func (xzCodec) compress(in []byte, multi bool) (header, chunk []byte, rec xzRecord, err error) {
	var out bytes.Buffer
	out.Grow(len(in)/2 + 4096)
	var cfg xz.WriterConfig
	if multi {
		cfg.DictCap = xzChunkDict
	}
	zw, err := cfg.NewWriter(&out)
	if err == nil {
		_, err = zw.Write(in)
	}
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		return nil, nil, rec, err
	}
	s := out.Bytes()
	bad := func(what string) error { return fmt.Errorf("xz: unexpected stream from the encoder: %s", what) }
	if len(s) < 24 {
		return nil, nil, rec, bad("too short")
	}
	foot := s[len(s)-12:]
	idxLen := (int(binary.LittleEndian.Uint32(foot[4:8])) + 1) * 4
	if idxLen > len(s)-24 {
		return nil, nil, rec, bad("index size")
	}
	idx := s[len(s)-12-idxLen : len(s)-12]
	r := bytes.NewReader(idx[1:])
	count, err1 := binary.ReadUvarint(r)
	unpadded, err2 := binary.ReadUvarint(r)
	uncompressed, err3 := binary.ReadUvarint(r)
	if idx[0] != 0 || count != 1 || err1 != nil || err2 != nil || err3 != nil || uncompressed != uint64(len(in)) {
		return nil, nil, rec, bad("index")
	}
	// The header is copied: a PayloadCache keeps it for the whole build,
	// and a 12-byte slice of out would keep out's whole array (the chunk's
	// compressed bytes, megabytes) alive with it.
	return bytes.Clone(s[:12]), s[12 : len(s)-12-idxLen], xzRecord{unpadded, uncompressed}, nil
}

// finish writes the xz index of the blocks and the stream footer.
func (xzCodec) finish(w io.Writer, header []byte, recs []xzRecord) error {
	idx := xzIndex(recs)
	if _, err := w.Write(idx); err != nil {
		return err
	}
	// Stream footer: CRC32, backward size, the header's stream flags, "YZ".
	foot := make([]byte, 12)
	binary.LittleEndian.PutUint32(foot[4:], uint32(len(idx)/4-1))
	copy(foot[8:10], header[6:8])
	copy(foot[10:], "YZ")
	binary.LittleEndian.PutUint32(foot, crc32.ChecksumIEEE(foot[4:10]))
	_, err := w.Write(foot)
	return err
}

// xzIndex is the xz index of records: indicator 0, the count and each
// record as multibyte integers, padding to four bytes, CRC32.
func xzIndex(recs []xzRecord) []byte {
	b := []byte{0}
	b = binary.AppendUvarint(b, uint64(len(recs)))
	for _, r := range recs {
		b = binary.AppendUvarint(b, r.unpadded)
		b = binary.AppendUvarint(b, r.uncompressed)
	}
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return binary.LittleEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
}

var _ io.WriteCloser = (*chunkedWriter)(nil)
