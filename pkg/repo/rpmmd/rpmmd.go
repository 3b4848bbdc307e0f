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
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"relpack/pkg/pack"
	"relpack/pkg/sign"
)

// Package is one rpm already in the repository directory.
type Package struct {
	// Path is the rpm on disk.
	Path string
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

// WriteRepo writes dir/repodata/: SHA256-primary.xml.gz,
// SHA256-filelists.xml.gz and SHA256-other.xml.gz (earlier ones are kept,
// so a client holding the previous repomd.xml can still fetch them), then
// repomd.xml.asc and repomd.xml, each written to a temporary file and
// renamed, repomd.xml last.
//
// The packages are listed in the order of their Href, whatever the order
// of pkgs, and every time in the XML is o.Time except a package's build
// time (its header's), so the same rpms and time give the same bytes.
// <time file> is o.Time too: createrepo_c writes the rpm's mtime there.
func WriteRepo(dir string, pkgs []Package, o Options) error {
	if o.Key == nil {
		return errors.New("rpmmd: no signing key: repomd.xml must be signed (dnf's repo_gpgcheck)")
	}
	if o.Time.IsZero() {
		return errors.New("rpmmd: Options.Time is not set (SOURCE_DATE_EPOCH)")
	}
	metas, err := readAll(pkgs, o.Time.Unix())
	if err != nil {
		return err
	}
	repodata := filepath.Join(dir, "repodata")
	if err := os.MkdirAll(repodata, 0o755); err != nil {
		return fmt.Errorf("rpmmd: %w", err)
	}
	var records []record
	for _, d := range []struct {
		typ  string
		data []byte
	}{
		{"primary", primaryXML(metas)},
		{"filelists", filelistsXML(metas)},
		{"other", otherXML(metas)},
	} {
		r, err := writeData(repodata, d.typ, d.data)
		if err != nil {
			return err
		}
		records = append(records, r)
	}
	repomd := repomdXML(records, o.Time.Unix())
	var sig bytes.Buffer
	if err := sign.DetachSignAt(o.Key, bytes.NewReader(repomd), &sig, o.Time); err != nil {
		return fmt.Errorf("rpmmd: signing repomd.xml: %w", err)
	}
	// The signature first: between the two renames a client may see the
	// new signature with the old repomd.xml and fail its check (and try
	// again), but it never accepts an unsigned or wrongly signed index.
	for _, f := range []struct {
		name string
		data []byte
	}{{"repomd.xml.asc", sig.Bytes()}, {"repomd.xml", repomd}} {
		if err := writeFile(filepath.Join(repodata, f.name), f.data); err != nil {
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
		m, err := ReadMeta(p.Path, p.Href, fileTime)
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

// writeData gzips data (no name, mtime 0: the bytes depend on data
// alone) and writes it as repodata/SHA256-TYPE.xml.gz.
func writeData(repodata, typ string, data []byte) (record, error) {
	var gz bytes.Buffer
	zw, err := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	if err != nil {
		return record{}, err
	}
	if _, err := zw.Write(data); err != nil {
		return record{}, err
	}
	if err := zw.Close(); err != nil {
		return record{}, err
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
	name := r.checksum + "-" + typ + ".xml.gz"
	r.href = "repodata/" + name
	if err := writeFile(filepath.Join(repodata, name), gz.Bytes()); err != nil {
		return record{}, err
	}
	return r, nil
}

func writeFile(p string, data []byte) error {
	if err := pack.WriteFileAtomic(p, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	}); err != nil {
		return fmt.Errorf("rpmmd: writing %s: %w", p, err)
	}
	return nil
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
