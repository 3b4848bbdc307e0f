// Command bound measures the compression bound of a built release, for
// bench/build-realistic.sh: the time a build would take if it did nothing
// but compress every distinct payload exactly once per codec, at relpack's
// settings, with every core busy.
//
// It reads the artifacts given (tarballs, debs, rpms), takes each one's
// compressed payload (the whole .tar.gz, a deb's data.tar.*, an rpm's
// payload), decompresses it with Go's decoders and groups the payloads by
// codec and content: the name, size and SHA-256 of every file of at least
// 1 MiB in it (payloads that differ only in small files, such as a deb's
// changelog.Debian.gz naming the distro's package version, count once: a
// writer can compress their shared part once). It also counts the payloads
// that are byte-for-byte distinct. Each distinct payload is then
// compressed once, single-threaded, with the encoder and settings relpack's
// writers use (ulikunitz/xz defaults, klauspost zstd SpeedBetterCompression,
// klauspost/compress gzip level 7 for tarballs), and its CPU time measured (process
// user+system time, so other jobs on a shared machine do not inflate it).
// The bound is the sum of those CPU times divided by the number of cores:
// the ideal schedule, where every payload's blocks are spread over all cores
// and nothing else is done.
//
// Usage: go run ./bench/bound [-cores N] [-summary FILE] ARTIFACT...
//
// It prints a Markdown table of the distinct payloads, and with -summary
// writes key=value lines for the calling script.
package main

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

type payload struct {
	codec      string
	label      string // codec and, for xz, the layout measured
	xzDict     int    // xz: the LZMA2 dictionary relpack used
	xzBlock    int64  // xz: the uncompressed size of its blocks; 0 for one block
	data       []byte
	n          int64 // uncompressed size
	artifacts  []string
	compressed []int64 // the artifacts' own compressed payload sizes
	outSize    int64
	cpu, wall  time.Duration
}

func main() {
	cores := flag.Int("cores", runtime.NumCPU(), "cores of the ideal schedule")
	gzipLevel := flag.Int("gzip-level", 7, "klauspost gzip level (relpack's tarballs: 7)")
	zstdLevel := flag.String("zstd-level", "better", "klauspost zstd level name (nfpm and rpmpack default: better)")
	summary := flag.String("summary", "", "write key=value totals to this file")
	codecs := flag.String("codecs", "", "write each artifact's payload codec to this file (\"FILE CODEC\" lines)")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: bound [-cores N] [-summary FILE] ARTIFACT...")
		os.Exit(2)
	}
	ok, zl := zstd.EncoderLevelFromString(*zstdLevel)
	if !ok {
		fail(fmt.Errorf("unknown zstd level %q", *zstdLevel))
	}

	byKey := map[string]*payload{}
	var order []string
	var total int
	strict := map[string]bool{}
	var codecLines strings.Builder
	for _, path := range flag.Args() {
		comp, err := compressedPayload(path)
		if err != nil {
			fail(fmt.Errorf("%s: %w", path, err))
		}
		codec, data, err := decompress(comp)
		if err != nil {
			fail(fmt.Errorf("%s: payload: %w", path, err))
		}
		total++
		fmt.Fprintf(&codecLines, "%s %s\n", filepath.Base(path), codec)
		var dict int
		var block int64
		label := codec
		if codec == "xz" {
			// Measure at relpack's own settings, read from its output: the
			// dictionary and the block size (blocks compressed apart).
			if dict, block, err = xzLayout(comp); err != nil {
				fail(fmt.Errorf("%s: xz payload: %w", path, err))
			}
			label = fmt.Sprintf("xz (%s dictionary", size(int64(dict)))
			if block > 0 {
				label += fmt.Sprintf(", %s blocks", size(block))
			}
			label += ")"
		}
		sum := sha256.Sum256(data)
		strict[codec+":"+hex.EncodeToString(sum[:])] = true
		big, err := largeFiles(data)
		if err != nil {
			fail(fmt.Errorf("%s: payload: %w", path, err))
		}
		key := label + ":" + big
		p := byKey[key]
		if p == nil {
			p = &payload{codec: codec, label: label, xzDict: dict, xzBlock: block, data: data, n: int64(len(data))}
			byKey[key] = p
			order = append(order, key)
		}
		p.artifacts = append(p.artifacts, filepath.Base(path))
		p.compressed = append(p.compressed, int64(len(comp)))
	}
	sort.SliceStable(order, func(i, j int) bool {
		a, b := byKey[order[i]], byKey[order[j]]
		if a.codec != b.codec {
			return a.codec < b.codec
		}
		return a.artifacts[0] < b.artifacts[0]
	})

	var cpuDistinct, cpuAll time.Duration
	var inDistinct int64
	for _, k := range order {
		p := byKey[k]
		if err := measure(p, *gzipLevel, zl); err != nil {
			fail(err)
		}
		cpuDistinct += p.cpu
		cpuAll += p.cpu * time.Duration(len(p.artifacts))
		inDistinct += p.n
		p.data = nil
		runtime.GC()
	}
	bound := cpuDistinct / time.Duration(*cores)

	fmt.Printf("| payload (artifacts holding it) | codec | uncompressed MB | relpack's compressed MB | this encoder's MB | CPU s | MB/s |\n")
	fmt.Printf("|---|---|---|---|---|---|---|\n")
	for _, k := range order {
		p := byKey[k]
		var sizes []string
		for _, c := range p.compressed {
			sizes = append(sizes, mb(c))
		}
		sizes = uniq(sizes)
		fmt.Printf("| %s | %s | %s | %s | %s | %.1f | %.1f |\n",
			strings.Join(short(p.artifacts), ", "), p.label, mb(p.n), strings.Join(sizes, "/"), mb(p.outSize),
			p.cpu.Seconds(), float64(p.n)/1e6/p.cpu.Seconds())
	}
	fmt.Printf("\n%d artifacts; %d byte-distinct payloads, %d distinct by content (%s MB uncompressed); one compression of each: %.1f CPU s; one per artifact: %.1f CPU s; bound on %d cores: %.1f s\n",
		total, len(strict), len(order), mb(inDistinct), cpuDistinct.Seconds(), cpuAll.Seconds(), *cores, bound.Seconds())

	if *codecs != "" {
		if err := os.WriteFile(*codecs, []byte(codecLines.String()), 0o644); err != nil {
			fail(err)
		}
	}
	if *summary != "" {
		s := fmt.Sprintf("artifacts=%d\nbyte_distinct=%d\ndistinct=%d\ncpu_distinct_s=%.2f\ncpu_per_artifact_s=%.2f\ncores=%d\nbound_s=%.2f\n",
			total, len(strict), len(order), cpuDistinct.Seconds(), cpuAll.Seconds(), *cores, bound.Seconds())
		if err := os.WriteFile(*summary, []byte(s), 0o644); err != nil {
			fail(err)
		}
	}
}

// bigFile is the size from which a file in a payload counts for its
// identity: payloads holding the same large files differ only in small ones
// (a deb's changelog.Debian.gz names the distro's package version), and a
// writer can compress the shared part once and the rest per package.
const bigFile = 1 << 20

// largeFiles lists a payload's files of at least bigFile bytes as
// "name size sha256" lines, sorted. A payload is a tar (tarballs, debs) or
// a newc cpio (rpms).
func largeFiles(data []byte) (string, error) {
	var lines []string
	add := func(name string, body []byte) {
		if len(body) >= bigFile {
			sum := sha256.Sum256(body)
			lines = append(lines, fmt.Sprintf("%s %d %x", strings.TrimPrefix(name, "."), len(body), sum))
		}
	}
	if bytes.HasPrefix(data, []byte("07070")) {
		off := 0
		for {
			if off+110 > len(data) {
				return "", errors.New("cpio: truncated header")
			}
			h := data[off : off+110]
			field := func(i int) int {
				v, _ := strconv.ParseUint(string(h[6+8*i:14+8*i]), 16, 32)
				return int(v)
			}
			size, nameSize := field(6), field(11)
			nameEnd := off + 110 + nameSize
			if nameEnd > len(data) {
				return "", errors.New("cpio: truncated name")
			}
			name := strings.TrimRight(string(data[off+110:nameEnd]), "\x00")
			if name == "TRAILER!!!" {
				break
			}
			body := (nameEnd + 3) &^ 3
			if body+size > len(data) {
				return "", errors.New("cpio: truncated file")
			}
			add(name, data[body:body+size])
			off = (body + size + 3) &^ 3
		}
	} else {
		tr := tar.NewReader(bytes.NewReader(data))
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return "", fmt.Errorf("tar: %w", err)
			}
			if h.Size >= bigFile {
				body, err := io.ReadAll(tr)
				if err != nil {
					return "", err
				}
				add(h.Name, body)
			}
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n"), nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bound:", err)
	os.Exit(1)
}

func mb(n int64) string { return strconv.FormatFloat(float64(n)/1e6, 'f', 1, 64) }

// short drops the product name (openshell-gateway in the demo) that every
// artifact name starts with.
func short(names []string) []string {
	var out []string
	for _, n := range names {
		out = append(out, strings.TrimLeft(strings.TrimPrefix(n, "openshell-gateway"), "_-"))
	}
	return out
}

func uniq(s []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// measure compresses p once, single-threaded, and records its CPU and wall
// time and output size.
func measure(p *payload, gzipLevel int, zl zstd.EncoderLevel) error {
	var cw countWriter
	chunk := int64(len(p.data))
	if p.codec == "xz" && p.xzBlock > 0 {
		chunk = p.xzBlock
	}
	runtime.GC()
	c0, t0 := cpuTime(), time.Now()
	for off := int64(0); off < int64(len(p.data)); off += chunk {
		var w io.WriteCloser
		var err error
		switch p.codec {
		case "gzip":
			w, err = gzip.NewWriterLevel(&cw, gzipLevel)
		case "xz":
			w, err = xz.WriterConfig{DictCap: p.xzDict}.NewWriter(&cw)
		case "zstd":
			w, err = zstd.NewWriter(&cw, zstd.WithEncoderLevel(zl), zstd.WithEncoderConcurrency(1))
		default:
			err = fmt.Errorf("codec %s", p.codec)
		}
		if err != nil {
			return err
		}
		if _, err := w.Write(p.data[off:min(off+chunk, int64(len(p.data)))]); err != nil {
			return err
		}
		if err := w.Close(); err != nil {
			return err
		}
	}
	p.cpu, p.wall = cpuTime()-c0, time.Since(t0)
	p.outSize = cw.n
	return nil
}

// xzLayout reads the LZMA2 dictionary size from an xz stream's first block
// header and the blocks' uncompressed size from its index (0 when the
// stream has one block).
func xzLayout(b []byte) (dict int, block int64, err error) {
	bad := errors.New("not an xz stream relpack can read the layout of")
	if len(b) < 12+12+2 {
		return 0, 0, bad
	}
	h := b[12:]
	flags := h[1]
	i := 2
	for _, bit := range []byte{0x40, 0x80} { // compressed, uncompressed size present
		if flags&bit != 0 {
			_, n := binary.Uvarint(h[i:])
			if n <= 0 {
				return 0, 0, bad
			}
			i += n
		}
	}
	for f := 0; f < int(flags&3)+1; f++ {
		id, n := binary.Uvarint(h[i:])
		if n <= 0 {
			return 0, 0, bad
		}
		i += n
		psize, n := binary.Uvarint(h[i:])
		if n <= 0 || i+n+int(psize) > len(h) {
			return 0, 0, bad
		}
		i += n
		if id == 0x21 && psize == 1 { // LZMA2
			d := h[i]
			if d >= 40 {
				dict = 1<<32 - 1
			} else {
				dict = (2 | int(d&1)) << (d/2 + 11)
			}
		}
		i += int(psize)
	}
	if dict == 0 {
		return 0, 0, bad
	}
	foot := b[len(b)-12:]
	if foot[10] != 'Y' || foot[11] != 'Z' {
		return 0, 0, bad
	}
	back := (int(binary.LittleEndian.Uint32(foot[4:8])) + 1) * 4
	if back+12 > len(b) {
		return 0, 0, bad
	}
	idx := b[len(b)-12-back:]
	if idx[0] != 0 {
		return 0, 0, bad
	}
	j := 1
	nrec, n := binary.Uvarint(idx[j:])
	if n <= 0 {
		return 0, 0, bad
	}
	j += n
	if nrec > 1 {
		_, n = binary.Uvarint(idx[j:]) // unpadded size
		if n <= 0 {
			return 0, 0, bad
		}
		j += n
		unc, n := binary.Uvarint(idx[j:])
		if n <= 0 {
			return 0, 0, bad
		}
		block = int64(unc)
	}
	return dict, block, nil
}

// size prints a power-of-two size in MiB or KiB.
func size(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d KiB", n>>10)
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(b []byte) (int, error) { c.n += int64(len(b)); return len(b), nil }

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		fail(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// compressedPayload returns the compressed payload of an artifact.
func compressedPayload(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	switch {
	case strings.HasSuffix(path, ".tar.gz"):
		return b, nil
	case strings.HasSuffix(path, ".deb"):
		return debData(b)
	case strings.HasSuffix(path, ".rpm"):
		return rpmPayload(b)
	}
	return nil, errors.New("not a .tar.gz, .deb or .rpm")
}

// debData finds the data.tar.* member of a deb (an ar archive).
func debData(b []byte) ([]byte, error) {
	const magic = "!<arch>\n"
	if !bytes.HasPrefix(b, []byte(magic)) {
		return nil, errors.New("not an ar archive")
	}
	off := int64(len(magic))
	for off+60 <= int64(len(b)) {
		h := b[off : off+60]
		name := strings.TrimRight(strings.TrimSpace(string(h[0:16])), "/")
		size, err := strconv.ParseInt(strings.TrimSpace(string(h[48:58])), 10, 64)
		if err != nil || off+60+size > int64(len(b)) {
			return nil, fmt.Errorf("bad ar member header at %d", off)
		}
		if strings.HasPrefix(name, "data.tar") {
			return b[off+60 : off+60+size], nil
		}
		off += 60 + size + size%2
	}
	return nil, errors.New("no data.tar member")
}

// rpmPayload skips an rpm's lead, signature header (padded to 8 bytes) and
// main header.
func rpmPayload(b []byte) ([]byte, error) {
	off := int64(96)
	for i := 0; i < 2; i++ {
		if off+16 > int64(len(b)) || !bytes.Equal(b[off:off+3], []byte{0x8e, 0xad, 0xe8}) {
			return nil, errors.New("no rpm header where expected")
		}
		nindex := int64(binary.BigEndian.Uint32(b[off+8:]))
		hsize := int64(binary.BigEndian.Uint32(b[off+12:]))
		off += 16 + 16*nindex + hsize
		if i == 0 {
			off = (off + 7) &^ 7
		}
	}
	if off > int64(len(b)) {
		return nil, errors.New("rpm headers run past the end")
	}
	return b[off:], nil
}

func decompress(comp []byte) (string, []byte, error) {
	var r io.Reader
	var codec string
	switch {
	case bytes.HasPrefix(comp, []byte{0x1f, 0x8b}):
		z, err := gzip.NewReader(bytes.NewReader(comp))
		if err != nil {
			return "", nil, err
		}
		r, codec = z, "gzip"
	case bytes.HasPrefix(comp, []byte{0xfd, '7', 'z', 'X', 'Z', 0}):
		z, err := xz.NewReader(bytes.NewReader(comp))
		if err != nil {
			return "", nil, err
		}
		r, codec = z, "xz"
	case bytes.HasPrefix(comp, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		z, err := zstd.NewReader(bytes.NewReader(comp))
		if err != nil {
			return "", nil, err
		}
		defer z.Close()
		r, codec = z, "zstd"
	default:
		return "", nil, errors.New("unknown compression (not gzip, xz or zstd)")
	}
	data, err := io.ReadAll(r)
	return codec, data, err
}
