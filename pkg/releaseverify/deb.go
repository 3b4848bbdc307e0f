package releaseverify

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/klauspost/compress/zstd"

	"relpack/internal/ctxio"
	"relpack/internal/xzread"
	"relpack/pkg/distro"
	"relpack/pkg/manifest"
	"relpack/pkg/repo/apt"
)

// pkgCheck checks one deb or rpm of the release, read from f.
type pkgCheck struct {
	v      *verifier
	a      *manifest.Artifact
	f      *os.File
	size   int64
	checks []string
}

func (c *pkgCheck) fail(format string, args ...any) { c.v.fail(c.a.File, format, args...) }

func (c *pkgCheck) section(off, n int64) io.Reader {
	return ctxio.Reader(c.v.ctx, io.NewSectionReader(c.f, off, n))
}

// Bounds of what is read of a deb into memory: the control member and
// its files are small (relpack's are a few KiB), the signature a few KiB.
const (
	maxControlMember = 4 << 20
	maxControlFile   = 1 << 20
	maxControlTar    = 4 * maxControlMember // decompressed
)

// debFields are the control fields relpack's deb writer puts in a
// package built by relpack build (pkg/pack debControlTemplate with the
// PackageSpec pkg/release fills). Any other field (Essential, Pre-Depends,
// Replaces, Breaks, Conflicts, Provides, Protected, ...) changes what
// dpkg does with the package and is refused.
var debFields = []string{"Package", "Version", "Section", "Priority", "Architecture", "Maintainer", "Installed-Size", "Depends", "Homepage", "Description"}

// ddebFields are the control fields of a ddeb (pkg/pack's DebugSpec, as
// debhelper's dh_strip writes them): a deb's, Source (the package it was
// split from), Auto-Built-Package and Build-Ids.
var ddebFields = append(slices.Clone(debFields), "Source", "Auto-Built-Package", "Build-Ids")

// ddebControl holds a ddeb's own fields to the manifest: it depends on
// exactly its package's version (a debugger needs the very build), is in
// Section debug, marked Auto-Built-Package: debug-symbols, and its
// Build-Ids are the manifest's build_id.
func (c *pkgCheck) ddebControl(get func(string) string) {
	want := fmt.Sprintf("%s (= %s)", c.v.m.Product, c.a.PackageVersion)
	if got := get("Depends"); got != want {
		c.fail("control says Depends: %s; a debug package depends on exactly its package's version, %s", got, want)
	}
	if got := strings.Join(c.a.Relations, ", "); got != "" && got != want {
		c.fail("manifest.json records the relations %s; a debug package depends on %s", got, want)
	}
	if got := get("Source"); got != "" && got != c.v.m.Product {
		c.fail("control says Source: %s; a debug package's source is its package, %s", got, c.v.m.Product)
	}
	if got := get("Build-Ids"); got != c.a.BuildID {
		c.fail("control says Build-Ids: %s, manifest.json says build_id %s", got, c.a.BuildID)
	}
	if got := get("Section"); got != "debug" {
		c.fail("control says Section: %s; a debug package is in Section debug", got)
	}
	if got := get("Auto-Built-Package"); got != "debug-symbols" {
		c.fail("control says Auto-Built-Package: %s; a debug package says debug-symbols", got)
	}
}

// debControlMembers are the files of control.tar relpack writes.
var debControlMembers = []string{"./control", "./md5sums", "./conffiles", "./preinst", "./postinst", "./prerm", "./postrm"}

type arMember struct {
	name      string
	off, size int64 // of the body
	headerAt  int64
}

// deb checks the ar members, control.tar (its members, its control file
// against the manifest), data.tar's names and, for a signed release, the
// debsigs _gpgorigin signature.
func (c *pkgCheck) deb() error {
	members, ok, err := c.arMembers()
	if err != nil || !ok {
		return err
	}
	// Exactly what relpack writes: debian-binary, control.tar.*, data.tar.*,
	// and _gpgorigin when the release is signed.
	var names []string
	for _, m := range members {
		names = append(names, m.name)
	}
	shape := len(members) >= 3 && members[0].name == "debian-binary" &&
		slices.Contains([]string{"control.tar", "control.tar.gz", "control.tar.xz", "control.tar.zst"}, members[1].name) &&
		slices.Contains([]string{"data.tar", "data.tar.gz", "data.tar.xz", "data.tar.zst"}, members[2].name) &&
		(len(members) == 3 || len(members) == 4 && members[3].name == "_gpgorigin")
	if !shape {
		c.fail("holds the ar members %s; relpack writes exactly debian-binary, control.tar.*, data.tar.* and, signed, _gpgorigin", strings.Join(names, ", "))
		return nil
	}
	c.checks = append(c.checks, "ar members")
	if members[0].size != 4 {
		c.fail("debian-binary is %d bytes, not \"2.0\\n\"", members[0].size)
		return nil
	}
	b := make([]byte, 4)
	if _, err := io.ReadFull(c.section(members[0].off, 4), b); err != nil {
		return c.v.ioErr(c.a.File, err)
	}
	if string(b) != "2.0\n" {
		c.fail("debian-binary holds %q, not \"2.0\\n\"", b)
		return nil
	}
	if err := c.debControl(members[1]); err != nil {
		return err
	}
	if err := c.debData(members[2]); err != nil {
		return err
	}
	return c.debSignature(members)
}

// arMembers walks the ar archive's member headers (bodies are skipped, not
// read). ok is false when a problem was recorded.
func (c *pkgCheck) arMembers() ([]arMember, bool, error) {
	magic := make([]byte, 8)
	if _, err := io.ReadFull(c.section(0, 8), magic); err != nil || string(magic) != "!<arch>\n" {
		if cerr := c.v.ctx.Err(); cerr != nil {
			return nil, false, cerr
		}
		c.fail("is not a deb: no ar archive header")
		return nil, false, nil
	}
	var out []arMember
	off := int64(8)
	for off < c.size {
		if len(out) == 8 {
			c.fail("holds more than 8 ar members; relpack writes 3 or 4")
			return nil, false, nil
		}
		if off+60 > c.size {
			c.fail("is truncated: an ar member header at byte %d runs past the end", off)
			return nil, false, nil
		}
		var hdr [60]byte
		if _, err := io.ReadFull(c.section(off, 60), hdr[:]); err != nil {
			return nil, false, c.v.ioErr(c.a.File, err)
		}
		if string(hdr[58:60]) != "`\n" {
			c.fail("has a corrupt ar member header at byte %d", off)
			return nil, false, nil
		}
		name := strings.TrimRight(string(hdr[0:16]), " ")
		size, err := strconv.ParseInt(strings.TrimRight(string(hdr[48:58]), " "), 10, 64)
		if err != nil || size < 0 || off+60+size > c.size {
			c.fail("ar member %q at byte %d has a size (%q) outside the file", name, off, strings.TrimRight(string(hdr[48:58]), " "))
			return nil, false, nil
		}
		out = append(out, arMember{name: name, off: off + 60, size: size, headerAt: off})
		off += 60 + size
		if size%2 == 1 {
			off++
		}
	}
	if off != c.size {
		c.fail("ends inside an ar member's padding")
		return nil, false, nil
	}
	return out, true, nil
}

// decompress returns a reader of the tar in member m (by its name's
// suffix), with bounded decoder memory.
func (c *pkgCheck) decompress(m arMember) (io.Reader, func(), error) {
	body := c.section(m.off, m.size)
	switch {
	case strings.HasSuffix(m.name, ".gz"):
		zr, err := gzip.NewReader(body)
		if err != nil {
			return nil, nil, err
		}
		return zr, func() { zr.Close() }, nil
	case strings.HasSuffix(m.name, ".xz"):
		// Not xz.NewReader: it allocates whatever dictionary a block
		// claims (internal/xzread).
		xr, err := xzread.NewReader(body)
		if err != nil {
			return nil, nil, err
		}
		return xr, func() {}, nil
	case strings.HasSuffix(m.name, ".zst"):
		zr, err := zstd.NewReader(body, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(64<<20))
		if err != nil {
			return nil, nil, err
		}
		return zr, zr.Close, nil
	}
	return body, func() {}, nil
}

// debControl checks control.tar: only the files relpack writes, each a
// regular file once, and ./control against the manifest.
func (c *pkgCheck) debControl(m arMember) error {
	control, ok, err := c.debControlFile(m)
	if err != nil || !ok {
		return err
	}
	c.checks = append(c.checks, "control.tar members")
	c.debControlFields(control)
	return nil
}

// debControlFile walks control.tar's members, bounded in what it reads
// and decompresses, and returns ./control. ok is false when a problem was
// recorded.
func (c *pkgCheck) debControlFile(m arMember) (control []byte, ok bool, err error) {
	if m.size > maxControlMember {
		c.fail("%s is %d bytes; relpack's are a few KiB (over %d is refused)", m.name, m.size, maxControlMember)
		return nil, false, nil
	}
	r, done, err := c.decompress(m)
	if err != nil {
		c.fail("%s: %v", m.name, err)
		return nil, false, nil
	}
	defer done()
	// What control.tar decompresses to is bounded too (a 1 MiB gzip
	// member can hold 1 GiB of zeros); one byte past the bound tells that
	// it was reached.
	lr := &io.LimitedReader{R: r, N: maxControlTar + 1}
	tr := tar.NewReader(lr)
	seen := map[string]bool{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if cerr := c.v.ctx.Err(); cerr != nil {
				return nil, false, cerr
			}
			if lr.N == 0 {
				c.fail("%s decompresses to more than %d bytes; relpack's are a few KiB", m.name, maxControlTar)
				return nil, false, nil
			}
			c.fail("%s: %v", m.name, err)
			return nil, false, nil
		}
		if !slices.Contains(debControlMembers, h.Name) || h.Typeflag != tar.TypeReg {
			c.fail("%s holds %q (type %q); relpack writes only the regular files %s there", m.name, h.Name, string(h.Typeflag), strings.Join(debControlMembers, ", "))
			return nil, false, nil
		}
		if seen[h.Name] {
			c.fail("%s holds %s twice", m.name, h.Name)
			return nil, false, nil
		}
		seen[h.Name] = true
		if h.Name == "./control" {
			if control, ok = c.readControl(m, h, tr); !ok {
				return nil, false, nil
			}
		}
	}
	if control == nil {
		c.fail("%s has no ./control file", m.name)
		return nil, false, nil
	}
	return control, true, nil
}

// readControl reads ./control (h) from control.tar, at most
// maxControlFile bytes. ok is false when a problem was recorded.
func (c *pkgCheck) readControl(m arMember, h *tar.Header, tr *tar.Reader) ([]byte, bool) {
	if h.Size > maxControlFile {
		c.fail("%s: ./control is %d bytes (over %d is refused)", m.name, h.Size, maxControlFile)
		return nil, false
	}
	control, err := io.ReadAll(tr)
	if err != nil {
		c.fail("%s: ./control: %v", m.name, err)
		return nil, false
	}
	return control, true
}

// debControlFields holds the control file to the manifest: only fields
// relpack writes, and Package, Version, Architecture and Depends as the
// manifest records them, and the file name they make.
func (c *pkgCheck) debControlFields(control []byte) {
	st, err := apt.ParseStanza(control)
	if err != nil {
		c.fail("control file: %v", err)
		return
	}
	fields, pkg, ext := debFields, c.v.m.Product, ".deb"
	if c.a.Kind == manifest.KindDdeb {
		fields, pkg, ext = ddebFields, c.v.m.Product+"-dbgsym", ".ddeb"
	}
	for _, f := range st {
		if !slices.ContainsFunc(fields, func(n string) bool { return strings.EqualFold(n, f.Name) }) {
			c.fail("control has the field %s: %s, which relpack never writes (it changes what dpkg does with the package)", f.Name, firstLine(f.Value))
		}
	}
	get := func(n string) string { s, _ := st.Get(n); return s }
	if p := get("Package"); p != pkg {
		c.fail("control says Package: %s, manifest.json says %s", p, pkg)
	}
	ver := get("Version")
	if i := strings.IndexByte(ver, ':'); i >= 0 {
		c.fail("control says Version: %s, with the epoch %s: relpack writes no epoch (manifest.json says %s)", ver, ver[:i], c.a.PackageVersion)
	} else if ver != c.a.PackageVersion {
		c.fail("control says Version: %s, manifest.json says %s", ver, c.a.PackageVersion)
	}
	arch := distro.ArchName(c.a.Arch, "deb")
	if got := get("Architecture"); got != arch {
		c.fail("control says Architecture: %s, manifest.json says %s (%s)", got, c.a.Arch, arch)
	}
	if got, want := get("Depends"), strings.Join(c.a.Relations, ", "); got != want && c.a.Kind == "deb" {
		c.fail("control says Depends: %s, manifest.json says %s", got, want)
	}
	if c.a.Kind == manifest.KindDdeb {
		c.ddebControl(get)
	}
	if want := get("Package") + "_" + ver + "_" + get("Architecture") + ext; want != c.a.File {
		c.fail("is named %s, but its control file makes it %s", c.a.File, want)
	}
	c.checks = append(c.checks, "control fields")
}

// debData walks data.tar's headers, streaming: every name relative
// ("./..."), without "..", empty or "." parts; only directories, regular
// files and symbolic links (what relpack's writer makes).
func (c *pkgCheck) debData(m arMember) error {
	r, done, err := c.decompress(m)
	if err != nil {
		c.fail("%s: %v", m.name, err)
		return nil
	}
	defer done()
	tr := tar.NewReader(r)
	debugFound := false
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if cerr := c.v.ctx.Err(); cerr != nil {
				return cerr
			}
			if errors.Is(err, tar.ErrInsecurePath) {
				err = nil
			} else {
				c.fail("%s: %v", m.name, err)
				return nil
			}
		}
		if msg := dataName(h.Name); msg != "" {
			c.fail("%s holds %q: %s; relpack writes only names under ./", m.name, h.Name, msg)
			return nil
		}
		switch h.Typeflag {
		case tar.TypeDir, tar.TypeReg, tar.TypeSymlink:
		default:
			c.fail("%s holds %q of tar type %q; relpack writes only directories, regular files and symbolic links", m.name, h.Name, string(h.Typeflag))
			return nil
		}
		if c.a.Kind == manifest.KindDdeb && h.Name == "."+c.a.DebugFile {
			debugFound = true
			c.debugMember(h, tr)
		}
	}
	c.checks = append(c.checks, "data.tar names")
	if c.a.Kind == manifest.KindDdeb && !debugFound {
		c.fail("%s does not hold %s (manifest.json's debug_file)", m.name, c.a.DebugFile)
	}
	return nil
}

// dataName says what is wrong with a data.tar member name ("" for none).
func dataName(name string) string {
	if strings.HasPrefix(name, "/") {
		return "an absolute name"
	}
	if name == "./" {
		return ""
	}
	rest, ok := strings.CutPrefix(name, "./")
	if !ok {
		return "a name not starting with ./"
	}
	rest = strings.TrimSuffix(rest, "/")
	for _, part := range strings.Split(rest, "/") {
		switch part {
		case "..":
			return "a \"..\" part, which leads out of the root it is unpacked into"
		case "", ".":
			return "an empty or \".\" part"
		}
	}
	if path.Clean(rest) != rest {
		return "a name that is not clean"
	}
	return ""
}

// debSignature checks _gpgorigin: required when the manifest says the
// release is signed, an armoured detached signature of debian-binary,
// control.tar.* and data.tar.* concatenated (what pkg/pack signs and
// debsig-verify checks), by the release's key. An unsigned release's
// debs carry none.
func (c *pkgCheck) debSignature(members []arMember) error {
	m := c.v.m
	has := len(members) == 4
	switch {
	case m.Signing == nil && has:
		c.fail("holds a _gpgorigin signature, but manifest.json says the release is unsigned")
		return nil
	case m.Signing == nil:
		return nil
	case !has:
		c.fail("is not signed (no _gpgorigin member), but manifest.json says the release is signed by %s", m.Signing.Fingerprint)
		return nil
	case c.v.keyring == nil:
		return nil // SHA256SUMS.asc's problem says why
	}
	s := members[3]
	if s.size > maxSignature {
		c.fail("_gpgorigin is %d bytes; a signature is a few KiB", s.size)
		return nil
	}
	sig := make([]byte, s.size)
	if _, err := io.ReadFull(c.section(s.off, s.size), sig); err != nil {
		return c.v.ioErr(c.a.File, err)
	}
	signed := io.MultiReader(c.section(members[0].off, members[0].size), c.section(members[1].off, members[1].size), c.section(members[2].off, members[2].size))
	fp, _, err := checkDetached(c.v.keyring, signed, sig, true)
	if cerr := c.v.ctx.Err(); cerr != nil {
		return cerr
	}
	if err != nil {
		c.fail("_gpgorigin is not a good signature of the package by %s: %v", c.v.keyDesc(), err)
		return nil
	}
	if fp != m.Signing.Fingerprint {
		c.fail("_gpgorigin is signed by %s, but manifest.json says the release is signed by %s", fp, m.Signing.Fingerprint)
		return nil
	}
	c.checks = append(c.checks, "_gpgorigin signature")
	return nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimLeft(s, "\n"), "\n")
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return s
}
