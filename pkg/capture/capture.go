// Package capture reads a distro's real package files (.deb or .rpm) and
// writes the library facts relpack's distro catalogue holds for them: for
// every ELF shared object with a SONAME, the package that ships it, the
// version, the symbol versions it defines, the dynamic symbols it exports
// and, for debs, the relation dpkg-shlibdeps would write (shlibs and
// symbols files). `relpack distro capture` is its command; maintainers run
// it on the distro's packages to add or refresh a target.
package capture

import (
	"archive/tar"
	"bufio"
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"relpack/internal/regular"
	"relpack/pkg/abi"
	"relpack/pkg/distro"
	"relpack/pkg/version"
)

// Package is what one package file holds.
type Package struct {
	File    string // the package file's base name
	SHA256  string // hex
	Format  string // "deb" or "rpm"
	Name    string
	Version string // the full package version: [epoch:]version-revision
	// Upstream is the upstream version: epoch, revision and Debian repack
	// suffixes (+dfsg, ~...) removed.
	Upstream  string
	Libraries []distro.LibraryFacts // sorted by arch, soname
}

// File captures one package file. It must be a regular file
// (internal/regular): a FIFO or device is refused at once, naming it.
func File(p string) (*Package, error) {
	f, st, err := regular.Open(p)
	if err != nil {
		var nr *regular.NotRegularError
		if errors.As(err, &nr) {
			return nil, fmt.Errorf("%w: give a .deb or .rpm file", err)
		}
		return nil, err
	}
	defer f.Close()
	pkg, err := Read(filepath.Base(p), f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return pkg, nil
}

// Read captures a package file of size bytes read from r; name is its
// file name. What it decompresses and holds in memory is bounded by size
// (see expandBase): no more than size bytes are read from r.
func Read(name string, r io.Reader, size int64) (*Package, error) {
	h := sha256.New()
	br := bufio.NewReader(io.TeeReader(io.LimitReader(r, size), h))
	bud := newBudget(size)
	head, _ := br.Peek(8)
	var pkg *Package
	var err error
	switch {
	case bytes.HasPrefix(head, []byte("!<arch>\n")):
		pkg, err = readDeb(br, bud)
	case bytes.HasPrefix(head, []byte{0xed, 0xab, 0xee, 0xdb}):
		pkg, err = readRPM(br, size, bud)
	default:
		return nil, errors.New("neither a .deb (ar archive) nor an .rpm (rpm lead); give the distro's binary package file")
	}
	if err != nil {
		return nil, err
	}
	if _, err := io.Copy(io.Discard, br); err != nil {
		return nil, err
	}
	pkg.File = name
	pkg.SHA256 = hex.EncodeToString(h.Sum(nil))
	if len(pkg.Libraries) == 0 {
		return nil, fmt.Errorf("package %s %s ships no ELF shared library with a SONAME; capture the package that ships the library (e.g. libz3-4, z3-libs, libstdc++6)", pkg.Name, pkg.Version)
	}
	for i := range pkg.Libraries {
		l := &pkg.Libraries[i]
		if distro.ArchName(l.Arch, "go") == "" {
			return nil, fmt.Errorf("package %s %s ships %s for %s; relpack's targets are x86_64 and aarch64: capture the x86_64 or aarch64 package (dnf download --arch x86_64 ..., apt-get download NAME:amd64)", pkg.Name, pkg.Version, l.Soname, l.Arch)
		}
		l.Package, l.PackageVersion, l.Version = pkg.Name, pkg.Version, pkg.Upstream
		l.Source = fmt.Sprintf("%s sha256:%s", name, pkg.SHA256)
	}
	sort.Slice(pkg.Libraries, func(i, j int) bool {
		a, b := pkg.Libraries[i], pkg.Libraries[j]
		if a.Arch != b.Arch {
			return a.Arch < b.Arch
		}
		return a.Soname < b.Soname
	})
	for i := 1; i < len(pkg.Libraries); i++ {
		a, b := pkg.Libraries[i-1], pkg.Libraries[i]
		if a.Arch == b.Arch && a.Soname == b.Soname {
			return nil, fmt.Errorf("package %s ships two files with SONAME %s for %s; relpack records one per soname", pkg.Name, a.Soname, a.Arch)
		}
	}
	return pkg, nil
}

// UpstreamVersion strips a package version to the upstream version:
// "1:4.8.12-3.1" -> "4.8.12", "4.8.10+dfsg-1" -> "4.8.10".
func UpstreamVersion(v string) string {
	if i := strings.IndexByte(v, ':'); i >= 0 {
		v = v[i+1:]
	}
	if i := strings.LastIndexByte(v, '-'); i >= 0 {
		v = v[:i]
	}
	if i := strings.IndexAny(v, "+~"); i >= 0 {
		v = v[:i]
	}
	return v
}

// libs collects the ELF libraries of a payload.
type libs struct {
	out []distro.LibraryFacts
	bud *budget
}

// add reads one payload file of declared size; it keeps it when it is an
// ELF shared object with a SONAME. The size is checked (maxMember, and
// what is left of the package's budget) before the file is read, into one
// buffer of that size.
func (ls *libs) add(name string, size int64, r io.Reader) error {
	br := bufio.NewReader(r)
	magic, _ := br.Peek(4)
	if !bytes.Equal(magic, []byte(elf.ELFMAG)) {
		return nil
	}
	if size > maxMember {
		return fmt.Errorf("%s: %d bytes is more than capture reads (%d)", name, size, maxMember)
	}
	if size > ls.bud.left {
		return fmt.Errorf("%s: %d bytes, past what the package may decompress to: it %v", name, size, ls.bud.err())
	}
	data, err := readExactly(br, size)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	lf, ok, err := Library(name, data)
	if err != nil || !ok {
		return err
	}
	ls.out = append(ls.out, *lf)
	return nil
}

// Library reads the facts of one ELF file: ok is false when it is not a
// shared object with a SONAME (an executable, a plugin). Package fields
// are left for the caller.
func Library(name string, data []byte) (lf *distro.LibraryFacts, ok bool, err error) {
	// debug/elf has panicked on malformed input before (pkg/abi guards
	// the same way): a package file is input, not code.
	defer func() {
		if p := recover(); p != nil {
			lf, ok, err = nil, false, fmt.Errorf("%s: malformed ELF file: %v", name, p)
		}
	}()
	fa, err := abi.InspectReader(name, bytes.NewReader(data))
	if err != nil {
		return nil, false, err
	}
	if fa.Soname == "" {
		return nil, false, nil
	}
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", name, err)
	}
	if f.Type != elf.ET_DYN {
		return nil, false, nil
	}
	maxVer := 0
	for _, d := range fa.Defines {
		maxVer = max(maxVer, len(d))
	}
	if err := checkExportCost(f, int64(len(data)), maxVer); err != nil {
		return nil, false, fmt.Errorf("%s: %w", name, err)
	}
	exports, err := Exports(f)
	if err != nil {
		return nil, false, fmt.Errorf("%s: reading dynamic symbols: %w", name, err)
	}
	defs := append([]string(nil), fa.Defines...)
	distro.SortVersionNames(defs)
	return &distro.LibraryFacts{
		Soname:      fa.Soname,
		Arch:        fa.Machine,
		VersionDefs: defs,
		Exports:     exports,
	}, true, nil
}

// ReaderExports is Exports of an open ELF file: what a sidecar or private
// library offers the binary that bundles it. Its errors name no file: the
// caller names it as the user knows it (a build reads private copies).
func ReaderExports(r io.ReaderAt) (exports []string, err error) {
	defer func() {
		if p := recover(); p != nil {
			exports, err = nil, fmt.Errorf("malformed ELF file: %v", p)
		}
	}()
	f, err := elf.NewFile(r)
	if err != nil {
		return nil, err
	}
	return Exports(f)
}

// checkExportCost bounds what Exports allocates before it runs.
// debug/elf's DynamicSymbols copies each symbol's name out of .dynstr, and
// Exports joins a version name to each: symbols that all name one long
// string (pkg/abi's name budget counts only the symbols a file takes from
// others) would cost symbols x its length. The names' lengths are summed
// with one pass over .dynstr (the end of the string at each offset), and
// with each symbol's longest possible "@VERSION" must stay within
// 4 x the file + 1 MiB; a linker writes each name once, so real libraries
// stay near 1x of their .dynstr.
func checkExportCost(f *elf.File, n int64, maxVer int) error {
	syms := f.SectionByType(elf.SHT_DYNSYM)
	if syms == nil || syms.Link == 0 || int(syms.Link) >= len(f.Sections) {
		return nil // DynamicSymbols finds none or fails
	}
	str := f.Sections[syms.Link]
	for _, s := range []*elf.Section{syms, str} {
		if s.Flags&elf.SHF_COMPRESSED != 0 || s.Type == elf.SHT_NOBITS || s.Size > uint64(n) {
			return fmt.Errorf("section %s: compressed, empty or larger than the file: not a library capture reads", s.Name)
		}
	}
	symData, err := syms.Data()
	if err != nil {
		return err
	}
	strData, err := str.Data()
	if err != nil {
		return err
	}
	// end[i]: the index of the first NUL at or after i.
	end := make([]int32, len(strData)+1)
	end[len(strData)] = int32(len(strData))
	for i := len(strData) - 1; i >= 0; i-- {
		if strData[i] == 0 {
			end[i] = int32(i)
		} else {
			end[i] = end[i+1]
		}
	}
	entsize, nameAt := 24, 0
	if f.Class == elf.ELFCLASS32 {
		entsize = 16
	}
	limit := 4*n + 1<<20
	cost := int64(0)
	for i := entsize; i+entsize <= len(symData); i += entsize {
		off := int64(f.ByteOrder.Uint32(symData[i+nameAt:]))
		if off >= int64(len(strData)) {
			continue
		}
		cost += int64(end[off]-int32(off)) + 1 + int64(maxVer)
		if cost > limit {
			return fmt.Errorf("its dynamic symbols' names add up to more than %d bytes, 4 times the %d-byte file + 1 MiB: a linker writes each name once; the file is corrupt or crafted", limit, n)
		}
	}
	return nil
}

// STB_GNU_UNIQUE and STT_GNU_IFUNC: debug/elf names neither.
const (
	stbGNUUnique = elf.SymBind(10)
	sttGNUIFunc  = elf.SymType(10)
)

// Exports lists the dynamic symbols an ELF file defines for others to bind
// to: global, weak and GNU-unique functions, objects, TLS objects and
// indirect functions that are not undefined, as NAME or NAME@VERSION
// (the version the symbol is defined at, default or not), sorted and
// unique. The absolute symbols that stand for the version nodes themselves
// (GLIBCXX_3.4@@GLIBCXX_3.4) are left out: version_defs lists them.
func Exports(f *elf.File) ([]string, error) {
	syms, err := f.DynamicSymbols()
	if err != nil {
		if errors.Is(err, elf.ErrNoSymbols) {
			return nil, nil
		}
		return nil, err
	}
	seen := map[string]bool{}
	var out []string
	for _, s := range syms {
		if s.Section == elf.SHN_UNDEF || s.Name == "" {
			continue
		}
		switch elf.ST_BIND(s.Info) {
		case elf.STB_GLOBAL, elf.STB_WEAK, stbGNUUnique:
		default:
			continue
		}
		switch elf.ST_TYPE(s.Info) {
		case elf.STT_FUNC, elf.STT_OBJECT, elf.STT_TLS, sttGNUIFunc:
		default:
			continue
		}
		if v := elf.ST_VISIBILITY(s.Other); v == elf.STV_HIDDEN || v == elf.STV_INTERNAL {
			continue
		}
		name := s.Name
		if s.HasVersion && s.VersionIndex.Index() > 1 && s.Version != "" {
			if s.Section == elf.SHN_ABS && s.Version == s.Name {
				continue
			}
			name += "@" + s.Version
		}
		if !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out, nil
}

// readDeb reads a .deb: control.tar.* for the control fields, shlibs and
// symbols files; data.tar.* for the libraries.
func readDeb(r io.Reader, bud *budget) (*Package, error) {
	pkg := &Package{Format: "deb"}
	ls := libs{bud: bud}
	var control, shlibs, symbols []byte
	sawControl, sawData := false, false
	err := readAr(r, func(m arMember) error {
		switch {
		case m.name == "debian-binary":
			return nil
		case strings.HasPrefix(m.name, "control.tar"):
			sawControl = true
			return readTar(m.data, bud, func(name string, size int64, r io.Reader) error {
				var dst *[]byte
				var limit int64
				clean := path.Clean(strings.TrimPrefix(name, "./"))
				switch clean {
				case "control":
					dst, limit = &control, maxControl
				case "shlibs":
					dst, limit = &shlibs, maxShlibs
				case "symbols":
					dst, limit = &symbols, maxSymbols
				default:
					return nil
				}
				if *dst != nil {
					return fmt.Errorf("%s holds a second %s file: a damaged or crafted package", m.name, clean)
				}
				if size > limit {
					return fmt.Errorf("%s: its %s file is %d bytes, more than the %d bytes capture reads of one", m.name, clean, size, limit)
				}
				if size > bud.left {
					return fmt.Errorf("%s: its %s file of %d bytes is past what the package may decompress to: it %v", m.name, clean, size, bud.err())
				}
				b, err := readExactly(r, size)
				*dst = b
				return err
			})
		case strings.HasPrefix(m.name, "data.tar"):
			sawData = true
			return readTar(m.data, bud, ls.add)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !sawControl || !sawData || control == nil {
		return nil, errors.New("not a Debian binary package: no control.tar.* with a control file, or no data.tar.*")
	}
	fields := parseControl(control)
	pkg.Name, pkg.Version = fields["Package"], fields["Version"]
	if pkg.Name == "" || pkg.Version == "" {
		return nil, errors.New("control file has no Package or Version field")
	}
	pkg.Upstream = UpstreamVersion(pkg.Version)
	rel := parseShlibs(shlibs)
	mins := parseSymbols(symbols)
	for i := range ls.out {
		l := &ls.out[i]
		l.Shlibs = rel[l.Soname]
		if ds, ok := mins[l.Soname]; ok {
			l.Symbols, l.SymbolsSmallest = ds.symbols, ds.smallest
		}
	}
	pkg.Libraries = ls.out
	return pkg, nil
}

// readTar calls fn for each regular file of a (compressed) tar stream.
func readTar(r io.Reader, bud *budget, fn func(name string, size int64, r io.Reader) error) error {
	dr, closeFn, err := decompress(r, bud)
	if err != nil {
		return err
	}
	defer closeFn()
	tr := tar.NewReader(dr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			// Read the compressed stream to its end, so a truncated or
			// corrupt trailer (checksum, size) is an error too.
			_, err = io.Copy(io.Discard, dr)
			return err
		}
		if err != nil {
			return err
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		if err := fn(h.Name, h.Size, tr); err != nil {
			return err
		}
	}
}

// parseControl reads the fields of a deb control file (continuation lines
// are dropped: capture needs only single-line fields).
func parseControl(b []byte) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if line == "" || line[0] == ' ' || line[0] == '\t' {
			continue
		}
		if k, v, ok := strings.Cut(line, ":"); ok {
			out[k] = strings.TrimSpace(v)
		}
	}
	return out
}

// parseShlibs maps each soname of a shlibs file to its dependency field:
// "libz3 4 libz3-4 (>= 4.8.10)" gives libz3.so.4 -> "libz3-4 (>= 4.8.10)".
// Lines with a type ("udeb: ...") are for other package types and skipped.
func parseShlibs(b []byte) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 3 || strings.HasSuffix(f[0], ":") {
			continue
		}
		dep := strings.Join(f[2:], " ")
		// libNAME.so.VERSION, and the libNAME-VERSION.so form.
		out[f[0]+".so."+f[1]] = dep
		out[f[0]+"-"+f[1]+".so"] = dep
	}
	return out
}

// debSymbols is what a deb symbols file says of one soname, as
// dpkg-shlibdeps reads it (Dpkg::Shlibs::SymbolFile).
type debSymbols struct {
	symbols  []string // "NAME@VERSION MINVER", sorted
	smallest string   // get_smallest_version
}

// parseSymbols reads a deb symbols file (DEBIAN/symbols: the per-arch
// output of dpkg-gensymbols, one " NAME@VERSION MINVER [DEP_ID]" line per
// symbol, without tags or patterns) and returns, per soname, the symbols
// dpkg-shlibdeps looks the binary's undefined symbols up in and the
// smallest minimal version of them all, which it starts the relation
// with. It reads it the way dpkg-shlibdeps does: symbols of an alternative
// dependency template ("| alt #MINVER#" and a DEP_ID field) are left out
// (they give another package's relation), and #MISSING:/#DEPRECATED:
// symbols count toward the smallest version but are never looked up.
func parseSymbols(b []byte) map[string]debSymbols {
	out := map[string]debSymbols{}
	cur := ""
	for _, line := range strings.Split(string(b), "\n") {
		deprecated := false
		if rest, ok := strings.CutPrefix(line, "#MISSING: "); ok {
			line, deprecated = rest, true
		} else if rest, ok := strings.CutPrefix(line, "#DEPRECATED: "); ok {
			line, deprecated = rest, true
		}
		if deprecated {
			_, sym, ok := strings.Cut(line, "#")
			if !ok {
				continue
			}
			line = " " + strings.TrimSpace(sym)
		}
		if line == "" || line[0] == '#' || line[0] == '|' || line[0] == '*' {
			continue
		}
		if line[0] != ' ' && line[0] != '\t' {
			cur = ""
			if f := strings.Fields(line); len(f) >= 2 {
				cur = f[0]
				if _, ok := out[cur]; !ok {
					out[cur] = debSymbols{}
				}
			}
			continue
		}
		f := strings.Fields(line)
		if cur == "" || len(f) < 2 || len(f) > 3 || (len(f) == 3 && f[2] != "0") || strings.HasPrefix(f[0], "(") {
			continue
		}
		ds := out[cur]
		if ds.smallest == "" || version.CompareDebian(f[1], ds.smallest) < 0 {
			ds.smallest = f[1]
		}
		if !deprecated && strings.Contains(f[0], "@") {
			ds.symbols = append(ds.symbols, f[0]+" "+f[1])
		}
		out[cur] = ds
	}
	for k, ds := range out {
		if ds.smallest == "" {
			delete(out, k)
			continue
		}
		sort.Strings(ds.symbols)
		ds.symbols = slices.Compact(ds.symbols)
		out[k] = ds
	}
	return out
}

// readRPM reads an rpm: NAME, EPOCH, VERSION, RELEASE from the main
// header; the libraries from the cpio payload.
func readRPM(r io.Reader, fileSize int64, bud *budget) (*Package, error) {
	h, size, cr, err := readRPMHeaders(r, fileSize)
	if err != nil {
		return nil, err
	}
	r = cr
	pkg := &Package{Format: "rpm", Name: h.name, Upstream: h.version}
	pkg.Version = h.version
	if h.release != "" {
		pkg.Version += "-" + h.release
	}
	if h.epoch >= 0 {
		pkg.Version = fmt.Sprint(h.epoch) + ":" + pkg.Version
	}
	dr, closeFn, err := decompress(r, bud)
	if err != nil {
		return nil, fmt.Errorf("payload: %w", err)
	}
	defer closeFn()
	ls := libs{bud: bud}
	err = readCpio(dr, func(e cpioEntry) error {
		if e.mode&cpioTypeMask != cpioRegular {
			return nil
		}
		return ls.add(e.name, e.size, e.data)
	})
	if err == nil {
		// The compressor's trailer (checksum, size) follows the cpio
		// trailer: read it, so a truncated file is an error.
		_, err = io.Copy(io.Discard, dr)
	}
	if err == nil {
		_, err = io.Copy(io.Discard, cr)
	}
	if err != nil {
		return nil, fmt.Errorf("payload: %w", err)
	}
	if size >= 0 && cr.n != size {
		return nil, fmt.Errorf("header and payload are %d bytes, the signature says %d: the file is truncated or damaged", cr.n, size)
	}
	pkg.Libraries = ls.out
	return pkg, nil
}
