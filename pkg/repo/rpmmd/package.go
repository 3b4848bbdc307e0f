package rpmmd

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"

	"relpack/internal/regular"
	"relpack/internal/rpmtag"
)

// changelogLimit is how many changelog entries other.xml carries per
// package, the newest ones: createrepo_c's default (--changelog-limit 10).
const changelogLimit = 10

// Dep is one rpm:entry of a provides/requires/... list.
type Dep struct {
	Name, Flags, Epoch, Ver, Rel string
	Pre                          bool
}

// File is one file of a package: Type is "", "dir" or "ghost".
type File struct {
	Path, Type string
}

// Changelog is one changelog entry.
type Changelog struct {
	Author string
	Date   int64
	Text   string
}

// Meta is what rpm-md says of one package: createrepo_c's cr_Package as
// cr_package_from_header fills it (createrepo_c 0.17, src/parsehdr.c).
type Meta struct {
	Name, Arch, Epoch, Version, Release string
	Checksum                            string // sha256 of the file, hex: the pkgid
	Summary, Description, Packager, URL string
	TimeFile, TimeBuild                 int64
	SizePackage, SizeInstalled          int64
	SizeArchive                         int64
	Href                                string
	License, Vendor, Group, BuildHost   string
	SourceRPM                           string
	HeaderStart, HeaderEnd              int64

	Provides, Requires, Conflicts, Obsoletes    []Dep
	Suggests, Enhances, Recommends, Supplements []Dep
	Files                                       []File
	Changelogs                                  []Changelog
}

// ReadMeta reads the rpm at path and returns its rpm-md metadata, with
// href as its location and fileTime as its <time file>. Errors name the
// file.
func ReadMeta(path, href string, fileTime int64) (*Meta, error) {
	f, fi, err := regular.Open(path) // a FIFO or device is refused at once
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readMeta(f, fi.Size(), path, href, fileTime)
}

// readMeta is ReadMeta of an open rpm of size bytes; path names it.
func readMeta(f io.ReaderAt, size int64, path, href string, fileTime int64) (*Meta, error) {
	r, err := ReadRPM(f, size)
	if err != nil {
		return nil, fmt.Errorf("%s: %w; not a readable rpm: rebuild the package or copy it again", path, err)
	}
	m, err := metaOf(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w; rebuild the package or copy it again", path, err)
	}
	h := sha256.New()
	n, err := io.Copy(h, io.NewSectionReader(f, 0, size))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if n != size {
		return nil, fmt.Errorf("%s: changed while being read (%d of %d bytes)", path, n, size)
	}
	m.Checksum = hex.EncodeToString(h.Sum(nil))
	m.SizePackage = size
	m.Href = href
	m.TimeFile = fileTime
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// reader gathers the first error of a run of header reads.
type reader struct {
	h   *Header
	err error
}

func (r *reader) str(tag uint32) string {
	s, _, err := r.h.String(tag)
	if err != nil && r.err == nil {
		r.err = err
	}
	return s
}

func (r *reader) strs(tag uint32) []string {
	s, err := r.h.Strings(tag)
	if err != nil && r.err == nil {
		r.err = err
	}
	return s
}

func (r *reader) ints(tag uint32) []uint64 {
	v, err := r.h.Ints(tag)
	if err != nil && r.err == nil {
		r.err = err
	}
	return v
}

func (r *reader) num(tag uint32) (uint64, bool) {
	v := r.ints(tag)
	if len(v) == 0 {
		return 0, false
	}
	return v[0], true
}

// metaOf is cr_package_from_header on a parsed rpm.
func metaOf(rpm *RPM) (*Meta, error) {
	h := rpm.Main
	r := &reader{h: h}
	m := &Meta{}
	m.Name = r.str(rpmtag.Name)
	if src, _ := r.num(rpmtag.SourcePackage); src != 0 {
		m.Arch = "src"
	} else {
		m.Arch = r.str(rpmtag.Arch)
	}
	m.Version = r.str(rpmtag.Version)
	epoch, _ := r.num(rpmtag.Epoch)
	m.Epoch = strconv.FormatUint(epoch, 10)
	m.Release = r.str(rpmtag.Release)
	m.Summary = r.str(rpmtag.Summary)
	m.Description = r.str(rpmtag.Description)
	m.URL = r.str(rpmtag.URL)
	bt, _ := r.num(rpmtag.BuildTime)
	m.TimeBuild = int64(bt)
	m.License = r.str(rpmtag.License)
	m.Vendor = r.str(rpmtag.Vendor)
	m.Group = r.str(rpmtag.Group)
	m.BuildHost = r.str(rpmtag.BuildHost)
	m.SourceRPM = r.str(rpmtag.SourceRPM)
	m.Packager = r.str(rpmtag.Packager)
	// rpm's LONGSIZE and LONGARCHIVESIZE extensions: the 64-bit tag, else
	// the 32-bit one. The archive sizes live in the signature header
	// (rpm merges them into the main header on reading: PAYLOADSIZE
	// becomes ARCHIVESIZE); rpm 6 packages may carry them in the main
	// header.
	if v, ok := r.num(rpmtag.LongSize); ok {
		m.SizeInstalled = int64(v)
	} else if v, ok := r.num(rpmtag.Size); ok {
		m.SizeInstalled = int64(v)
	}
	sr := &reader{h: rpm.Signature}
	switch {
	case h.Has(rpmtag.LongArchiveSize):
		v, _ := r.num(rpmtag.LongArchiveSize)
		m.SizeArchive = int64(v)
	case rpm.Signature.Has(rpmtag.LongArchiveSize):
		v, _ := sr.num(rpmtag.LongArchiveSize)
		m.SizeArchive = int64(v)
	case h.Has(rpmtag.ArchiveSize):
		v, _ := r.num(rpmtag.ArchiveSize)
		m.SizeArchive = int64(v)
	case rpm.Signature.Has(rpmtag.SigPayloadSize):
		v, _ := sr.num(rpmtag.SigPayloadSize)
		m.SizeArchive = int64(v)
	}
	if sr.err != nil {
		return nil, fmt.Errorf("signature header: %w", sr.err)
	}
	m.HeaderStart, m.HeaderEnd = rpm.HeaderRange()

	files, fileSet, err := readFiles(r)
	if err != nil {
		return nil, err
	}
	m.Files = files
	readDeps(r, m, fileSet, rpm)
	m.Changelogs = readChangelogs(r)
	if r.err != nil {
		return nil, fmt.Errorf("main header: %w", r.err)
	}
	return m, nil
}

// readFiles is the file list: DIRNAMES/BASENAMES/DIRINDEXES, or a v3
// header's OLDFILENAMES (rpm compresses it to those on reading), with
// the type of each: "dir" for a directory mode, "ghost" for %ghost.
// createrepo_c lists files only when the header also has FILEFLAGS,
// FILEMODES and FILEDIGESTS, up to the shortest of those arrays. fileSet
// holds every full name (for the requires filter).
func readFiles(r *reader) ([]File, map[string]bool, error) {
	var names []string
	if r.h.Has(rpmtag.DirNames) || !r.h.Has(rpmtag.OldFilenames) {
		dirs := r.strs(rpmtag.DirNames)
		idx := r.ints(rpmtag.DirIndexes)
		base := r.strs(rpmtag.BaseNames)
		if len(dirs) == 0 || len(idx) == 0 || len(base) == 0 {
			return nil, nil, r.err
		}
		n := min(len(idx), len(base))
		// Each full name is a directory name joined to a base name, so
		// one long directory named by every file would make names of
		// file count x its length from a small header. Their total is
		// checked against pathBudget before any is built.
		total, limit := uint64(0), pathBudget(r.h)
		for i := range n {
			if idx[i] >= uint64(len(dirs)) {
				return nil, nil, fmt.Errorf("file %q: directory index %d, but the header has %d directories", base[i], idx[i], len(dirs))
			}
			if total += uint64(len(dirs[idx[i]]) + len(base[i])); total > limit {
				return nil, nil, fmt.Errorf("the file names add up to more than %d bytes, %d times the %d-byte header (file %d of %d, in %q): a header rpmbuild writes stays far below; the package is corrupt or crafted", limit, pathRatio, len(r.h.Data), i+1, n, truncate(dirs[idx[i]], 64))
			}
		}
		names = make([]string, n)
		for i := range n {
			names[i] = dirs[idx[i]] + base[i]
		}
	} else {
		names = r.strs(rpmtag.OldFilenames)
	}
	flags := r.ints(rpmtag.FileFlags)
	modes := r.ints(rpmtag.FileModes)
	digests := r.strs(rpmtag.FileDigests)
	if flags == nil || modes == nil || digests == nil {
		return nil, nil, r.err
	}
	n := min(len(names), len(flags), len(modes), len(digests))
	files := make([]File, n)
	set := make(map[string]bool, n)
	for i := range n {
		f := File{Path: names[i]}
		switch {
		case modes[i]&0o170000 == 0o040000:
			f.Type = "dir"
		case flags[i]&rpmtag.FileGhost != 0:
			f.Type = "ghost"
		}
		files[i] = f
		set[names[i]] = true
	}
	return files, set, r.err
}

// What the full file names of one package may add up to: pathRatio times
// its main header's data store, plus pathBase. A header spends at least
// ~12 bytes per file on its base name, directory index, mode and flags
// (rpmbuild ~100, with the digest, sizes, times, owner); a 16x budget
// allows every file a name 16 times that, and pathBase a package of
// thousands of files whatever their depth.
const (
	pathRatio = 16
	pathBase  = 1 << 20
)

func pathBudget(h *Header) uint64 { return pathRatio*uint64(len(h.Data)) + pathBase }

// truncate cuts s to at most n bytes for a message.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// isPrimary is createrepo_c's cr_is_primary: the files primary.xml lists
// (yum's rule, which every rpm-md client expects): /etc/*, anything with
// "bin/" in it, and /usr/lib/sendmail.
func isPrimary(name string) bool {
	return strings.HasPrefix(name, "/etc/") || name == "/usr/lib/sendmail" || strings.Contains(name, "bin/")
}

// flagStr is createrepo_c's cr_flag_to_str: the comparison of a
// dependency, "" for none or a combination rpm-md cannot say.
func flagStr(f uint64) string {
	switch f & 0xf {
	case rpmtag.SenseLess:
		return "LT"
	case rpmtag.SenseGreater:
		return "GT"
	case rpmtag.SenseEqual:
		return "EQ"
	case rpmtag.SenseLess | rpmtag.SenseEqual:
		return "LE"
	case rpmtag.SenseGreater | rpmtag.SenseEqual:
		return "GE"
	}
	return ""
}

// splitEVR is createrepo_c's cr_str_to_evr: [EPOCH:]VERSION[-RELEASE],
// the epoch "0" when not given. ok is false for a non-numeric epoch
// (createrepo_c then drops the dependency with a warning).
func splitEVR(s string) (epoch, ver, rel string, ok bool) {
	if s == "" {
		return "", "", "", true
	}
	rest := s
	if i := strings.IndexByte(s, ':'); i >= 0 {
		// strtol's idea of a number: blanks, a sign, digits; an
		// empty epoch (":1.0") reads as none.
		if i > 0 && !strtolWhole(s[:i]) {
			return "", "", "", false
		}
		epoch = s[:i]
		rest = s[i+1:]
	}
	if epoch == "" {
		epoch = "0"
	}
	if j := strings.IndexByte(rest, '-'); j >= 0 {
		ver, rel = rest[:j], rest[j+1:]
	} else {
		ver = rest
	}
	return epoch, ver, rel, true
}

// strtolWhole reports whether C's strtol(s, &end, 10) consumes all of s.
func strtolWhole(s string) bool {
	i := 0
	for i < len(s) && strings.IndexByte(" \t\n\v\f\r", s[i]) >= 0 {
		i++
	}
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	d := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i > d && i == len(s)
}

// depKinds are createrepo_c's dep_items, in its order (provides before
// requires: the requires filter looks at the provides), with the two
// legacy weak-dependency tags of a build with ENABLE_LEGACY_WEAKDEPS
// (Debian's createrepo-c, the differential oracle, is one).
var depKinds = []struct {
	kind                     string
	nameTag, flagTag, verTag uint32
}{
	{"provides", rpmtag.ProvideName, rpmtag.ProvideFlags, rpmtag.ProvideVersion},
	{"conflicts", rpmtag.ConflictName, rpmtag.ConflictFlags, rpmtag.ConflictVersion},
	{"obsoletes", rpmtag.ObsoleteName, rpmtag.ObsoleteFlags, rpmtag.ObsoleteVersion},
	{"requires", rpmtag.RequireName, rpmtag.RequireFlags, rpmtag.RequireVersion},
	{"suggests", rpmtag.SuggestName, rpmtag.SuggestFlags, rpmtag.SuggestVersion},
	{"enhances", rpmtag.EnhanceName, rpmtag.EnhanceFlags, rpmtag.EnhanceVersion},
	{"recommends", rpmtag.RecommendName, rpmtag.RecommendFlags, rpmtag.RecommendVersion},
	{"supplements", rpmtag.SupplementName, rpmtag.SupplementFlags, rpmtag.SupplementVersion},
	{"oldsuggests", rpmtag.OldSuggestsName, rpmtag.OldSuggestsFlags, rpmtag.OldSuggestsVersion},
	{"oldenhances", rpmtag.OldEnhancesName, rpmtag.OldEnhancesFlags, rpmtag.OldEnhancesVersion},
}

// readDeps fills the dependency lists as cr_package_from_header does:
// requires drop rpmlib() ones, files of the package that primary.xml
// lists, exact copies of a provide, and a repeat of the previous
// requirement of the same name; pre="1" marks a requirement of a
// %pre/%post/%pretrans/%posttrans scriptlet (or a legacy PreReq); of the
// libc.so.6 requirements only the highest version is kept (listed last);
// requires with RPMSENSE_MISSINGOK are recommends (legacy weak deps).
func readDeps(r *reader, m *Meta, fileSet map[string]bool, rpm *RPM) {
	c := readDepColumns(r)
	if !rpm.Main.Has(rpmtag.HeaderImmutable) && rpm.Main.Has(rpmtag.SourceRPM) && m.Name != "" {
		c.addNVRProvide(m, rpm.Main.Has(rpmtag.Epoch))
	}
	dr := &depReader{m: m, fileSet: fileSet, provided: map[string]bool{}, seen: map[string]lastRequire{}}
	for i, k := range depKinds {
		if c.names[i] == nil || c.flags[i] == nil || c.vers[i] == nil {
			continue
		}
		dr.readKind(k.kind, c.names[i], c.flags[i], c.vers[i])
	}
}

// depColumns are the name, flags and version arrays of each of depKinds,
// by its index, as the header gives them (nil when it lacks the tag).
type depColumns struct {
	names [][]string
	flags [][]uint64
	vers  [][]string
}

func readDepColumns(r *reader) depColumns {
	c := depColumns{make([][]string, len(depKinds)), make([][]uint64, len(depKinds)), make([][]string, len(depKinds))}
	for i, k := range depKinds {
		c.names[i], c.flags[i], c.vers[i] = r.strs(k.nameTag), r.ints(k.flagTag), r.strs(k.verTag)
	}
	return c
}

// addNVRProvide adds "NAME = EVR" to the provides (depKinds[0]) unless
// they have it: rpm 4.18 reading a v3 header (no immutable region) of a
// binary package gives it the provide that rpm before 3.0.3 did not write
// (lib/headerutil.c providePackageNVR); createrepo_c on Debian 12 reads
// through that rpm.
func (c *depColumns) addNVRProvide(m *Meta, hasEpoch bool) {
	evr := m.Version + "-" + m.Release
	if hasEpoch {
		evr = m.Epoch + ":" + evr
	}
	if c.names[0] != nil && c.vers[0] == nil {
		c.vers[0] = make([]string, len(c.names[0]))
		c.flags[0] = make([]uint64, len(c.names[0]))
	}
	names, flags, vers := c.names[0], c.flags[0], c.vers[0]
	n := min(len(names), len(flags), len(vers))
	for i := range n {
		if names[i] == m.Name && vers[i] == evr && flags[i]&0xf == rpmtag.SenseEqual {
			return
		}
	}
	c.names[0] = append(names[:n:n], m.Name)
	c.vers[0] = append(vers[:n:n], evr)
	c.flags[0] = append(flags[:n:n], rpmtag.SenseEqual)
}

// rawDep is one entry of a dependency tag, its version not yet split.
type rawDep struct {
	name  string
	fl    uint64
	flags string // flagStr(fl)
	ver   string
}

// lastRequire is what the requires filter remembers of the previous
// requirement of a name.
type lastRequire struct {
	flags, ver string
	pre        bool
}

// depReader adds dependencies to m, remembering across the kinds what
// createrepo_c's requires filter looks at.
type depReader struct {
	m        *Meta
	fileSet  map[string]bool
	provided map[string]bool // name+flags+version of each provide added
	seen     map[string]lastRequire
}

// readKind adds the entries of one of depKinds; a kind's highest
// libc.so.6 requirement is listed after its other requirements.
func (dr *depReader) readKind(kind string, names []string, flags []uint64, vers []string) {
	var libc *Dep
	for j := range min(len(names), len(flags), len(vers)) {
		rd := rawDep{name: names[j], fl: flags[j], flags: flagStr(flags[j]), ver: vers[j]}
		pre := false
		if kind == "requires" {
			var keep bool
			if pre, keep = dr.keepRequire(rd); !keep {
				continue
			}
		}
		e, v, rel, ok := splitEVR(rd.ver)
		if !ok {
			continue // createrepo_c: "Bad epoch ... Skipping this dependency"
		}
		d := Dep{Name: rd.name, Flags: rd.flags, Epoch: e, Ver: v, Rel: rel}
		if kind == "requires" {
			libc = dr.addRequire(rd, d, pre, libc)
			continue
		}
		dr.add(kind, rd, d)
	}
	if libc != nil {
		dr.m.Requires = append(dr.m.Requires, *libc)
	}
}

// keepRequire is createrepo_c's filter of requires: keep is false for an
// rpmlib() one, a file of the package primary.xml lists, an exact copy
// of a provide, or a repeat of the previous requirement of the name; pre
// is true for a scriptlet's requirement.
func (dr *depReader) keepRequire(rd rawDep) (pre, keep bool) {
	switch {
	case strings.HasPrefix(rd.name, "rpmlib("):
		return false, false
	case strings.HasPrefix(rd.name, "/") && dr.fileSet[rd.name] && isPrimary(rd.name):
		return false, false
	case dr.provided[rd.name+rd.flags+rd.ver]:
		return false, false
	}
	pre = rd.fl&(rpmtag.SensePrereq|rpmtag.SenseScriptPre|rpmtag.SensePostTrans|rpmtag.SensePreTrans|rpmtag.SenseScriptPost) != 0
	if l, ok := dr.seen[rd.name]; ok && l == (lastRequire{rd.flags, rd.ver, pre}) {
		return pre, false
	}
	return pre, true
}

// addRequire adds a requirement kept: a MISSINGOK one as a recommend, a
// libc.so.6 one as the kind's libc when higher than libc (returned).
func (dr *depReader) addRequire(rd rawDep, d Dep, pre bool, libc *Dep) *Dep {
	m := dr.m
	if rd.fl&rpmtag.SenseMissingOK != 0 {
		m.Recommends = append(m.Recommends, d)
		return libc
	}
	d.Pre = pre
	if strings.HasPrefix(rd.name, "libc.so.6") {
		if libc == nil || compareLibc(libc.Name, rd.name) == 2 {
			return &d
		}
		return libc
	}
	m.Requires = append(m.Requires, d)
	dr.seen[rd.name] = lastRequire{rd.flags, rd.ver, pre}
	return libc
}

// add adds a dependency of any kind but requires.
func (dr *depReader) add(kind string, rd rawDep, d Dep) {
	if kind == "provides" {
		dr.provided[rd.name+rd.flags+rd.ver] = true
	}
	l := dr.m.depList(kind, rd.fl)
	*l = append(*l, d)
}

// depList is the list of m a dependency of one of depKinds but requires
// goes to; the legacy weak kinds go to the one their strength gives.
func (m *Meta) depList(kind string, fl uint64) *[]Dep {
	strong := fl&rpmtag.SenseStrong != 0
	switch kind {
	case "provides":
		return &m.Provides
	case "conflicts":
		return &m.Conflicts
	case "obsoletes":
		return &m.Obsoletes
	case "suggests", "oldsuggests":
		if kind == "oldsuggests" && strong {
			return &m.Recommends
		}
		return &m.Suggests
	case "enhances", "oldenhances":
		if kind == "oldenhances" && strong {
			return &m.Supplements
		}
		return &m.Enhances
	case "recommends":
		return &m.Recommends
	case "supplements":
		return &m.Supplements
	}
	panic("rpmmd: no list for dependency kind " + kind) // depKinds and this switch disagree
}

// compareLibc is createrepo_c's cr_compare_dependency on two names that
// start alike ("libc.so.6..."): 0 same, 1 the first is higher, 2 the
// second, by the version in the first parentheses
// (libc.so.6() < libc.so.6(GLIBC_2.3.4)(64bit) < libc.so.6(GLIBC_2.4)).
func compareLibc(a, b string) int {
	if a == b {
		return 0
	}
	ia, ib := strings.IndexByte(a, '('), strings.IndexByte(b, '(')
	switch {
	case ia < 0 && ib < 0:
		return 0
	case ia < 0:
		return 2
	case ib < 0:
		return 1
	}
	ea, eb := strings.IndexByte(a[ia:], ')'), strings.IndexByte(b[ib:], ')')
	switch {
	case ea < 0 && eb < 0:
		return -1
	case ea < 0:
		return 2
	case eb < 0:
		return 1
	}
	ea, eb = ia+ea, ib+eb // indexes of the ')'
	ia, ib = ia+1, ib+1
	switch {
	case ia == ea && ib == eb:
		return 0
	case ia == ea:
		return 2
	case ib == eb:
		return 1
	}
	digit := func(s string, i int) int {
		for i < len(s) && (s[i] < '0' || s[i] > '9') {
			i++
		}
		return i
	}
	ia, ib = digit(a, ia), digit(b, ib)
	switch {
	case ia > ea && ib > eb:
		return 0
	case ia > ea:
		return 2
	case ib > eb:
		return 1
	}
	va, vb := "", ""
	if ia < ea {
		va = a[ia:ea]
	}
	if ib < eb {
		vb = b[ib:eb]
	}
	if c := rpmvercmp(va, vb); c < 0 {
		return 2
	} else {
		return c
	}
}

// readChangelogs is createrepo_c's changelog reading: the first
// changelogLimit entries of the header (the newest), oldest first, the
// author's trailing blanks cut, and entries of the same time made
// distinct by moving the older ones up a second each.
func readChangelogs(r *reader) []Changelog {
	times, names, texts := r.ints(rpmtag.ChangelogTime), r.strs(rpmtag.ChangelogName), r.strs(rpmtag.ChangelogText)
	if times == nil || names == nil || texts == nil {
		return nil
	}
	n := min(len(times), len(names), len(texts), changelogLimit)
	// built as createrepo_c's prepended list: out[0] is the newest.
	var rev []Changelog
	var lastTime int64
	for i := range n {
		t := int64(times[i])
		author := names[i]
		for len(author) > 1 && author[len(author)-1] == ' ' {
			author = author[:len(author)-1]
		}
		rev = append(rev, Changelog{Author: author, Date: t, Text: texts[i]})
		if lastTime == t {
			tmp := t
			for j := len(rev) - 2; j >= 0 && rev[j].Date == tmp; j-- {
				rev[j].Date++
				tmp++
			}
		} else {
			lastTime = t
		}
	}
	out := make([]Changelog, len(rev))
	for i := range rev {
		out[len(rev)-1-i] = rev[i]
	}
	return out
}
