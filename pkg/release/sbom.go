package release

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"relpack/internal/regular"
	"relpack/pkg/components"
	"relpack/pkg/config"
	"relpack/pkg/distro"
	"relpack/pkg/manifest"
	"relpack/pkg/pack"
	"relpack/pkg/sbom"
)

// An artifact's SBOM is written from what its plan knows (bomPlan): the
// files it carries and their sources (the build's copies, RUNPATH-edited
// binaries, generated files), the binary's input, the libraries it
// carries. Nothing is read back from the written artifact, and nothing
// is guessed: a file's sha256 is that of the bytes the writer archived.

// bomPlan is what an artifact's SBOM needs beyond its manifest entry.
type bomPlan struct {
	in     *Input    // the binary's input: its components are read from in.Data
	binary string    // the binary's path inside the artifact
	files  []bomFile // every regular file the artifact carries
	libs   []bomLib  // the libraries it carries
	role   string    // the libraries' role: "sidecar" or "private"
	name   string    // the package's name when not the product's (a debug package's)
}

// bomFile is one regular file of an artifact: its path inside it and its
// content (a file on disk, or inline data).
type bomFile struct {
	path string
	src  string
	data []byte
}

// bomLib is one library an artifact carries, at path inside it.
type bomLib struct {
	path string
	lib  *bundled
}

// tarballBOM is the bomPlan of a tarball of entries; binary is its
// binary's entry name, libs its lib/ libraries.
func tarballBOM(in *Input, entries []pack.TarEntry, binary string, libs []*bundled) *bomPlan {
	b := &bomPlan{in: in, binary: binary, role: "sidecar"}
	for _, e := range entries {
		b.files = append(b.files, bomFile{path: e.Name, src: e.Src, data: e.Data})
	}
	for _, l := range libs {
		b.libs = append(b.libs, bomLib{"lib/" + l.Soname, l})
	}
	return b
}

// packageBOM is the bomPlan of a deb or rpm of files; binary is the
// binary's installed path, libs its private libraries under dir.
func packageBOM(in *Input, files []pack.PackageFile, binary string, libs []*bundled, dir string) *bomPlan {
	b := &bomPlan{in: in, binary: strings.TrimPrefix(binary, "/"), role: "private"}
	for _, f := range files {
		b.files = append(b.files, bomFile{path: strings.TrimPrefix(f.Dst, "/"), src: f.Src, data: f.Data})
	}
	for _, l := range libs {
		b.libs = append(b.libs, bomLib{strings.TrimPrefix(dir, "/") + "/" + l.Soname, l})
	}
	return b
}

// sbomWriters are the writers of each format packaging.yaml can name.
var sbomWriters = map[string]func(*sbom.Document) ([]byte, error){
	config.SBOMSPDX:      sbom.SPDX,
	config.SBOMCycloneDX: sbom.CycloneDX,
}

// sbomName is the file name of artifact's SBOM in format.
func sbomName(artifact, format string) string {
	return artifact + manifest.SBOMSuffix[format]
}

// sbomHashes hashes each source file of the artifacts once (a binary or
// a library is in many of them), and reads each input's components once.
type sbomHashes struct {
	sums       map[string]fileSum
	components map[string]*components.Components
}

// sum is the sha256 and size of f's content, each file on disk read once.
func (h *sbomHashes) sum(f bomFile) (fileSum, error) {
	if f.src == "" {
		s := sha256.Sum256(f.data)
		return fileSum{hex.EncodeToString(s[:]), int64(len(f.data))}, nil
	}
	if s, ok := h.sums[f.src]; ok {
		return s, nil
	}
	sum, size, err := pack.SHA256File(f.src)
	if err != nil {
		return fileSum{}, err
	}
	h.sums[f.src] = fileSum{sum, size}
	return h.sums[f.src], nil
}

// fileSum is a file's sha256 and size, as one read of it gives them.
type fileSum struct {
	sha256 string
	size   int64
}

// componentsOf reads what in's binary records of its components, from
// the build's copy; messages name the input as the user gave it.
func (h *sbomHashes) componentsOf(in *Input) (*components.Components, error) {
	if c, ok := h.components[in.Data]; ok {
		return c, nil
	}
	f, st, err := regular.Open(in.Data)
	if err != nil {
		return nil, fmt.Errorf("input %s (%s): reading the build's copy of it: %v", in.Triple, in.Path, err)
	}
	defer f.Close()
	c, err := components.ReadAt(f, st.Size(), in.Path)
	if err != nil {
		return nil, fmt.Errorf("input %s: reading the components it records, for its SBOM: %w", in.Triple, err)
	}
	h.components[in.Data] = c
	return c, nil
}

// writeSBOMs reads the written plan (each artifact's name and sha256) and
// its bomPlans; it writes each artifact's SBOMs, in the formats
// packaging.yaml's sbom: names, beside it in the staging folder, and adds
// them to its manifest entry.
func (j *job) writeSBOMs() error {
	formats := j.cfg.SBOM.Formats
	if len(formats) == 0 {
		return nil
	}
	h := &sbomHashes{sums: map[string]fileSum{}, components: map[string]*components.Components{}}
	for _, a := range j.plan {
		if err := j.ctx.Err(); err != nil {
			return err
		}
		d, err := j.sbomDocument(a, h)
		if err != nil {
			return err
		}
		for _, f := range formats {
			b, err := sbomWriters[f](d)
			if err != nil {
				return fmt.Errorf("writing the %s SBOM of %s: %w", f, a.entry.File, err)
			}
			name := sbomName(a.entry.File, f)
			if err := pack.WriteFileAtomic(filepath.Join(j.stage, name), func(w io.Writer) error { _, err := w.Write(b); return err }); err != nil {
				return err
			}
			sum := sha256.Sum256(b)
			a.entry.SBOMs = append(a.entry.SBOMs, manifest.SBOM{File: name, Format: f, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(b))})
			j.progress("sbom %s", name)
		}
	}
	return nil
}

// sbomDocument fills the SBOM of the written artifact a.
func (j *job) sbomDocument(a *artifact, h *sbomHashes) (*sbom.Document, error) {
	cfg, e, bp := j.cfg, a.entry, a.bom
	supplier := cfg.Vendor
	if supplier == "" {
		supplier = cfg.Maintainer
	}
	d := &sbom.Document{
		Product: cfg.Name, Version: j.ver.String(), License: cfg.License, Homepage: cfg.Homepage, Supplier: supplier,
		Artifact: sbom.Artifact{File: e.File, SHA256: e.SHA256, Size: e.Size, Kind: e.Kind, Name: cfg.Name,
			PackageVersion: e.PackageVersion, Arch: e.Triple, Distro: e.Distro, DistroPurl: distroPurl(e.Distro)},
		Requires: requirements(e.Relations), Floor: e.Floor, GlibcMeasured: e.GlibcMeasured,
		Created: j.opts.Epoch, Tool: toolName(j.opts.Tool.Version),
	}
	// A debug artifact is described as what it is made as: a tarball, a
	// deb (a .ddeb is one) or an rpm, under its own package name.
	d.Artifact.Kind = manifest.Format(e.Kind)
	if bp.name != "" {
		d.Artifact.Name = bp.name
	}
	if d.Artifact.Kind != "tarball" {
		d.Artifact.Arch = distro.ArchName(e.Arch, d.Artifact.Kind)
	}
	for _, f := range bp.files {
		fs, err := h.sum(f)
		if err != nil {
			return nil, fmt.Errorf("the SBOM of %s: %w", e.File, err)
		}
		sum := fs.sha256
		d.Files = append(d.Files, sbom.File{Path: f.path, SHA256: sum, Size: fs.size})
		if f.path == bp.binary {
			c, err := h.componentsOf(bp.in)
			if err != nil {
				return nil, err
			}
			d.Binaries = append(d.Binaries, sbom.Binary{Path: f.path, SHA256: sum, Components: c})
		}
	}
	sort.Slice(d.Files, func(i, k int) bool { return d.Files[i].Path < d.Files[k].Path })
	for _, l := range bp.libs {
		stem, _, _ := strings.Cut(l.lib.Soname, ".so")
		d.Libraries = append(d.Libraries, sbom.Library{Path: l.path, SHA256: l.lib.SHA256, Soname: l.lib.Soname,
			Name: stem, Version: sonameVersion(l.lib.Soname), Role: bp.role})
	}
	sort.Slice(d.Libraries, func(i, k int) bool { return d.Libraries[i].Path < d.Libraries[k].Path })
	return d, nil
}

// toolName is relpack's name and version as the documents record it.
func toolName(v string) string {
	if v == "" {
		return "relpack"
	}
	return "relpack " + v
}

// distroIDRE splits a catalogue id into its name and version (debian12,
// ubuntu22.04, el9).
var distroIDRE = regexp.MustCompile(`^([a-z]+)([0-9][0-9.]*)$`)

// distroPurl is the purl "distro" qualifier of target id: name-version
// (debian-12, el-9); an id of another shape (a local target) as it is.
func distroPurl(id string) string {
	if m := distroIDRE.FindStringSubmatch(id); m != nil {
		return m[1] + "-" + m[2]
	}
	return id
}

// sonameVersion is the version a library's SONAME states (libz3.so.4.8:
// 4.8): what relpack proved of the file it carries. "" when none.
func sonameVersion(soname string) string {
	_, v, ok := strings.Cut(soname, ".so.")
	if !ok {
		return ""
	}
	return v
}

// requirements splits a package's relations into the package (or rpm
// capability) each names and its version constraint: "libz3-4 (>=
// 4.8.12)" and "glibc >= 2.28" give (libz3-4, >= 4.8.12), (glibc, >=
// 2.28); an rpm soname capability or a choice (a | b) is kept whole.
func requirements(relations []string) []sbom.Requirement {
	var out []sbom.Requirement
	for _, r := range relations {
		q := sbom.Requirement{Raw: r, Package: r}
		switch {
		case strings.Contains(r, "|"):
		case strings.Contains(r, " ("):
			p, c, _ := strings.Cut(r, " (")
			q.Package, q.Constraint = p, strings.TrimSuffix(c, ")")
		case strings.Contains(r, " "):
			p, c, _ := strings.Cut(r, " ")
			q.Package, q.Constraint = p, c
		}
		out = append(out, q)
	}
	return out
}
