// Package rpmmd writes the repodata/ of an rpm-md (dnf/yum) repository:
// primary, filelists and other (gzip'd XML, named by their sha256),
// repomd.xml listing them, and its detached signature repomd.xml.asc (dnf's
// repo_gpgcheck). The rpms are placed by the caller (pkg/repo); this
// package reads their headers and checksums and never moves them.
//
// The XML says of each package what createrepo_c (0.17, src/parsehdr.c
// and xml_dump*.c) says, read by this package's own rpm header reader
// (ReadRPM: lead, signature and main header, v3 and v4, every count and
// length checked against the file before anything is allocated;
// ReadMeta: createrepo_c's field mapping and filters). The tests compare
// the parsed output with the real createrepo_c's and install from the
// tree with the real dnf. Differences from createrepo_c, on purpose:
// <time file> is Options.Time, not the rpm's mtime; no sqlite databases
// (dnf reads the XML); a package with a string XML 1.0 cannot carry is an
// error for the whole call, where createrepo_c leaves the package out.
package rpmmd

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"relpack/internal/regular"
	"relpack/internal/rootfs"
	"relpack/pkg/sign"
)

// Package is one rpm already in the repository directory.
type Package struct {
	// Path is the rpm on disk; relative to Root when Root is set.
	Path string
	// Root, when set, is the tree Path is read beneath: the rpm is opened
	// through it without following a link (relpack repo's tree is
	// hostile input).
	Root *os.Root
	// Href is its path relative to the repository directory (the
	// directory holding repodata/), e.g. "Packages/openshell-gateway-0.1.0-1.el8.x86_64.rpm".
	Href string
}

// Options are the settings of one repository.
type Options struct {
	// Time is every timestamp repomd.xml and the XML carry (file
	// times, revision): SOURCE_DATE_EPOCH, so the same inputs give the
	// same bytes.
	Time time.Time
	// Key signs repomd.xml (repomd.xml.asc). It must not be nil.
	Key *sign.Key
}

// WriteRepo writes dir/repodata/ (WriteRepoIn), dir made when missing.
func WriteRepo(dir string, pkgs []Package, o Options) error {
	if err := os.MkdirAll(dir, rootfs.DirMode); err != nil {
		return fmt.Errorf("rpmmd: %w", err)
	}
	t, err := rootfs.Open(dir)
	if err != nil {
		return fmt.Errorf("rpmmd: %w", err)
	}
	defer t.Close()
	return WriteRepoIn(t, pkgs, o)
}

// Limits of what is read back from a tree (regular.ReadFileIn).
const repomdLimit = 1 << 20

// WriteRepoIn writes repodata/ beneath t (the repository folder):
// SHA256-primary.xml.gz, SHA256-filelists.xml.gz and SHA256-other.xml.gz
// (earlier ones are kept, so a client holding the previous repomd.xml can
// still fetch them), then repomd.xml.asc and repomd.xml, each written to
// a temporary file and renamed, repomd.xml last. Every path is resolved
// beneath t (rootfs), so a symbolic link in the tree cannot send a write
// elsewhere; the rpms are read at their Path.
//
// The packages are listed in the order of their Href, whatever the order
// of pkgs, and every time in the XML is o.Time except a package's build
// time (its header's), so the same rpms and time give the same bytes.
// <time file> is o.Time too: createrepo_c writes the rpm's mtime there.
func WriteRepoIn(t *rootfs.Tree, pkgs []Package, o Options) error {
	if o.Key == nil {
		return errors.New("rpmmd: no signing key: repomd.xml must be signed (dnf's repo_gpgcheck)")
	}
	if o.Time.IsZero() {
		return errors.New("rpmmd: Options.Time is not set (SOURCE_DATE_EPOCH)")
	}
	files, repomd, err := render(pkgs, o.Time)
	if err != nil {
		return err
	}
	var sig bytes.Buffer
	if err := sign.DetachSignAt(o.Key, bytes.NewReader(repomd), &sig, o.Time); err != nil {
		return fmt.Errorf("rpmmd: signing repomd.xml: %w", err)
	}
	repodata := t.Sub("repodata")
	if err := repodata.MkdirAll("."); err != nil {
		return fmt.Errorf("rpmmd: %w", err)
	}
	// The data files, then the signature: between the two last renames a
	// client may see the new signature with the old repomd.xml and fail
	// its check (and try again), but it never accepts an unsigned or
	// wrongly signed index.
	files = append(files, dataFile{"repomd.xml.asc", sig.Bytes()}, dataFile{"repomd.xml", repomd})
	for _, f := range files {
		if err := repodata.WriteFile(f.name, f.data); err != nil {
			return fmt.Errorf("rpmmd: %w", err)
		}
	}
	return nil
}

// dataFile is one file of repodata/.
type dataFile struct {
	name string
	data []byte
}

// render reads the rpms and renders the gzip'd data files and
// repomd.xml, dated at.
func render(pkgs []Package, at time.Time) ([]dataFile, []byte, error) {
	metas, err := readAll(pkgs, at.Unix())
	if err != nil {
		return nil, nil, err
	}
	var records []record
	var files []dataFile
	for _, d := range []struct {
		typ  string
		data []byte
	}{
		{"primary", primaryXML(metas)},
		{"filelists", filelistsXML(metas)},
		{"other", otherXML(metas)},
	} {
		r, gz, err := gzipData(d.typ, d.data)
		if err != nil {
			return nil, nil, err
		}
		records = append(records, r)
		files = append(files, dataFile{strings.TrimPrefix(r.href, "repodata/"), gz})
	}
	return files, repomdXML(records, at.Unix()), nil
}

var revisionRE = regexp.MustCompile(`<revision>([0-9]{1,19})</revision>`)

// CheckRepo holds repodata/ beneath t to pkgs: repomd.xml there, dated by
// its own <revision>, must be the one WriteRepoIn renders of pkgs, and
// every data file it lists must hold the rendered bytes. The error names
// the first file that differs. Files are read through regular.ReadFileIn,
// bounded, beneath t. The signature is not checked: the tree may be
// signed by a key the caller does not hold.
func CheckRepo(t *rootfs.Tree, pkgs []Package) error {
	repodata := t.Sub("repodata")
	b, err := regular.ReadFileIn(t.Root(), repodata.Rel("repomd.xml"), repomdLimit, "an rpm-md repomd.xml")
	if err != nil {
		return err
	}
	m := revisionRE.FindSubmatch(b)
	if m == nil {
		return fmt.Errorf("%s has no <revision>", repodata.Path("repomd.xml"))
	}
	rev, err := strconv.ParseInt(string(m[1]), 10, 64)
	if err != nil {
		return fmt.Errorf("%s: <revision> %s: %v", repodata.Path("repomd.xml"), m[1], err)
	}
	files, repomd, err := render(pkgs, time.Unix(rev, 0))
	if err != nil {
		return err
	}
	if !bytes.Equal(b, repomd) {
		return fmt.Errorf("%s lists other data than the record's packages give", repodata.Path("repomd.xml"))
	}
	for _, f := range files {
		got, err := regular.ReadFileIn(t.Root(), repodata.Rel(f.name), int64(len(f.data)), "an rpm-md data file")
		var tl *regular.TooLargeError
		if errors.As(err, &tl) || err == nil && !bytes.Equal(got, f.data) {
			return fmt.Errorf("%s differs from the record's", repodata.Path(f.name))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// ValidHref checks a package location: a clean relative slash-separated
// path inside the repository, such as "Packages/x-1-1.el8.x86_64.rpm".
func ValidHref(href string) error {
	switch {
	case href == "":
		return errors.New("empty location")
	case strings.HasPrefix(href, "/"):
		return fmt.Errorf("location %q is absolute; give it relative to the repository folder", href)
	case path.Clean(href) != href || href == "." || href == ".." || strings.HasPrefix(href, "../"):
		return fmt.Errorf("location %q is not a clean path inside the repository folder", href)
	case strings.ContainsAny(href, "\\"):
		return fmt.Errorf("location %q has a backslash; use /", href)
	case strings.HasPrefix(href, "repodata/"):
		return fmt.Errorf("location %q is inside repodata/, which holds the indexes", href)
	}
	return nil
}

// readMeta is ReadMeta of p, opened beneath p.Root when set.
func (p Package) readMeta(fileTime int64) (*Meta, error) {
	if p.Root == nil {
		return ReadMeta(p.Path, p.Href, fileTime)
	}
	f, fi, err := regular.OpenIn(p.Root, p.Path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readMeta(f, fi.Size(), filepath.Join(p.Root.Name(), p.Path), p.Href, fileTime)
}

// readAll reads every package's metadata, sorted by Href.
func readAll(pkgs []Package, fileTime int64) ([]*Meta, error) {
	sorted := append([]Package(nil), pkgs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Href < sorted[j].Href })
	metas := make([]*Meta, 0, len(sorted))
	for i, p := range sorted {
		if err := ValidHref(p.Href); err != nil {
			return nil, fmt.Errorf("rpmmd: %s: %w", p.Path, err)
		}
		if i > 0 && sorted[i-1].Href == p.Href {
			return nil, fmt.Errorf("rpmmd: %s and %s are both given the location %s", sorted[i-1].Path, p.Path, p.Href)
		}
		m, err := p.readMeta(fileTime)
		if err != nil {
			return nil, fmt.Errorf("rpmmd: %w", err)
		}
		metas = append(metas, m)
	}
	return metas, nil
}

// record is one <data> of repomd.xml.
type record struct {
	typ, href         string
	checksum, openSum string
	size, openSize    int64
}

// gzipData gzips data (no name, mtime 0: the bytes depend on data
// alone); the record names it repodata/SHA256-TYPE.xml.gz.
func gzipData(typ string, data []byte) (record, []byte, error) {
	var gz bytes.Buffer
	zw, err := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	if err != nil {
		return record{}, nil, err
	}
	if _, err := zw.Write(data); err != nil {
		return record{}, nil, err
	}
	if err := zw.Close(); err != nil {
		return record{}, nil, err
	}
	sum := sha256.Sum256(gz.Bytes())
	open := sha256.Sum256(data)
	r := record{
		typ:      typ,
		checksum: hex.EncodeToString(sum[:]),
		openSum:  hex.EncodeToString(open[:]),
		size:     int64(gz.Len()),
		openSize: int64(len(data)),
	}
	r.href = "repodata/" + r.checksum + "-" + typ + ".xml.gz"
	return r, gz.Bytes(), nil
}

// repomdXML is repomd.xml as createrepo_c lays it out, its revision and
// timestamps the given time.
func repomdXML(records []record, t int64) []byte {
	var w xw
	w.line(0, xmlDecl)
	w.line(0, "<repomd"+attrs("xmlns", nsRepo, "xmlns:rpm", nsRPM)+">")
	w.elem(1, "revision", itoa(t))
	for _, r := range records {
		w.line(1, "<data"+attrs("type", r.typ)+">")
		w.line(2, `<checksum type="sha256">`+r.checksum+`</checksum>`)
		w.line(2, `<open-checksum type="sha256">`+r.openSum+`</open-checksum>`)
		w.line(2, "<location"+attrs("href", r.href)+"/>")
		w.elem(2, "timestamp", itoa(t))
		w.elem(2, "size", itoa(r.size))
		w.elem(2, "open-size", itoa(r.openSize))
		w.line(1, "</data>")
	}
	w.line(0, "</repomd>")
	return []byte(w.String())
}
