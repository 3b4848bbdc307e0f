package releaseverify

import (
	"archive/tar"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"

	"relpack/internal/rpmtag"
	"relpack/pkg/manifest"
	"relpack/pkg/repo/rpmmd"
)

// checkDebugLinks holds the debug artifacts (docs/debug-symbols.md) to
// the artifacts they carry the symbols of: a debug artifact's debug_for
// names an artifact of the release, of its format (a ddeb's a deb, a
// debuginfo rpm's an rpm, a debug tarball's a tarball), the same target
// and arch, with the same build_id, whose debug names it back; the debug
// file is the build-id path of that build-id. A partial release may plan
// the other artifact instead of holding it (relpack merge joins them and
// holds the merged release to the same). Problems go to the report.
func (v *verifier) checkDebugLinks() {
	byFile := map[string]*manifest.Artifact{}
	for i := range v.m.Artifacts {
		byFile[v.m.Artifacts[i].File] = &v.m.Artifacts[i]
	}
	planned := func(f string) bool {
		return v.m.Partial && slices.ContainsFunc(v.m.Planned, func(p manifest.Planned) bool { return p.File == f })
	}
	for i := range v.m.Artifacts {
		a := &v.m.Artifacts[i]
		if !manifest.IsDebug(a.Kind) {
			if d := a.Debug; d != "" && byFile[d] == nil && !planned(d) {
				v.fail(a.File, "manifest.json says its debug symbols are in %s, which the release does not hold", d)
			}
			continue
		}
		if msg := debugLinkProblem(a, byFile[a.DebugFor]); msg != "" {
			if byFile[a.DebugFor] == nil && planned(a.DebugFor) {
				continue
			}
			v.fail(a.File, "%s", msg)
		}
	}
}

// debugLinkProblem says what is wrong between debug artifact d and the
// artifact of its debug_for (nil when the release holds none); "" when
// nothing is.
func debugLinkProblem(d, of *manifest.Artifact) string {
	if want := BuildIDPath(d.BuildID); d.DebugFile != want && d.DebugFile != "/usr/lib/debug/"+want {
		return fmt.Sprintf("manifest.json puts its debug file at %s, not at the path of its build-id %s (%s)", d.DebugFile, d.BuildID, want)
	}
	switch {
	case of == nil:
		return fmt.Sprintf("manifest.json says it holds the debug symbols of %s, which the release does not hold: debug symbols ship beside their binary", d.DebugFor)
	case of.Kind != manifest.Format(d.Kind):
		return fmt.Sprintf("manifest.json says it holds the debug symbols of %s, a %s; a %s holds a %s's", of.File, of.Kind, d.Kind, manifest.Format(d.Kind))
	case of.Distro != d.Distro || of.Arch != d.Arch || of.Triple != d.Triple:
		return fmt.Sprintf("is for %s %s %s, but %s, whose symbols it holds, is for %s %s %s", d.Distro, d.Arch, d.Triple, of.File, of.Distro, of.Arch, of.Triple)
	case of.BuildID != d.BuildID:
		return fmt.Sprintf("has build-id %s, but %s, whose symbols it holds, has build-id %s: a debugger would not match them", d.BuildID, of.File, of.BuildID)
	case of.Debug != d.File:
		return fmt.Sprintf("holds the debug symbols of %s, but manifest.json's record of %s names %q as its debug artifact", of.File, of.File, of.Debug)
	}
	return ""
}

// BuildIDPath is where a build-id tree holds the debug file of build-id
// id: .build-id/xx/rest.debug (xx its first byte in hex), the path gdb,
// eu-unstrip and debuginfod look under a debug-file-directory.
func BuildIDPath(id string) string {
	if len(id) < 4 {
		return ""
	}
	return ".build-id/" + id[:2] + "/" + id[2:] + ".debug"
}

// maxNotePrefix is how much of a debug file is read for its build-id
// note: the ELF header, the program headers and the notes come first in
// what objcopy --only-keep-debug and pkg/debugsym write (a few hundred
// bytes in); a file whose notes lie further is not read further.
const maxNotePrefix = 64 << 10

// noteBuildID reads the GNU build-id (NT_GNU_BUILD_ID) from the PT_NOTE
// segments of an ELF file's first bytes, prefix. found is false when no
// note lies inside prefix; err says why prefix is no ELF file.
func noteBuildID(prefix []byte) (id string, found bool, err error) {
	if len(prefix) < 64 || string(prefix[:4]) != "\x7fELF" {
		return "", false, errors.New("is not an ELF file")
	}
	var bo binary.ByteOrder
	switch prefix[5] {
	case 1:
		bo = binary.LittleEndian
	case 2:
		bo = binary.BigEndian
	default:
		return "", false, fmt.Errorf("has the ELF data encoding %d", prefix[5])
	}
	is64 := prefix[4] == 2
	phoff, phentsize, phnum := uint64(bo.Uint32(prefix[0x1c:])), uint64(bo.Uint16(prefix[0x2a:])), uint64(bo.Uint16(prefix[0x2c:]))
	if is64 {
		phoff, phentsize, phnum = bo.Uint64(prefix[0x20:]), uint64(bo.Uint16(prefix[0x36:])), uint64(bo.Uint16(prefix[0x38:]))
	}
	size := uint64(len(prefix))
	for i := uint64(0); i < phnum; i++ {
		at := phoff + i*phentsize
		if phentsize < 32 || at > size || size-at < phentsize {
			break
		}
		ph := prefix[at : at+phentsize]
		if bo.Uint32(ph) != 4 { // PT_NOTE
			continue
		}
		off, n, align := uint64(bo.Uint32(ph[4:])), uint64(bo.Uint32(ph[16:])), uint64(bo.Uint32(ph[28:]))
		if is64 && phentsize >= 56 {
			off, n, align = bo.Uint64(ph[8:]), bo.Uint64(ph[32:]), bo.Uint64(ph[48:])
		}
		if off > size || size-off < n {
			continue
		}
		if id, ok := gnuBuildID(prefix[off:off+n], bo, align); ok {
			return id, true, nil
		}
	}
	return "", false, nil
}

// gnuBuildID finds the NT_GNU_BUILD_ID note among notes, each padded to
// align (4, or 8 in a segment aligned so).
func gnuBuildID(notes []byte, bo binary.ByteOrder, align uint64) (string, bool) {
	pad := func(n uint64) uint64 {
		if align == 8 {
			return (n + 7) &^ 7
		}
		return (n + 3) &^ 3
	}
	for len(notes) >= 12 {
		namesz, descsz, typ := uint64(bo.Uint32(notes)), uint64(bo.Uint32(notes[4:])), bo.Uint32(notes[8:])
		rest := uint64(len(notes)) - 12
		if pad(namesz) > rest || descsz > rest-pad(namesz) {
			return "", false
		}
		name, desc := notes[12:12+namesz], notes[12+pad(namesz):12+pad(namesz)+descsz]
		if typ == 3 && string(name) == "GNU\x00" { // NT_GNU_BUILD_ID
			return hex.EncodeToString(desc), true
		}
		next := 12 + pad(namesz) + pad(descsz)
		if next > uint64(len(notes)) {
			return "", false
		}
		notes = notes[next:]
	}
	return "", false
}

// debugMember checks a ddeb's data.tar member h, the debug file
// (debug_file) once found: a regular file whose build-id note is the
// manifest's build_id. It reads at most maxNotePrefix bytes of it.
func (c *pkgCheck) debugMember(h *tar.Header, r io.Reader) {
	if h.Typeflag != tar.TypeReg {
		c.fail("holds its debug file %s as tar type %q, not a regular file", c.a.DebugFile, string(h.Typeflag))
		return
	}
	buf := make([]byte, min(h.Size, maxNotePrefix))
	if _, err := io.ReadFull(r, buf); err != nil {
		c.fail("its debug file %s: %v", c.a.DebugFile, err)
		return
	}
	id, found, err := noteBuildID(buf)
	switch {
	case err != nil:
		c.fail("its debug file %s %v", c.a.DebugFile, err)
	case found && id != c.a.BuildID:
		c.fail("its debug file %s has build-id %s, manifest.json says %s: a debugger would not take it for the binary's", c.a.DebugFile, id, c.a.BuildID)
	case found:
		c.checks = append(c.checks, "debug file build-id")
	}
}

// rpmDebugFacts holds a debuginfo rpm's header to the manifest: it
// provides debuginfo(build-id) = build_id, as find-debuginfo's do (what
// dnf debuginfo-install looks for), and lists the debug file's build-id
// path (debug_file).
func (c *pkgCheck) rpmDebugFacts(h *rpmmd.Header) {
	names, err1 := h.Strings(rpmtag.ProvideName)
	vers, err2 := h.Strings(rpmtag.ProvideVersion)
	if err := errors.Join(err1, err2); err != nil {
		c.fail("header provides: %v", err)
		return
	}
	provided := false
	for i, n := range names {
		provided = provided || n == "debuginfo(build-id)" && i < len(vers) && vers[i] == c.a.BuildID
	}
	if !provided {
		c.fail("does not provide debuginfo(build-id) = %s (manifest.json's build_id)", c.a.BuildID)
	}
	bases, err1 := h.Strings(rpmtag.BaseNames)
	dirs, err2 := h.Strings(rpmtag.DirNames)
	idx, err3 := h.Ints(rpmtag.DirIndexes)
	if err := errors.Join(err1, err2, err3); err != nil {
		c.fail("header file list: %v", err)
		return
	}
	listed := false
	for i, b := range bases {
		listed = listed || i < len(idx) && idx[i] < uint64(len(dirs)) && dirs[idx[i]]+b == c.a.DebugFile
	}
	if !listed {
		c.fail("does not hold %s (manifest.json's debug_file)", c.a.DebugFile)
		return
	}
	c.checks = append(c.checks, "debuginfo provides and build-id path")
}
