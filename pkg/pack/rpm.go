package pack

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"math"
	"os"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/goreleaser/nfpm/v2"
	"github.com/goreleaser/nfpm/v2/files"
	"github.com/klauspost/compress/zstd"
	"github.com/klauspost/pgzip"
	"github.com/ulikunitz/xz/lzma"

	"relpack/internal/rpmtag"
)

// rpmWriter writes rpm packages itself, from the same nfpm.Info the deb
// writer gets, byte for byte as relpack's earlier writer on
// google/rpmpack v0.7.1 did (see rpmpack_test.go, which keeps that writer
// as the oracle), with two differences that do not change the bytes of a
// package whose payload is at most 8 MiB:
//
//   - nothing grows with the input in memory: the payload (a cpio
//     archive) is streamed from the files on disk through the compressor
//     into a temporary file, hashing as it goes (each file's SHA-256, the
//     compressed payload's), and the header, which needs those digests,
//     is built afterwards; the signatures and the output read the
//     temporary file back as a stream. rpmpack held every file's body and
//     the whole compressed payload in memory;
//   - xz is written in 8 MiB blocks compressed on every core (chunkedWriter,
//     as in the deb writer, shared through the build's PayloadCache),
//     where rpmpack wrote one single-threaded stream; zstd is klauspost's
//     stream encoder at the deb writer's settings (concurrent, one frame),
//     gzip pgzip at level 9 (parallel), as rpmpack wrote them.
//
// The payload names are rpmbuild's: ./usr/bin/NAME, with
// rpmlib(PayloadFilesHavePrefix). nfpm's rpm packager wrote absolute
// names, which GNU cpio honours when extracting, so `rpm2cpio X.rpm | cpio
// -idm` (as rpmlint and people inspecting a package run it) wrote onto
// the host instead of into the current directory. The header's file index
// (DIRNAMES, BASENAMES) keeps the absolute names.
//
// File naming is still nfpm's (naming), so deb and rpm file names come from
// one place.
type rpmWriter struct {
	naming nfpm.Packager
	// cache shares compressed xz chunks between the rpms of a build (the
	// el8 and el9 payloads of one arch hold the same files); nil: none.
	cache *PayloadCache
	// tempDir holds the payload while the header is built; empty means
	// os.TempDir().
	tempDir string
}

// The digest algorithm of FILEDIGESTS and PAYLOADDIGEST. Tags, types and
// flags are internal/rpmtag's, the table pkg/repo/rpmmd reads with.
const rpmHashAlgoSHA256 = 8 // PGPHASHALGO_SHA256

// rpmNoEpoch: the package has no EPOCH tag.
const rpmNoEpoch = math.MaxUint32

// rpmRelation is one dependency: name, version, flags.
type rpmRelation struct {
	Name, Version string
	Sense         uint32
}

func (r *rpmRelation) Equal(o *rpmRelation) bool {
	return r.Name == o.Name && r.Version == o.Version && r.Sense == o.Sense
}

// rpmRelations are the dependencies of one kind, in header order.
type rpmRelations []*rpmRelation

func (rs *rpmRelations) addIfMissing(r *rpmRelation) {
	if !slices.ContainsFunc(*rs, r.Equal) {
		*rs = append(*rs, r)
	}
}

// rpmRelationRE splits "NAME [OP VERSION]" as rpmpack did.
var rpmRelationRE = regexp.MustCompile(`([^=<>\s]*)\s*((?:=|>|<)*)\s*(.*)?`)

var rpmSenses = map[string]uint32{
	"": 0, "<": rpmtag.SenseLess, ">": rpmtag.SenseGreater, "=": rpmtag.SenseEqual,
	"<=": rpmtag.SenseLess | rpmtag.SenseEqual, ">=": rpmtag.SenseGreater | rpmtag.SenseEqual,
}

// parseRPMRelation parses "NAME", "NAME OP VERSION" or a rich "(a or b)",
// which rpm itself parses at install time.
func parseRPMRelation(s string) (*rpmRelation, error) {
	if strings.HasPrefix(s, "(") && strings.HasSuffix(s, ")") {
		return &rpmRelation{Name: s}, nil
	}
	m := rpmRelationRE.FindStringSubmatch(s)
	sense, ok := rpmSenses[m[2]]
	if !ok {
		return nil, fmt.Errorf("unknown comparison %q; use <, <=, =, >= or >", m[2])
	}
	return &rpmRelation{Name: m[1], Version: m[3], Sense: sense}, nil
}

// rpmMetaData is what the header says about the package.
type rpmMetaData struct {
	Name, Summary, Description, Version, Release, Arch, OS,
	Vendor, URL, Packager, Group, Licence, BuildHost, Compressor string
	Epoch                                                          uint32
	BuildTime                                                      time.Time
	Provides, Obsoletes, Suggests, Recommends, Requires, Conflicts rpmRelations
}

// fullVersion is V-R, as in the lead, SOURCERPM and the package's
// provide of itself.
func (m *rpmMetaData) fullVersion() string {
	if m.Release != "" {
		return m.Version + "-" + m.Release
	}
	return m.Version
}

// rpmArch maps GOARCH names to rpm's: nfpm's table, which names the file.
var rpmArch = map[string]string{
	"all":      "noarch",
	"amd64":    "x86_64",
	"386":      "i386",
	"arm64":    "aarch64",
	"arm5":     "armv5tel",
	"arm6":     "armv6hl",
	"arm7":     "armv7hl",
	"mips64le": "mips64el",
	"mipsle":   "mipsel",
	"mips":     "mips",
	"loong64":  "loongarch64",
}

func (w rpmWriter) ConventionalFileName(info *nfpm.Info) string {
	return w.naming.ConventionalFileName(info)
}

// rpmScript is a scriptlet body with the tags of the scriptlet and of
// its interpreter.
type rpmScript struct {
	tag, progTag int
	body         string
}

// Package writes the rpm of info to out: the payload first, into a
// temporary file (it yields the digests the header holds), then lead,
// signature header, main header and the payload copied from that file.
func (w rpmWriter) Package(info *nfpm.Info, out io.Writer) error {
	if err := rpmUnsupported(info); err != nil {
		return err
	}
	if err := nfpm.PrepareForPackager(info, "rpm"); err != nil {
		return err
	}
	meta, err := rpmMeta(info)
	if err != nil {
		return err
	}
	scripts, err := rpmScriptlets(info, &meta)
	if err != nil {
		return err
	}
	fs, err := rpmFiles(info.Contents)
	if err != nil {
		return err
	}
	// rpmlib() features last: they depend on every relation (the
	// package's own provide included) and on the payload.
	meta.Requires = append(meta.Requires, rpmlibRequires(&meta)...)
	var changelog []rpmChange
	if info.Changelog != "" {
		if changelog, err = rpmChangelog(info); err != nil {
			return err
		}
	}

	tmp, err := os.CreateTemp(w.tempDir, "relpack-rpm-payload-*")
	if err != nil {
		return fmt.Errorf("rpm: temporary payload file: %w; set TempDir to a writable folder", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	pay, err := writeRPMPayload(tmp, fs, meta.Compressor, w.cache)
	if err != nil {
		return fmt.Errorf("rpm: payload (%s, in %s): %w", meta.Compressor, tmp.Name(), err)
	}

	hb, err := rpmMainHeader(&meta, scripts, fs, pay, changelog).bytes()
	if err != nil {
		return fmt.Errorf("rpm: header: %w", err)
	}
	sb, err := rpmSignatureHeader(hb, pay, tmp, info.RPM.Signature.SignFn)
	if err != nil {
		return err
	}
	return writeRPM(out, &meta, sb, hb, tmp, pay)
}

// rpmFiles are the file entries of the rpm's contents (those for every
// packager and for rpm), each at an absolute path below / and listed once,
// sorted by name: header and payload list files by name ("./" before each
// name keeps the order).
func rpmFiles(contents files.Contents) ([]*rpmFileEntry, error) {
	var fs []*rpmFileEntry
	seen := map[string]bool{}
	for _, c := range contents {
		if c.Packager != "" && c.Packager != "rpm" {
			continue
		}
		f, err := rpmFile(c)
		if err != nil {
			return nil, err
		}
		if f == nil {
			continue
		}
		if !path.IsAbs(f.name) || f.name == "/" {
			return nil, fmt.Errorf("rpm: file %q: destination must be an absolute path below /", f.name)
		}
		if seen[f.name] {
			return nil, fmt.Errorf("rpm: file %s is listed twice", f.name)
		}
		seen[f.name] = true
		fs = append(fs, f)
	}
	sort.Slice(fs, func(i, j int) bool { return fs[i].name < fs[j].name })
	return fs, nil
}

// writeRPM writes the package to out: the lead, the signature header sb
// (padded to eight bytes), the main header hb and the payload read back
// from tmp, which must hold the pay.size bytes written to it.
func writeRPM(out io.Writer, meta *rpmMetaData, sb, hb []byte, tmp *os.File, pay *rpmPayload) error {
	if _, err := out.Write(rpmLead(meta.Name, meta.fullVersion())); err != nil {
		return err
	}
	if _, err := out.Write(sb); err != nil {
		return err
	}
	// The signature header is padded to eight bytes.
	if _, err := out.Write(make([]byte, (8-len(sb)%8)%8)); err != nil {
		return err
	}
	if _, err := out.Write(hb); err != nil {
		return err
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return err
	}
	n, err := io.Copy(out, tmp)
	if err != nil {
		return fmt.Errorf("rpm: copying the payload from %s: %w", tmp.Name(), err)
	}
	if n != pay.size {
		return fmt.Errorf("rpm: payload file %s holds %d bytes, %d were written to it", tmp.Name(), n, pay.size)
	}
	return nil
}

// rpmPayload is what the header needs from the written payload.
type rpmPayload struct {
	size      int64  // compressed bytes
	sha256    string // of the compressed bytes (PAYLOADDIGEST)
	fileBytes int64  // sum of the entries' body sizes (SIZE)
	// archiveBytes is the size of the uncompressed cpio archive, headers,
	// padding and trailer included (PAYLOADSIZE / LONGARCHIVESIZE): what
	// rpm2cpio checks the archive it writes against.
	archiveBytes int64
}

// byteCounter passes writes on to w, counting them.
type byteCounter struct {
	w io.Writer
	n int64
}

func (bc *byteCounter) Write(p []byte) (int, error) {
	n, err := bc.w.Write(p)
	bc.n += int64(n)
	return n, err
}

// hashCounter passes writes on to w, hashing and counting them.
type hashCounter struct {
	w io.Writer
	h hash.Hash
	n int64
}

func (hc *hashCounter) Write(p []byte) (int, error) {
	n, err := hc.w.Write(p)
	hc.h.Write(p[:n])
	hc.n += int64(n)
	return n, err
}

// rpmCompressor is the payload compressor of compression writing to w: the
// settings rpmpack v0.7.1 used (gzip: pgzip level 9; xz: ulikunitz/xz's
// defaults, which chunkedWriter writes for a payload of one chunk; zstd:
// klauspost at SpeedBetterCompression; lzma: ulikunitz's lzma defaults).
func rpmCompressor(compression string, w io.Writer, cache *PayloadCache) (io.WriteCloser, error) {
	switch compression {
	case "gzip":
		return pgzip.NewWriterLevel(w, pgzip.BestCompression)
	case "xz":
		return newChunkedWriter(w, xzCodec{}, cache), nil
	case "zstd":
		// One frame: see chunkSize.
		return zstd.NewWriter(w, zstd.WithEncoderLevel(zstd.SpeedBetterCompression))
	case "lzma":
		return lzma.NewWriter(w)
	}
	return nil, fmt.Errorf("compression %q is not supported; use gzip, xz, zstd or lzma", compression)
}

// writeRPMPayload streams the cpio payload of fs (sorted) through the
// compressor into f, filling each regular file's digest from the bytes
// it reads (a file that changes size meanwhile is an error).
func writeRPMPayload(f *os.File, fs []*rpmFileEntry, compression string, cache *PayloadCache) (*rpmPayload, error) {
	bw := bufio.NewWriterSize(f, writeBufSize)
	hc := &hashCounter{w: bw, h: sha256.New()}
	zw, err := rpmCompressor(compression, hc, cache)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*rpmPayload, error) {
		zw.Close() // stops the compressor's goroutines
		return nil, err
	}
	archive := &byteCounter{w: zw}
	cw := &cpioWriter{w: archive}
	buf := make([]byte, 256<<10)
	var fileBytes int64
	for _, e := range fs {
		switch {
		case e.mode&0o170000 == 0o040000:
			if err := cw.header("."+e.name, e.mode, 0, 2); err != nil {
				return fail(err)
			}
		case e.mode&0o170000 == 0o120000:
			if err := cw.header("."+e.name, e.mode, int64(len(e.link)), 1); err != nil {
				return fail(err)
			}
			if _, err := io.WriteString(cw, e.link); err != nil {
				return fail(err)
			}
			fileBytes += int64(len(e.link))
		default:
			if err := e.copyTo(cw, buf); err != nil {
				return fail(fmt.Errorf("file %s (from %s): %w", e.name, e.src, err))
			}
			fileBytes += e.size
		}
	}
	if err := cw.close(); err != nil {
		return fail(err)
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	if err := bw.Flush(); err != nil {
		return nil, err
	}
	return &rpmPayload{size: hc.n, sha256: hex.EncodeToString(hc.h.Sum(nil)), fileBytes: fileBytes, archiveBytes: archive.n}, nil
}

// copyTo writes the regular file e into the payload, hashing it.
func (e *rpmFileEntry) copyTo(cw *cpioWriter, buf []byte) error {
	src, err := os.Open(e.src)
	if err != nil {
		return err
	}
	defer src.Close()
	if err := cw.header("."+e.name, e.mode, e.size, 1); err != nil {
		return err
	}
	h := sha256.New()
	n, err := io.CopyBuffer(cw, io.TeeReader(io.LimitReader(src, e.size), h), buf)
	if err != nil {
		return err
	}
	if n != e.size {
		return fmt.Errorf("the file changed while it was packaged (%d bytes, %d expected); rebuild without touching it", n, e.size)
	}
	// The header lists e.size bytes: a file that grew is refused too.
	if k, _ := src.Read(buf[:1]); k > 0 {
		return fmt.Errorf("the file changed while it was packaged (more than %d bytes); rebuild without touching it", e.size)
	}
	e.digest = hex.EncodeToString(h.Sum(nil))
	return nil
}

// rpmMainHeader is the main header, with rpmpack v0.7.1's tags, types and
// values (only the tags differ, not the header layout: rpm sorts by tag,
// so the order the parts below set their tags in does not matter).
func rpmMainHeader(m *rpmMetaData, scripts []rpmScript, fs []*rpmFileEntry, pay *rpmPayload, changelog []rpmChange) *rpmHeader {
	h := newRPMHeader(rpmtag.HeaderImmutable)
	rpmPackageTags(h, m, pay)
	rpmScriptTags(h, scripts)
	// No file index for a package without files: rpm refuses empty
	// index tags.
	if len(fs) > 0 {
		rpmFileTags(h, fs)
	}
	rpmRelationTags(h, m)
	if len(changelog) > 0 {
		rpmChangelogTags(h, changelog)
	}
	return h
}

// rpmPackageTags sets the tags that describe the package as a whole:
// identity, build, payload format and digest, and SOURCERPM.
func rpmPackageTags(h *rpmHeader, m *rpmMetaData, pay *rpmPayload) {
	h.set(rpmtag.I18NTable, rpmString("C"))
	if pay.fileBytes <= math.MaxUint32 {
		h.set(rpmtag.Size, rpmInt32(uint32(pay.fileBytes)))
	} else {
		h.set(rpmtag.LongSize, rpmInt64(uint64(pay.fileBytes)))
	}
	h.set(rpmtag.Name, rpmString(m.Name))
	h.set(rpmtag.Version, rpmString(m.Version))
	if m.Epoch != rpmNoEpoch {
		h.set(rpmtag.Epoch, rpmInt32(m.Epoch))
	}
	h.set(rpmtag.Summary, rpmString(m.Summary))
	h.set(rpmtag.Description, rpmString(m.Description))
	h.set(rpmtag.BuildHost, rpmString(m.BuildHost))
	h.set(rpmtag.BuildTime, rpmInt32(uint32(m.BuildTime.Unix())))
	h.set(rpmtag.Release, rpmString(m.Release))
	h.set(rpmtag.PayloadFormat, rpmString("cpio"))
	h.set(rpmtag.PayloadCompressor, rpmString(m.Compressor))
	// "9" whatever the compressor, as rpmpack wrote it; rpm reads the
	// flags only to pick a level when it writes.
	h.set(rpmtag.PayloadFlags, rpmString("9"))
	h.set(rpmtag.Arch, rpmString(m.Arch))
	h.set(rpmtag.OS, rpmString(m.OS))
	if m.Vendor != "" {
		h.set(rpmtag.Vendor, rpmString(m.Vendor))
	}
	h.set(rpmtag.License, rpmString(m.Licence))
	if m.Packager != "" {
		h.set(rpmtag.Packager, rpmString(m.Packager))
	}
	if m.Group != "" {
		h.set(rpmtag.Group, rpmString(m.Group))
	}
	if m.URL != "" {
		h.set(rpmtag.URL, rpmString(m.URL))
	}
	h.set(rpmtag.PayloadDigest, rpmStrings([]string{pay.sha256}))
	h.set(rpmtag.PayloadDigestAlgo, rpmInt32(rpmHashAlgoSHA256))
	// A SOURCERPM tells rpm this is a binary package.
	h.set(rpmtag.SourceRPM, rpmString(m.Name+"-"+m.fullVersion()+".src.rpm"))
}

// rpmScriptTags sets each scriptlet and its interpreter, /bin/sh.
func rpmScriptTags(h *rpmHeader, scripts []rpmScript) {
	for _, s := range scripts {
		h.set(s.tag, rpmString(s.body))
		h.set(s.progTag, rpmString("/bin/sh"))
	}
}

// rpmFileIndex is the header's file index, one element per file in
// each column (the tags of the same names).
type rpmFileIndex struct {
	names, base, owners, groups, digests, links, langs   []string
	sizes, mtimes, flags, inodes, devices, algos, verify []uint32
	modes, rdevs                                         []uint16
}

// newRPMFileIndex fills the index of fs (sorted by name).
func newRPMFileIndex(fs []*rpmFileEntry) *rpmFileIndex {
	n := len(fs)
	x := &rpmFileIndex{
		names: make([]string, n), base: make([]string, n), owners: make([]string, n),
		groups: make([]string, n), digests: make([]string, n), links: make([]string, n),
		langs: make([]string, n), sizes: make([]uint32, n), mtimes: make([]uint32, n),
		flags: make([]uint32, n), inodes: make([]uint32, n), devices: make([]uint32, n),
		algos: make([]uint32, n), verify: make([]uint32, n), modes: make([]uint16, n),
		rdevs: make([]uint16, n),
	}
	for i, f := range fs {
		x.names[i] = f.name
		_, x.base[i] = path.Split(f.name)
		x.sizes[i] = f.indexSize()
		x.modes[i] = uint16(f.mode)
		x.owners[i], x.groups[i] = f.owner, f.group
		x.mtimes[i] = f.mtime
		x.digests[i], x.links[i] = f.digest, f.link
		x.flags[i] = f.flags
		// rpmpack's values: inodes 1..n, device 1, every verify
		// flag, rdev 1 (rpm reads rdev of device files only).
		x.inodes[i], x.devices[i], x.algos[i], x.verify[i], x.rdevs[i] = uint32(i+1), 1, rpmHashAlgoSHA256, math.MaxUint32, 1
	}
	return x
}

// indexSize is the file's FILESIZES entry: 4096 for a directory, the
// target's length for a link, the body's size for a regular file.
func (f *rpmFileEntry) indexSize() uint32 {
	switch f.mode & 0o170000 {
	case 0o040000:
		return 4096
	case 0o120000:
		return uint32(len(f.link))
	}
	return uint32(f.size)
}

// rpmFileTags sets the file index of fs (at least one file).
func rpmFileTags(h *rpmHeader, fs []*rpmFileEntry) {
	x := newRPMFileIndex(fs)
	dirIndexes, dirNames := rpmDirIndex(x.names)
	h.set(rpmtag.BaseNames, rpmStrings(x.base))
	h.set(rpmtag.DirIndexes, rpmInt32(dirIndexes...))
	h.set(rpmtag.DirNames, rpmStrings(dirNames))
	h.set(rpmtag.FileSizes, rpmInt32(x.sizes...))
	h.set(rpmtag.FileModes, rpmInt16(x.modes...))
	h.set(rpmtag.FileUserName, rpmStrings(x.owners))
	h.set(rpmtag.FileGroupName, rpmStrings(x.groups))
	h.set(rpmtag.FileMTimes, rpmInt32(x.mtimes...))
	h.set(rpmtag.FileDigests, rpmStrings(x.digests))
	h.set(rpmtag.FileLinkTos, rpmStrings(x.links))
	h.set(rpmtag.FileFlags, rpmInt32(x.flags...))
	h.set(rpmtag.FileINodes, rpmInt32(x.inodes...))
	h.set(rpmtag.FileDevices, rpmInt32(x.devices...))
	h.set(rpmtag.FileDigestAlgo, rpmInt32(x.algos...))
	h.set(rpmtag.FileVerifyFlags, rpmInt32(x.verify...))
	h.set(rpmtag.FileRDevs, rpmInt16(x.rdevs...))
	h.set(rpmtag.FileLangs, rpmStrings(x.langs))
}

// rpmRelationTags sets the name, version and flags tags of each kind of
// dependency the package has.
func rpmRelationTags(h *rpmHeader, m *rpmMetaData) {
	for _, rel := range []struct {
		rels                 rpmRelations
		name, version, flags int
	}{
		{m.Provides, rpmtag.ProvideName, rpmtag.ProvideVersion, rpmtag.ProvideFlags},
		{m.Obsoletes, rpmtag.ObsoleteName, rpmtag.ObsoleteVersion, rpmtag.ObsoleteFlags},
		{m.Suggests, rpmtag.SuggestName, rpmtag.SuggestVersion, rpmtag.SuggestFlags},
		{m.Recommends, rpmtag.RecommendName, rpmtag.RecommendVersion, rpmtag.RecommendFlags},
		{m.Requires, rpmtag.RequireName, rpmtag.RequireVersion, rpmtag.RequireFlags},
		{m.Conflicts, rpmtag.ConflictName, rpmtag.ConflictVersion, rpmtag.ConflictFlags},
	} {
		if len(rel.rels) == 0 {
			continue
		}
		names := make([]string, len(rel.rels))
		versions := make([]string, len(rel.rels))
		flags := make([]uint32, len(rel.rels))
		for i, r := range rel.rels {
			names[i], versions[i], flags[i] = r.Name, r.Version, r.Sense
		}
		h.set(rel.name, rpmStrings(names))
		h.set(rel.version, rpmStrings(versions))
		h.set(rel.flags, rpmInt32(flags...))
	}
}

// rpmChangelogTags sets the %changelog entries (at least one).
func rpmChangelogTags(h *rpmHeader, changelog []rpmChange) {
	times := make([]uint32, len(changelog))
	names := make([]string, len(changelog))
	texts := make([]string, len(changelog))
	for i, c := range changelog {
		times[i], names[i], texts[i] = c.time, c.name, c.text
	}
	h.set(rpmtag.ChangelogTime, rpmInt32(times...))
	h.set(rpmtag.ChangelogName, rpmStrings(names))
	h.set(rpmtag.ChangelogText, rpmStrings(texts))
}

// rpmSignatureHeader is the signature header of the main header hb and
// the payload in f (pay): the size of both, the header's SHA-256, the
// payload's size as rpmpack counted it, and with sign the two OpenPGP
// signatures rpm -K checks: of the header (RSAHEADER, whatever the key's
// algorithm, as rpmpack wrote it and rpm accepts it) and of header and
// payload (PGP), the payload read back from f as a stream.
func rpmSignatureHeader(hb []byte, pay *rpmPayload, f *os.File, sign func(io.Reader) ([]byte, error)) ([]byte, error) {
	s := newRPMHeader(rpmtag.HeaderSignatures)
	if total := int64(len(hb)) + pay.size; total <= math.MaxUint32 {
		s.set(rpmtag.SigSize, rpmInt32(uint32(total)))
	} else {
		s.set(rpmtag.SigLongSize, rpmInt64(uint64(total)))
	}
	sum := sha256.Sum256(hb)
	s.set(rpmtag.SigSHA256, rpmString(hex.EncodeToString(sum[:])))
	if pay.archiveBytes <= math.MaxUint32 {
		s.set(rpmtag.SigPayloadSize, rpmInt32(uint32(pay.archiveBytes)))
	} else {
		s.set(rpmtag.SigLongArchiveSize, rpmInt64(uint64(pay.archiveBytes)))
	}
	if sign != nil {
		sig, err := sign(bytes.NewReader(hb))
		if err != nil {
			return nil, &nfpm.ErrSigningFailure{Err: fmt.Errorf("rpm header signature: %w", err)}
		}
		s.set(rpmtag.SigRSA, rpmBin(sig))
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return nil, err
		}
		sig, err = sign(io.MultiReader(bytes.NewReader(hb), bufio.NewReaderSize(f, 1<<20)))
		if err != nil {
			return nil, &nfpm.ErrSigningFailure{Err: fmt.Errorf("rpm header+payload signature: %w", err)}
		}
		s.set(rpmtag.SigPGP, rpmBin(sig))
	}
	b, err := s.bytes()
	if err != nil {
		return nil, fmt.Errorf("rpm: signature header: %w", err)
	}
	return b, nil
}

// rpmUnsupported reports the nfpm.Info fields relpack's rpm writer does
// not write (relpack never sets them), so none is dropped silently.
func rpmUnsupported(info *nfpm.Info) error {
	if rs := info.RPM.Scripts; rs.PreTrans+rs.PostTrans+rs.Verify != "" {
		return errors.New("rpm: %pretrans, %posttrans and %verifyscript are not supported by relpack's rpm writer")
	}
	if len(info.RPM.Prefixes) > 0 {
		return errors.New("rpm: relocatable packages (prefixes) are not supported by relpack's rpm writer")
	}
	if info.RPM.Signature.KeyFile != "" {
		return errors.New("rpm: key files are not supported; sign with PackageSpec.Signing")
	}
	return nil
}

// rpmMeta is the package's rpm metadata: nfpm's mapping of Info, the
// architecture provide and the package's provide of itself.
func rpmMeta(info *nfpm.Info) (rpmMetaData, error) {
	var m rpmMetaData
	epoch, err := rpmEpoch(info.Epoch)
	if err != nil {
		return m, err
	}
	if info.MTime.IsZero() {
		return m, errors.New("rpm: no MTime; the build time would be the clock")
	}
	arch := rpmArchName(info)
	ver := rpmVersion(info)
	summary := info.RPM.Summary
	if summary == "" {
		summary, _, _ = strings.Cut(info.Description, "\n")
	}
	m = rpmMetaData{
		Name:        info.Name,
		Summary:     summary,
		Description: info.Description,
		Version:     ver,
		Release:     orDefault(info.Release, "1"),
		Epoch:       epoch,
		Arch:        arch,
		OS:          orDefault(info.Platform, "linux"),
		Licence:     info.License,
		URL:         info.Homepage,
		Vendor:      info.Vendor,
		Packager:    orDefault(info.RPM.Packager, info.Maintainer),
		Group:       info.RPM.Group,
		Compressor:  orDefault(info.RPM.Compression, "gzip"),
		BuildTime:   info.MTime,
		BuildHost:   info.RPM.BuildHost,
	}
	if !contains(compressions["rpm"], m.Compressor) {
		return m, fmt.Errorf("rpm: compression %q is not supported; use one of %s", m.Compressor, strings.Join(compressions["rpm"], ", "))
	}
	if m.BuildHost == "" {
		return m, errors.New("rpm: no build host; nfpm would write os.Hostname()")
	}
	if err := m.addRelations(info); err != nil {
		return m, err
	}
	// rpmbuild's architecture provide, NAME(ISA) = EVR, which the
	// packages of a distro require each other by (%{?_isa}).
	if isa, ok := rpmISA[arch]; ok {
		m.Provides = append(m.Provides, &rpmRelation{Name: m.Name + "(" + isa + ")", Version: rpmEVR(epoch, ver, m.Release), Sense: rpmtag.SenseEqual})
	}
	// A package provides itself, NAME = V-R (without the epoch, as
	// rpmpack wrote it).
	m.Provides.addIfMissing(&rpmRelation{Name: m.Name, Version: m.fullVersion(), Sense: rpmtag.SenseEqual})
	return m, nil
}

// rpmEpoch is the EPOCH of Info's epoch field: rpmNoEpoch when empty.
func rpmEpoch(s string) (uint32, error) {
	if s == "" {
		return rpmNoEpoch, nil
	}
	e, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("rpm: epoch %q: %w", s, err)
	}
	return uint32(e), nil
}

// rpmArchName is the rpm ARCH: Info's rpm arch if set, else the GOARCH
// name mapped by nfpm's table (a name it lacks is kept).
func rpmArchName(info *nfpm.Info) string {
	if info.RPM.Arch != "" {
		return info.RPM.Arch
	}
	if a, ok := rpmArch[info.Arch]; ok {
		return a
	}
	return info.Arch
}

// rpmVersion is the rpm VERSION: Version[~Prerelease][+VersionMetadata],
// '-' being the version-release separator (nfpm's form, see
// version.NFPMFields).
func rpmVersion(info *nfpm.Info) string {
	ver := info.Version
	if info.Prerelease != "" {
		ver += "~" + strings.ReplaceAll(info.Prerelease, "-", "_")
	}
	if info.VersionMetadata != "" {
		ver += "+" + info.VersionMetadata
	}
	return ver
}

// addRelations parses Info's relations into m's: Provides, Recommends,
// Suggests, Conflicts, Replaces (as Obsoletes), then Depends (as
// Requires, scriptlet contexts included); each once.
func (m *rpmMetaData) addRelations(info *nfpm.Info) error {
	for _, rel := range []struct {
		dst  *rpmRelations
		from []string
	}{
		{&m.Provides, info.Provides},
		{&m.Recommends, info.Recommends},
		{&m.Suggests, info.Suggests},
		{&m.Conflicts, info.Conflicts},
		{&m.Obsoletes, info.Replaces},
	} {
		for _, s := range rel.from {
			r, err := parseRPMRelation(s)
			if err != nil {
				return fmt.Errorf("rpm: relation %q: %w", s, err)
			}
			rel.dst.addIfMissing(r)
		}
	}
	for _, s := range info.Depends {
		rel, err := rpmRequire(s)
		if err != nil {
			return err
		}
		m.Requires.addIfMissing(rel)
	}
	return nil
}

// rpmEVR is the [E:]V-R string of the package's architecture provide.
func rpmEVR(epoch uint32, version, release string) string {
	evr := version + "-" + release
	if epoch != rpmNoEpoch && epoch != 0 {
		evr = strconv.FormatUint(uint64(epoch), 10) + ":" + evr
	}
	return evr
}

// rpmRequire parses one Depends entry: a relation ("glibc >= 2.28",
// "z3-libs", a rich "(a or b)"), or one for scriptlets in spec-file
// form, "Requires(post,preun,postun): systemd", which rpm installs
// before those scriptlets run and may remove once they no longer need it
// (%systemd_requires writes exactly these three).
func rpmRequire(s string) (*rpmRelation, error) {
	var contexts []string
	if rest, ok := strings.CutPrefix(s, "Requires("); ok {
		ctx, rel, ok := strings.Cut(rest, "):")
		if !ok {
			return nil, fmt.Errorf("rpm: relation %q: want Requires(post,preun,...): NAME [OP VERSION]", s)
		}
		contexts = strings.Split(ctx, ",")
		s = strings.TrimSpace(rel)
	}
	rel, err := parseRPMRelation(s)
	if err != nil {
		return nil, fmt.Errorf("rpm: relation %q: %w", s, err)
	}
	if rel.Name == "" {
		return nil, fmt.Errorf("rpm: relation %q names no package", s)
	}
	for _, c := range contexts {
		switch strings.TrimSpace(c) {
		case "pre":
			rel.Sense |= rpmtag.SenseScriptPre
		case "post":
			rel.Sense |= rpmtag.SenseScriptPost
		case "preun":
			rel.Sense |= rpmtag.SensePreun
		case "postun":
			rel.Sense |= rpmtag.SensePostun
		default:
			return nil, fmt.Errorf("rpm: relation Requires(%s): unknown scriptlet %q; use pre, post, preun or postun", strings.Join(contexts, ","), strings.TrimSpace(c))
		}
	}
	return rel, nil
}

// systemctlRE finds a scriptlet command that runs systemctl.
var systemctlRE = regexp.MustCompile(`(?m)(^|[\s;&|(])systemctl\s`)

// rpmScriptlets returns the package's scriptlets (nfpm's script files:
// PreInstall %pre, PostInstall %post, PreRemove %preun, PostRemove
// %postun), each run by /bin/sh, and adds to m the dependencies rpm
// orders the scriptlet after:
//
//   - Requires(pre|post|preun|postun): /bin/sh with RPMSENSE_INTERP, the
//     interpreter dependency rpmbuild writes for every scriptlet;
//   - Requires(...): systemd for a scriptlet that runs systemctl, as
//     %systemd_requires declares beside the %systemd_post, %systemd_preun
//     and %systemd_postun* macros: rpm then installs systemd before the
//     package in one transaction and keeps it until the package's %preun
//     and %postun have run.
func rpmScriptlets(info *nfpm.Info, m *rpmMetaData) ([]rpmScript, error) {
	var out []rpmScript
	for _, s := range []struct {
		file, name   string
		tag, progTag int
		sense        uint32
	}{
		{info.Scripts.PreInstall, "%pre", rpmtag.Prein, rpmtag.PreinProg, rpmtag.SenseScriptPre},
		{info.Scripts.PostInstall, "%post", rpmtag.Postin, rpmtag.PostinProg, rpmtag.SenseScriptPost},
		{info.Scripts.PreRemove, "%preun", rpmtag.Preun, rpmtag.PreunProg, rpmtag.SensePreun},
		{info.Scripts.PostRemove, "%postun", rpmtag.Postun, rpmtag.PostunProg, rpmtag.SensePostun},
	} {
		if s.file == "" {
			continue
		}
		body, err := os.ReadFile(s.file)
		if err != nil {
			return nil, fmt.Errorf("rpm: %s scriptlet: %w", s.name, err)
		}
		if strings.TrimSpace(string(body)) == "" {
			continue // rpmbuild writes no empty scriptlet either
		}
		out = append(out, rpmScript{tag: s.tag, progTag: s.progTag, body: string(body)})
		m.Requires = append(m.Requires, &rpmRelation{Name: "/bin/sh", Sense: s.sense | rpmtag.SenseInterp})
		if systemctlRE.Match(body) {
			m.Requires.addIfMissing(&rpmRelation{Name: "systemd", Sense: s.sense})
		}
	}
	return out, nil
}

// rpmISA is rpm's %{_isa} name of an rpm architecture
// (%{__isa_name}-%{__isa_bits}, /usr/lib/rpm/platform/ARCH-linux/macros).
var rpmISA = map[string]string{
	"x86_64": "x86-64", "i386": "x86-32", "i686": "x86-32", "aarch64": "aarch-64",
	"armv5tel": "armv5tel-32", "armv6hl": "armv6hl-32", "armv7hl": "armv7hl-32",
	"mips64el": "mips-64", "mipsel": "mips-32", "mips": "mips-32",
	"loongarch64": "loongarch64-64", "ppc64le": "ppc-64", "s390x": "s390-64", "riscv64": "riscv-64",
}

// rpmlib() features, the version of rpm that introduced each (rpm's
// lib/rpmds.c rpmlibProvides), as rpmbuild's rpmlibNeedsFeature names
// them.
var (
	rpmlibCompressedFileNames    = rpmlibFeature("CompressedFileNames", "3.0.4-1")
	rpmlibFileDigests            = rpmlibFeature("FileDigests", "4.6.0-1")
	rpmlibPayloadFilesHavePrefix = rpmlibFeature("PayloadFilesHavePrefix", "4.0-1")
	rpmlibTildeInVersions        = rpmlibFeature("TildeInVersions", "4.10.0-1")
	rpmlibCaretInVersions        = rpmlibFeature("CaretInVersions", "4.15.0-1")
	rpmlibRichDependencies       = rpmlibFeature("RichDependencies", "4.12.0-1")
	// The payload compressors rpm did not always read; gzip it always did.
	rpmlibPayload = map[string]rpmRelation{
		"xz":    rpmlibFeature("PayloadIsXz", "5.2-1"),
		"lzma":  rpmlibFeature("PayloadIsLzma", "4.4.6-1"),
		"zstd":  rpmlibFeature("PayloadIsZstd", "5.4.18-1"),
		"bzip2": rpmlibFeature("PayloadIsBzip2", "3.0.5-1"),
	}
)

// rpmlibFeature is the dependency rpmbuild writes for an rpmlib feature:
// rpmlib(NAME) <= VERSION with RPMSENSE_RPMLIB, which only rpm itself
// provides (rpm --showrc lists them under "Features supported by rpmlib").
func rpmlibFeature(name, version string) rpmRelation {
	return rpmRelation{Name: "rpmlib(" + name + ")", Version: version, Sense: rpmtag.SenseRPMLIB | rpmtag.SenseLess | rpmtag.SenseEqual}
}

// rpmlibRequires are the rpmlib() dependencies rpmbuild (4.18, build/pack.c
// and build/files.c) writes for a package of m's relations and payload,
// so that an rpm lacking a feature refuses the package up front ("rpmlib(X)
// is needed by ...") instead of failing half-way through:
//
//   - always (rpmbuild writes them even for a package without files):
//     CompressedFileNames (the DIRNAMES/BASENAMES index), FileDigests
//     (SHA-256 file digests), PayloadFilesHavePrefix (the ./ payload
//     names);
//   - the payload compressor: PayloadIsXz, PayloadIsLzma, PayloadIsZstd
//     (none for gzip);
//   - TildeInVersions / CaretInVersions when any relation's version, the
//     package's own provide included, has a '~' / '^';
//   - RichDependencies for a boolean "(a or b)" relation.
func rpmlibRequires(m *rpmMetaData) []*rpmRelation {
	feats := []rpmRelation{rpmlibCompressedFileNames, rpmlibFileDigests, rpmlibPayloadFilesHavePrefix}
	if f, ok := rpmlibPayload[m.Compressor]; ok {
		feats = append(feats, f)
	}
	var tilde, caret, rich bool
	for _, rels := range []rpmRelations{m.Provides, m.Requires, m.Conflicts, m.Obsoletes, m.Recommends, m.Suggests} {
		for _, r := range rels {
			tilde = tilde || strings.Contains(r.Version, "~")
			caret = caret || strings.Contains(r.Version, "^")
			rich = rich || strings.HasPrefix(r.Name, "(")
		}
	}
	if tilde {
		feats = append(feats, rpmlibTildeInVersions)
	}
	if caret {
		feats = append(feats, rpmlibCaretInVersions)
	}
	if rich {
		feats = append(feats, rpmlibRichDependencies)
	}
	out := make([]*rpmRelation, len(feats))
	for i := range feats {
		out[i] = &feats[i]
	}
	return out
}

// rpmFileEntry is one file of the package: its header fields and where its
// payload body comes from.
type rpmFileEntry struct {
	name         string // absolute
	mode         uint32 // with the type bits: 0o100000, 0o040000, 0o120000
	owner, group string
	mtime        uint32
	flags        uint32 // rpmtag.FileConfig, ...
	src          string // a regular file's content on disk
	size         int64  // a regular file's size
	link         string // a symlink's target
	digest       string // a regular file's SHA-256, set when the payload is written
}

// rpmMaxFileSize: FILESIZES and the newc payload hold 32-bit sizes.
const rpmMaxFileSize = math.MaxUint32

// rpmFile turns one nfpm content into a file entry under its absolute
// name; nil for entries rpm does not list (implicit directories). A
// regular file is only looked at here (its size); its bytes are read
// once, when the payload is written.
func rpmFile(c *files.Content) (*rpmFileEntry, error) {
	// Unix permission, setuid, setgid and sticky bits as given (nfpm's
	// preparation may add Go's own type bits, which rpm does not know).
	f := &rpmFileEntry{
		name:  files.ToNixPath(c.Destination),
		mode:  uint32(c.FileInfo.Mode & 0o7777),
		mtime: uint32(c.FileInfo.MTime.Unix()),
		owner: c.FileInfo.Owner,
		group: c.FileInfo.Group,
	}
	switch c.Type {
	case files.TypeImplicitDir:
		return nil, nil
	case files.TypeDir:
		f.mode |= 0o40000
		return f, nil
	case files.TypeSymlink:
		f.mode = 0o120777
		f.link = c.Source
		return f, nil
	case files.TypeFile:
	case files.TypeConfig:
		f.flags = rpmtag.FileConfig
	case files.TypeConfigNoReplace:
		f.flags = rpmtag.FileConfig | rpmtag.FileNoReplace
	case files.TypeConfigMissingOK:
		f.flags = rpmtag.FileConfig | rpmtag.FileMissingOK
	case files.TypeRPMDoc:
		f.flags = rpmtag.FileDoc
	case files.TypeRPMLicence, files.TypeRPMLicense:
		f.flags = rpmtag.FileLicense
	case files.TypeRPMReadme:
		f.flags = rpmtag.FileReadme
	default:
		return nil, fmt.Errorf("rpm: file %s: content type %q is not supported by relpack's rpm writer", c.Destination, c.Type)
	}
	st, err := os.Stat(c.Source)
	if err != nil {
		return nil, fmt.Errorf("rpm: file %s: %w", c.Destination, err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("rpm: file %s: %s is not a regular file (%v)", c.Destination, c.Source, st.Mode().Type())
	}
	if st.Size() > rpmMaxFileSize {
		return nil, fmt.Errorf("rpm: file %s: %s is %d bytes; relpack's rpm writer stores files under 4 GiB (rpm's 32-bit FILESIZES; it does not write LONGFILESIZES); ship it in the tarball", c.Destination, c.Source, st.Size())
	}
	f.mode |= 0o100000
	f.src, f.size = c.Source, st.Size()
	return f, nil
}

// rpmDirIndex is the header's directory index of the absolute file names:
// DIRINDEXES, one per file in the order the header lists files (sorted by
// name), and DIRNAMES, each directory once, with its trailing slash, in
// order of first use.
func rpmDirIndex(names []string) (indexes []uint32, dirs []string) {
	sorted := append([]string(nil), names...)
	sort.Strings(sorted)
	at := map[string]uint32{}
	for _, n := range sorted {
		d, _ := path.Split(n)
		i, ok := at[d]
		if !ok {
			i = uint32(len(dirs))
			at[d] = i
			dirs = append(dirs, d)
		}
		indexes = append(indexes, i)
	}
	return indexes, dirs
}

// rpmChange is one %changelog entry.
type rpmChange struct {
	time       uint32
	name, text string
}

// rpmChangelog is the %changelog of info's changelog file: one entry per
// release, "- note" per change, a note's further non-blank lines below it
// (the text nfpm writes).
func rpmChangelog(info *nfpm.Info) ([]rpmChange, error) {
	log, err := info.GetChangeLog()
	if err != nil {
		return nil, fmt.Errorf("rpm: reading the changelog: %w", err)
	}
	var out []rpmChange
	for _, e := range log.Entries {
		var lines []string
		for _, c := range e.Changes {
			note := strings.Split(c.Note, "\n")
			lines = append(lines, "- "+note[0])
			for _, l := range note[1:] {
				if strings.TrimSpace(l) != "" {
					lines = append(lines, l)
				}
			}
		}
		out = append(out, rpmChange{
			time: uint32(e.Date.Unix()),
			name: e.Packager + " - " + e.Semver,
			text: strings.TrimSpace(strings.Join(lines, "\n")),
		})
	}
	return out, nil
}
