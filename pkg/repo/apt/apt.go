// Package apt writes the index files of a Debian (apt) repository: per
// suite, dists/SUITE/COMPONENT/binary-ARCH/Packages (+ .gz, .xz) with their
// Acquire-By-Hash copies, and the Release file that lists them, signed as
// InRelease (clear-signed) and Release.gpg (detached). The debs themselves
// are placed under pool/ by the caller (pkg/repo); this package reads
// their control stanzas and checksums and never moves them.
//
// What apt (2.2, Debian 11, the oldest client the tests run) reads of it:
// InRelease first, Release + Release.gpg when InRelease is missing (both
// signatures are made, the detached one ASCII-armoured as Debian's own
// Release.gpg is; apt's gpgv reads armoured and binary alike). With
// "Acquire-By-Hash: yes" apt fetches each index as
// COMPONENT/binary-ARCH/by-hash/SHA256/<sha256> (the strongest hash
// Release lists), so a client holding the previous InRelease still gets
// the files it names while the next one is written (TestAptInBullseye
// sees apt 2.2.4 fetch only by-hash/SHA256). by-hash/MD5Sum copies are
// written too, for any client that looks an index up by the other hash
// Release lists; they cost only disk space.
//
// No per-architecture COMPONENT/binary-ARCH/Release is written: apt
// never fetches it (it reads the suite's InRelease/Release only; the
// per-directory file is a leftover of pre-apt-secure archives that
// apt-ftparchive writes only when configured to).
package apt

import (
	"bytes"
	"compress/gzip"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
	"github.com/ulikunitz/xz"

	"relpack/internal/regular"
	"relpack/internal/rootfs"
	"relpack/pkg/sign"
	"relpack/pkg/version"
)

// Package is one deb already in the tree.
type Package struct {
	// Path is the deb on disk (inside the tree); relative to Root when
	// Root is set.
	Path string
	// Root, when set, is the tree Path is read beneath: the deb is opened
	// through it without following a link (relpack repo's tree is
	// hostile input).
	Root *os.Root
	// Filename is its path relative to the tree root, as the Packages
	// stanza's Filename field gives it, e.g.
	// "pool/main/o/openshell-gateway/openshell-gateway_0.1.0-1~deb12_amd64.deb".
	Filename string
}

// Suite is one dists/SUITE of the tree.
type Suite struct {
	Suite       string   // the directory under dists/ and the Suite field, e.g. "bookworm"
	Codename    string   // the Codename field, e.g. "bookworm"
	Component   string   // e.g. "main"
	Arches      []string // Debian architecture names; a Packages file is written for each, even an empty one
	Packages    []Package
	Origin      string // Release's Origin and Label fields
	Label       string
	Description string
}

// Options are the settings every suite shares.
type Options struct {
	// Date is Release's Date field (SOURCE_DATE_EPOCH), so the same
	// inputs give the same bytes. It must be set, not in the future
	// (apt refuses a Release dated ahead of its clock: "not valid yet"),
	// and never earlier than the Date of the Release already in the tree:
	// apt silently keeps the InRelease it has when the new one is older
	// (its protection against downgrades), so such clients would never see
	// the update. WriteSuite refuses that; use the newest release's
	// SOURCE_DATE_EPOCH. An equal Date is fine.
	Date time.Time
	// Key signs InRelease and Release.gpg. It must not be nil: apt
	// refuses an unsigned repository without [trusted=yes].
	Key *sign.Key
}

// DateFormat is the layout of Release's Date field (RFC 2822 in UTC, as
// Debian's archive writes it).
const DateFormat = "Mon, 02 Jan 2006 15:04:05 UTC"

// IndexStanza is the Packages stanza of one deb: its control stanza (see
// ReadControl) with Filename, Size, MD5sum, SHA1, SHA256 and SHA512 (the
// fields apt-ftparchive adds, in its order) put before Description, which
// stays last as in the deb, or at the end when there is none.
func IndexStanza(p Package) (Stanza, error) {
	if err := checkFilename(p.Filename); err != nil {
		return nil, fmt.Errorf("%s: %v", p.Path, err)
	}
	f, name, err := p.open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ctl, err := readControl(f, name)
	if err != nil {
		return nil, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	hs := []hash.Hash{md5.New(), sha1.New(), sha256.New(), sha512.New()}
	ws := make([]io.Writer, len(hs))
	for i, h := range hs {
		ws[i] = h
	}
	size, err := io.Copy(io.MultiWriter(ws...), f)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	file := Stanza{{"Filename", p.Filename}, {"Size", strconv.FormatInt(size, 10)}}
	for i, name := range indexFields[2:] {
		file = append(file, Field{name, hex.EncodeToString(hs[i].Sum(nil))})
	}
	out := make(Stanza, 0, len(ctl)+len(file))
	at := len(ctl)
	for i, fl := range ctl {
		if strings.EqualFold(fl.Name, "Description") {
			at = i
		}
	}
	out = append(out, ctl[:at]...)
	out = append(out, file...)
	return append(out, ctl[at:]...), nil
}

// checkFilename refuses a Filename apt could not fetch or that would
// break the stanza: it must be a clean relative path of printable
// characters without blanks.
func checkFilename(name string) error {
	if name == "" {
		return errors.New("empty Filename")
	}
	for _, r := range name {
		if r <= ' ' || r == 0x7f {
			return fmt.Errorf("Filename %q holds a blank or control character", name)
		}
	}
	if path.IsAbs(name) || path.Clean(name) != name || name == ".." || strings.HasPrefix(name, "../") {
		return fmt.Errorf("Filename %q is not a clean path relative to the repository root", name)
	}
	return nil
}

// entry is one deb of a suite, read.
type entry struct {
	pkg            Package
	stanza         Stanza
	name, ver, arc string
}

// nameRE is what Suite, Codename, Component and architecture names may
// hold: they become directory names and Release fields.
var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]*$`)

func (s Suite) check() error {
	for _, c := range []struct{ what, v string }{{"Suite", s.Suite}, {"Component", s.Component}} {
		if !nameRE.MatchString(c.v) {
			return fmt.Errorf("suite %q: %s %q must be one word of letters, digits and . _ + -", s.Suite, c.what, c.v)
		}
	}
	if s.Codename != "" && !nameRE.MatchString(s.Codename) {
		return fmt.Errorf("suite %q: Codename %q must be one word of letters, digits and . _ + -", s.Suite, s.Codename)
	}
	if len(s.Arches) == 0 {
		return fmt.Errorf("suite %q has no architectures", s.Suite)
	}
	seen := map[string]bool{}
	for _, a := range s.Arches {
		if !archRE.MatchString(a) || a == "all" {
			return fmt.Errorf("suite %q: architecture %q is not a Debian architecture name (amd64, arm64, ...; \"all\" packages go into every architecture's index)", s.Suite, a)
		}
		if seen[a] {
			return fmt.Errorf("suite %q lists architecture %s twice", s.Suite, a)
		}
		seen[a] = true
	}
	for _, f := range []struct{ what, v string }{{"Origin", s.Origin}, {"Label", s.Label}, {"Description", s.Description}} {
		for _, r := range f.v {
			if r < ' ' || r == 0x7f {
				return fmt.Errorf("suite %q: %s %q holds a control character or line break", s.Suite, f.what, f.v)
			}
		}
	}
	return nil
}

// open opens p's deb (a FIFO or device is refused at once; beneath Root,
// a link too) and names it for messages.
func (p Package) open() (*os.File, string, error) {
	if p.Root == nil {
		f, _, err := regular.Open(p.Path)
		return f, p.Path, err
	}
	f, _, err := regular.OpenIn(p.Root, p.Path)
	return f, filepath.Join(p.Root.Name(), p.Path), err
}

// readSuite reads every deb of s, checks that each has an index to go in
// and that no two clash, and returns them sorted: package name, then
// version in dpkg's order, then Filename.
func readSuite(s Suite) ([]entry, error) {
	arches := map[string]bool{"all": true}
	for _, a := range s.Arches {
		arches[a] = true
	}
	var es []entry
	files := map[string]string{}
	for _, p := range s.Packages {
		if prev, ok := files[p.Filename]; ok {
			return nil, fmt.Errorf("suite %s: %s and %s both have Filename %s", s.Suite, prev, p.Path, p.Filename)
		}
		files[p.Filename] = p.Path
		st, err := IndexStanza(p)
		if err != nil {
			return nil, err
		}
		e := entry{pkg: p, stanza: st}
		e.name, _ = st.Get("Package")
		e.ver, _ = st.Get("Version")
		e.arc, _ = st.Get("Architecture")
		if !arches[e.arc] {
			return nil, fmt.Errorf("%s: Architecture %s is not one of suite %s's (%s); add it to the suite's architectures or leave the package out", p.Path, e.arc, s.Suite, strings.Join(s.Arches, ", "))
		}
		es = append(es, e)
	}
	sort.SliceStable(es, func(i, j int) bool {
		a, b := es[i], es[j]
		if a.name != b.name {
			return a.name < b.name
		}
		if c := version.CompareDebian(a.ver, b.ver); c != 0 {
			return c < 0
		}
		return a.pkg.Filename < b.pkg.Filename
	})
	// The same package, version and architecture twice: apt would pick
	// one of them, by position, and a client could get either. Refuse,
	// unless it is the same file listed under two names (checksums equal
	// is still two stanzas: refuse too, the caller should list it once).
	for i := 1; i < len(es); i++ {
		for j := i - 1; j >= 0 && es[j].name == es[i].name && version.CompareDebian(es[j].ver, es[i].ver) == 0; j-- {
			if es[j].arc == es[i].arc {
				return nil, fmt.Errorf("suite %s: %s and %s are both %s %s (%s); keep one of them", s.Suite, es[j].pkg.Path, es[i].pkg.Path, es[i].name, es[i].ver, es[i].arc)
			}
		}
	}
	return es, nil
}

// file is one file to write, its path relative to dists/SUITE.
type file struct {
	rel  string
	data []byte
}

// packagesFiles renders the Packages index of arch (and its compressed
// forms).
func packagesFiles(component, arch string, es []entry) ([]file, error) {
	var b bytes.Buffer
	for _, e := range es {
		if e.arc != arch && e.arc != "all" {
			continue
		}
		e.stanza.appendTo(&b)
		b.WriteByte('\n')
	}
	dir := component + "/binary-" + arch + "/"
	gz, err := gzipBytes(b.Bytes())
	if err != nil {
		return nil, err
	}
	x, err := xzBytes(b.Bytes())
	if err != nil {
		return nil, err
	}
	return []file{{dir + "Packages", b.Bytes()}, {dir + "Packages.gz", gz}, {dir + "Packages.xz", x}}, nil
}

// gzipBytes compresses with no name and modification time 0 in the
// header, so the bytes depend on the data alone.
func gzipBytes(data []byte) ([]byte, error) {
	var b bytes.Buffer
	w, err := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(data); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// xzBytes compresses with ulikunitz/xz's fixed settings (no timestamps,
// no threads): the same data gives the same bytes.
func xzBytes(data []byte) ([]byte, error) {
	var b bytes.Buffer
	w, err := xz.WriterConfig{}.NewWriter(&b)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(data); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// release renders the Release file listing indexes (sorted by path).
func release(s Suite, date time.Time, indexes []file) []byte {
	var b bytes.Buffer
	field := func(name, v string) {
		if v != "" {
			fmt.Fprintf(&b, "%s: %s\n", name, v)
		}
	}
	field("Origin", s.Origin)
	field("Label", s.Label)
	field("Suite", s.Suite)
	field("Codename", s.Codename)
	field("Date", date.UTC().Format(DateFormat))
	arches := append([]string(nil), s.Arches...)
	sort.Strings(arches)
	field("Architectures", strings.Join(arches, " "))
	field("Components", s.Component)
	field("Description", s.Description)
	field("Acquire-By-Hash", "yes")
	for _, h := range []struct {
		name string
		sum  func([]byte) string
	}{
		{"MD5Sum", func(d []byte) string { s := md5.Sum(d); return hex.EncodeToString(s[:]) }},
		{"SHA256", func(d []byte) string { s := sha256.Sum256(d); return hex.EncodeToString(s[:]) }},
	} {
		b.WriteString(h.name + ":\n")
		for _, f := range indexes {
			// apt-ftparchive's layout: the size right-aligned in 16.
			fmt.Fprintf(&b, " %s %16d %s\n", h.sum(f.data), len(f.data), f.rel)
		}
	}
	return b.Bytes()
}

// byHash returns the Acquire-By-Hash copies of an index file.
func byHash(f file) []file {
	dir := path.Dir(f.rel) + "/by-hash/"
	m := md5.Sum(f.data)
	s := sha256.Sum256(f.data)
	return []file{
		{dir + "MD5Sum/" + hex.EncodeToString(m[:]), f.data},
		{dir + "SHA256/" + hex.EncodeToString(s[:]), f.data},
	}
}

// Limits of what is read back from a tree (regular.ReadFileIn): a Release
// lists a few lines per index file, and the indexes here list one stanza
// of at most a few KiB per deb.
const (
	releaseLimit = 4 << 20
	indexLimit   = 256 << 20
)

// WriteSuite writes root/dists/s.Suite/ (WriteSuiteIn), root made when
// missing.
func WriteSuite(root string, s Suite, o Options) error {
	if err := os.MkdirAll(root, rootfs.DirMode); err != nil {
		return err
	}
	t, err := rootfs.Open(root)
	if err != nil {
		return err
	}
	defer t.Close()
	return WriteSuiteIn(t, s, o)
}

// WriteSuiteIn writes dists/s.Suite/ beneath t: every Packages index and
// its compressed forms, their by-hash copies (never removed: a client that
// read the previous InRelease can still fetch what it lists), then
// Release, Release.gpg and InRelease, each written to a temporary file and
// renamed, InRelease last. Re-running with the same inputs writes the same
// bytes. Every path is resolved beneath t (rootfs), so a symbolic link in
// the tree cannot send a write elsewhere; the debs are read at their Path.
//
// Everything is read, rendered and signed before the first file is
// written, so a bad deb or a signing failure leaves the tree as it was.
// Errors name the deb or the setting at fault.
func WriteSuiteIn(t *rootfs.Tree, s Suite, o Options) error {
	if o.Key == nil {
		return fmt.Errorf("suite %s: no signing key; apt refuses an unsigned repository, so give the key relpack build --sign uses", s.Suite)
	}
	if o.Date.IsZero() {
		return fmt.Errorf("suite %s: no Release date; set it from SOURCE_DATE_EPOCH", s.Suite)
	}
	if err := s.check(); err != nil {
		return err
	}
	dist := t.Sub("dists/" + s.Suite)
	if err := checkNotOlder(dist, o.Date); err != nil {
		return err
	}
	indexes, rel, err := render(s, o.Date)
	if err != nil {
		return err
	}
	var detached, inRelease bytes.Buffer
	if err := sign.DetachSignAt(o.Key, bytes.NewReader(rel), &detached, o.Date); err != nil {
		return fmt.Errorf("suite %s: Release.gpg: %v", s.Suite, err)
	}
	if err := sign.ClearSignAt(o.Key, rel, &inRelease, o.Date); err != nil {
		return fmt.Errorf("suite %s: InRelease: %v", s.Suite, err)
	}

	var hashed []file
	for _, f := range indexes {
		hashed = append(hashed, byHash(f)...)
	}
	// by-hash first: the new indexes are fetchable under their hashes
	// before anything names them; then the indexes under their names;
	// then what lists them, InRelease (which apt reads first) last.
	for _, f := range hashed {
		if err := writeByHash(dist, f); err != nil {
			return err
		}
	}
	for _, f := range append(indexes, file{"Release", rel}, file{"Release.gpg", detached.Bytes()}, file{"InRelease", inRelease.Bytes()}) {
		if err := dist.WriteFile(f.rel, f.data); err != nil {
			return err
		}
	}
	return nil
}

// render reads the debs of s and renders its index files (sorted by path)
// and the Release that lists them, dated date.
func render(s Suite, date time.Time) ([]file, []byte, error) {
	if err := s.check(); err != nil {
		return nil, nil, err
	}
	es, err := readSuite(s)
	if err != nil {
		return nil, nil, err
	}
	arches := append([]string(nil), s.Arches...)
	sort.Strings(arches)
	var indexes []file
	for _, a := range arches {
		fs, err := packagesFiles(s.Component, a, es)
		if err != nil {
			return nil, nil, fmt.Errorf("suite %s: %v", s.Suite, err)
		}
		indexes = append(indexes, fs...)
	}
	sort.Slice(indexes, func(i, j int) bool { return indexes[i].rel < indexes[j].rel })
	return indexes, release(s, date, indexes), nil
}

// CheckSuite holds dists/s.Suite/ beneath t to s: the Release there, its
// Date aside, must be the one WriteSuiteIn renders of s (same fields,
// same indexes, same checksums), InRelease must sign exactly that text,
// and every index file and by-hash copy Release lists must hold the
// rendered bytes. The error names the first file that differs. Files are
// read through regular.ReadFileIn, bounded, beneath t. Signatures are not
// checked: the tree may be signed by a key the caller does not hold.
func CheckSuite(t *rootfs.Tree, s Suite) error {
	dist := t.Sub("dists/" + s.Suite)
	b, err := regular.ReadFileIn(t.Root(), dist.Rel("Release"), releaseLimit, "an apt Release file")
	if err != nil {
		return err
	}
	date, err := parseDate(dist.Path("Release"), b)
	if err != nil {
		return err
	}
	if date.IsZero() {
		return fmt.Errorf("%s has no Date", dist.Path("Release"))
	}
	indexes, rel, err := render(s, date)
	if err != nil {
		return err
	}
	if !bytes.Equal(b, rel) {
		return fmt.Errorf("%s lists other indexes or fields than suite %s of the record would", dist.Path("Release"), s.Suite)
	}
	ib, err := regular.ReadFileIn(t.Root(), dist.Rel("InRelease"), releaseLimit+64<<10, "an apt InRelease file")
	if err != nil {
		return err
	}
	blk, rest := clearsign.Decode(ib)
	if blk == nil || len(bytes.TrimSpace(rest)) != 0 || !bytes.Equal(blk.Plaintext, bytes.TrimSuffix(rel, []byte("\n"))) {
		return fmt.Errorf("%s does not sign the text of %s", dist.Path("InRelease"), dist.Path("Release"))
	}
	var all []file
	for _, f := range indexes {
		all = append(append(all, f), byHash(f)...)
	}
	for _, f := range all {
		got, err := regular.ReadFileIn(t.Root(), dist.Rel(f.rel), int64(len(f.data)), "an apt index")
		var tl *regular.TooLargeError
		if errors.As(err, &tl) || err == nil && !bytes.Equal(got, f.data) {
			return fmt.Errorf("%s differs from the index suite %s of the record has", dist.Path(f.rel), s.Suite)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// checkNotOlder refuses a Date before that of the Release in dist, if
// there is one (see Options.Date).
func checkNotOlder(dist *rootfs.Tree, date time.Time) error {
	p := dist.Path("Release")
	b, err := regular.ReadFileIn(dist.Root(), dist.Rel("Release"), releaseLimit, "an apt Release file")
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	old, err := parseDate(p, b)
	if err != nil || old.IsZero() {
		return err
	}
	if date.Before(old) {
		return fmt.Errorf("%s is dated %s, after the new Date %s: apt clients holding it would silently keep the old indexes; date the repository by its newest release (the largest SOURCE_DATE_EPOCH)", p, old.Format(DateFormat), date.UTC().Format(DateFormat))
	}
	return nil
}

// parseDate is the Date field of the Release file b (at p), zero when
// it has none.
func parseDate(p string, b []byte) (time.Time, error) {
	for _, line := range strings.Split(string(b), "\n") {
		v, ok := strings.CutPrefix(line, "Date: ")
		if !ok {
			continue
		}
		for _, layout := range []string{DateFormat, time.RFC1123Z, time.RFC1123} {
			if d, err := time.Parse(layout, v); err == nil {
				return d, nil
			}
		}
		return time.Time{}, fmt.Errorf("%s: Date %q is not an RFC 2822 date; remove the file or fix it", p, v)
	}
	return time.Time{}, nil
}

// writeByHash writes a by-hash copy unless a file of that name already
// holds those bytes (its name is its hash: the usual case when an index
// did not change). A file of that name with other bytes is replaced: it
// was damaged. What is read back is bounded by the size of the copy, and
// a name that is not a regular file is an error.
func writeByHash(dist *rootfs.Tree, f file) error {
	old, err := regular.ReadFileIn(dist.Root(), dist.Rel(f.rel), int64(len(f.data)), "a by-hash index")
	var tl *regular.TooLargeError
	switch {
	case err == nil && bytes.Equal(old, f.data):
		return nil
	case err == nil, errors.Is(err, os.ErrNotExist), errors.As(err, &tl):
		return dist.WriteFile(f.rel, f.data)
	}
	return err
}
