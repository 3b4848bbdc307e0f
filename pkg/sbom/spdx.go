package sbom

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"

	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx/v2/common"
	spdx "github.com/spdx/tools-golang/spdx/v2/v2_3"

	"relpack/pkg/components"
)

// noAssertion is SPDX's "nothing is claimed" value.
const noAssertion = "NOASSERTION"

// SPDX writes the SBOM of d as an SPDX 2.3 JSON document, through
// spdx/tools-golang's model and JSON writer. The same Document gives the
// same bytes: identifiers and the document namespace come from the
// artifact's name and digest, lists are in a fixed order, the creation
// time is d.Created, and the encoder's settings are fixed (two-space
// indent, a newline at the end; "<", ">" and "&" are written as they are,
// not as \u003c..., so that "libz3-4 (>= 4.8.12)" and purl qualifiers
// read as written: the document is JSON served as JSON, not embedded in
// HTML, and quotes, backslashes and control characters are escaped
// all the same).
//
// What it holds (docs/sbom.md shows an excerpt):
//   - the artifact, the package the document DESCRIBES: its purl, SHA256,
//     declared licence and supplier, and the glibc floor as an annotation;
//   - each regular file (SHA256, and SHA1 when the Document has it), which
//     the artifact CONTAINS;
//   - each binary's components as packages the binary's file CONTAINS
//     (a cargo build-time crate is a BUILD_DEPENDENCY_OF it instead), with
//     their purls and the cargo dependency edges; a binary that records
//     none gets an annotation saying its components are unknown and why;
//   - each carried library as a package with its SHA256 and the version
//     relpack proved;
//   - each runtime relation as a package of the distro the artifact
//     DEPENDS_ON, and the glibc floor as one too when no relation names
//     glibc already.
//
// The runtime relations are DEPENDS_ON from the artifact rather than the
// reverse RUNTIME_DEPENDENCY_OF from each distro package: the graph then
// reads from the described package outward, as readers walk it (syft,
// GUAC and dependency-track follow DEPENDS_ON from the described package),
// and each relationship's comment says it is a runtime relation and
// quotes it as the package writes it.
func SPDX(d *Document) ([]byte, error) {
	if err := check(d); err != nil {
		return nil, err
	}
	doc := newSPDXBuilder(d).build()
	var buf bytes.Buffer
	if err := spdxjson.Write(doc, &buf, spdxjson.Indent("  "), spdxjson.EscapeHTML(false)); err != nil {
		return nil, fmt.Errorf("sbom of %s: writing SPDX: %w", d.Artifact.File, err)
	}
	return buf.Bytes(), nil
}

// spdxBuilder turns a checked Document into the tools-golang model.
type spdxBuilder struct {
	d          *Document
	doc        *spdx.Document
	artifact   common.ElementID
	annotator  common.Annotator
	date       string
	fileByPath map[string]*spdx.File // file path -> its element
}

func newSPDXBuilder(d *Document) *spdxBuilder {
	return &spdxBuilder{
		d:          d,
		artifact:   common.ElementID("Package-" + idOf(d.Artifact.File, d.Artifact.SHA256)),
		annotator:  common.Annotator{Annotator: d.Tool, AnnotatorType: "Tool"},
		date:       created(d),
		fileByPath: map[string]*spdx.File{},
	}
}

func (b *spdxBuilder) build() *spdx.Document {
	d := b.d
	b.doc = &spdx.Document{
		SPDXVersion:       spdx.Version,
		DataLicense:       spdx.DataLicense,
		SPDXIdentifier:    "DOCUMENT",
		DocumentName:      d.Artifact.File,
		DocumentNamespace: "urn:uuid:" + docUUID("spdx", d.Artifact),
		CreationInfo: &spdx.CreationInfo{
			Creators: []common.Creator{{Creator: d.Tool, CreatorType: "Tool"}},
			Created:  b.date,
		},
	}
	b.artifactPackage()
	b.files()
	b.binaries()
	b.libraries()
	b.requirements()
	sortRelationships(b.doc.Relationships)
	return b.doc
}

// relate adds "a TYPE b" with an optional comment.
func (b *spdxBuilder) relate(a, typ common.ElementID, rel, comment string) {
	b.doc.Relationships = append(b.doc.Relationships, &spdx.Relationship{
		RefA:                common.MakeDocElementID("", string(a)),
		RefB:                common.MakeDocElementID("", string(typ)),
		Relationship:        rel,
		RelationshipComment: comment,
	})
}

// note is an annotation of type OTHER by relpack, at the document's time.
func (b *spdxBuilder) note(text string) spdx.Annotation {
	return spdx.Annotation{Annotator: b.annotator, AnnotationDate: b.date, AnnotationType: "OTHER", AnnotationComment: text}
}

// artifactPackage: the package the document describes.
func (b *spdxBuilder) artifactPackage() {
	d, a := b.d, b.d.Artifact
	name, version := artifactNameVersion(d)
	purpose := "INSTALL"
	if a.Kind == "tarball" {
		purpose = "ARCHIVE"
	}
	license := d.License
	if license == "" {
		license = noAssertion
	}
	p := &spdx.Package{
		PackageName:             name,
		PackageSPDXIdentifier:   b.artifact,
		PackageVersion:          version,
		PackageFileName:         a.File,
		PackageDownloadLocation: noAssertion,
		PackageChecksums:        []common.Checksum{{Algorithm: common.SHA256, Value: a.SHA256}},
		PackageLicenseDeclared:  license,
		PackageComment:          artifactComment(d),
		PackageExternalReferences: []*spdx.PackageExternalReference{
			{Category: common.CategoryPackageManager, RefType: common.TypePackageManagerPURL, Locator: artifactPurl(d)},
		},
		PrimaryPackagePurpose: purpose,
	}
	if isWebURL(d.Homepage) { // SPDX's homepage is a URL; other text stays out
		p.PackageHomePage = d.Homepage
	}
	if d.Supplier != "" {
		p.PackageSupplier = &common.Supplier{Supplier: d.Supplier, SupplierType: "Organization"}
	}
	if d.Floor != "" {
		p.Annotations = []spdx.Annotation{b.note(floorText(d))}
	}
	b.doc.Packages = append(b.doc.Packages, p)
	b.relate("DOCUMENT", b.artifact, common.TypeRelationshipDescribe, "")
}

// artifactComment says which release and target the artifact is.
func artifactComment(d *Document) string {
	a := d.Artifact
	s := fmt.Sprintf("%s %s, %s artifact %s (%d bytes)", d.Product, d.Version, a.Kind, a.File, a.Size)
	if a.Distro != "" {
		s += " for the distro target " + a.Distro
	}
	if a.Arch != "" {
		s += ", architecture " + a.Arch
	}
	return s
}

// floorText says what the glibc floor is and how it was established.
func floorText(d *Document) string {
	s := "glibc floor: the artifact runs on glibc " + d.Floor + " or newer (proved by relpack)"
	if d.GlibcMeasured != "" {
		s += "; the highest GLIBC_ symbol version its binaries need is " + d.GlibcMeasured
	}
	return s
}

// files: every regular file, contained in the artifact.
func (b *spdxBuilder) files() {
	files := append([]File(nil), b.d.Files...)
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	for _, f := range files {
		id := common.ElementID("File-" + idOf(f.Path))
		if b.fileByPath[f.Path] != nil {
			continue
		}
		sums := []common.Checksum{}
		if f.SHA1 != "" {
			sums = append(sums, common.Checksum{Algorithm: common.SHA1, Value: f.SHA1})
		}
		sums = append(sums, common.Checksum{Algorithm: common.SHA256, Value: f.SHA256})
		sf := &spdx.File{
			FileName:           "./" + f.Path,
			FileSPDXIdentifier: id,
			Checksums:          sums,
			FileCopyrightText:  noAssertion,
		}
		b.fileByPath[f.Path] = sf
		b.doc.Files = append(b.doc.Files, sf)
		b.relate(b.artifact, id, common.TypeRelationshipContains, "")
	}
}

// fileID returns the element of a binary's or library's file, adding the
// file when the Document's Files did not list it.
func (b *spdxBuilder) fileID(path, sha256 string) (common.ElementID, *spdx.File) {
	if f := b.fileByPath[path]; f != nil {
		return f.FileSPDXIdentifier, f
	}
	id := common.ElementID("File-" + idOf(path))
	f := &spdx.File{
		FileName:           "./" + path,
		FileSPDXIdentifier: id,
		Checksums:          []common.Checksum{{Algorithm: common.SHA256, Value: sha256}},
		FileCopyrightText:  noAssertion,
	}
	b.doc.Files = append(b.doc.Files, f)
	b.fileByPath[path] = f
	b.relate(b.artifact, id, common.TypeRelationshipContains, "")
	return id, f
}

// binaries: each binary's components, or the note that they are unknown.
func (b *spdxBuilder) binaries() {
	bins := append([]Binary(nil), b.d.Binaries...)
	sort.Slice(bins, func(i, j int) bool { return bins[i].Path < bins[j].Path })
	for _, bin := range bins {
		fid, f := b.fileID(bin.Path, bin.SHA256)
		f.FileTypes = []string{"BINARY"}
		c := bin.Components
		if !c.Known() {
			f.Annotations = append(f.Annotations, b.note("components unknown: "+c.Unknown))
			continue
		}
		ids := make([]common.ElementID, len(c.List))
		for i, comp := range c.List {
			ids[i] = common.ElementID("Component-" + idOf(bin.Path, strconv.Itoa(i), comp.Ecosystem, comp.Name, comp.Version))
		}
		for i, comp := range c.List {
			b.doc.Packages = append(b.doc.Packages, componentPackage(ids[i], comp))
			if comp.Build {
				b.relate(ids[i], fid, common.TypeRelationshipBuildDependencyOf, "a cargo build-time dependency: built and run at build time, not linked")
			} else {
				b.relate(fid, ids[i], common.TypeRelationshipContains, "recorded in the binary ("+recordedIn(comp)+")")
			}
			for _, dep := range comp.Dependencies {
				if dep >= 0 && dep < len(ids) {
					b.relate(ids[i], ids[dep], common.TypeRelationshipDependsOn, "")
				}
			}
		}
	}
}

// recordedIn names where a component was read from.
func recordedIn(c components.Component) string {
	if c.Ecosystem == components.Cargo {
		return "cargo-auditable .dep-v0"
	}
	return "Go build info"
}

// componentPackage is one crate or Go module embedded in a binary.
func componentPackage(id common.ElementID, c components.Component) *spdx.Package {
	p := &spdx.Package{
		PackageName:             c.Name,
		PackageSPDXIdentifier:   id,
		PackageVersion:          c.Version,
		PackageDownloadLocation: noAssertion,
		PrimaryPackagePurpose:   "LIBRARY",
		PackageComment:          componentComment(c),
	}
	if c.Main {
		p.PrimaryPackagePurpose = "APPLICATION"
	}
	if c.Purl != "" {
		p.PackageExternalReferences = []*spdx.PackageExternalReference{
			{Category: common.CategoryPackageManager, RefType: common.TypePackageManagerPURL, Locator: c.Purl},
		}
	}
	return p
}

// componentComment: what the binary records beyond name and version.
func componentComment(c components.Component) string {
	s := c.Ecosystem
	switch {
	case c.Main && c.Ecosystem == components.Golang:
		s += " main module"
	case c.Main:
		s += " root package"
	case c.Ecosystem == components.Golang:
		s += " module"
	default:
		s += " crate"
	}
	if c.Source != "" {
		s += ", source " + c.Source
	}
	if c.Replace != nil {
		s += ", replaced by " + c.Replace.Path
		if c.Replace.Version != "" {
			s += "@" + c.Replace.Version
		}
	}
	if c.Sum != "" {
		s += ", go.sum " + c.Sum
	}
	if c.Purl == "" {
		s += "; no purl: the binary does not record where it came from"
	}
	return s
}

// libraries: each carried library, a package holding its file.
func (b *spdxBuilder) libraries() {
	libs := append([]Library(nil), b.d.Libraries...)
	sort.Slice(libs, func(i, j int) bool { return libs[i].Path < libs[j].Path })
	for _, l := range libs {
		fid, _ := b.fileID(l.Path, l.SHA256)
		id := common.ElementID("Library-" + idOf(l.Path))
		name := libraryName(l)
		comment := libraryText(l)
		b.doc.Packages = append(b.doc.Packages, &spdx.Package{
			PackageName:             name,
			PackageSPDXIdentifier:   id,
			PackageVersion:          l.Version,
			PackageFileName:         l.Path,
			PackageDownloadLocation: noAssertion,
			PackageChecksums:        []common.Checksum{{Algorithm: common.SHA256, Value: l.SHA256}},
			PrimaryPackagePurpose:   "LIBRARY",
			PackageComment:          comment,
		})
		b.relate(b.artifact, id, common.TypeRelationshipContains, "")
		b.relate(id, fid, common.TypeRelationshipContains, "")
	}
}

// requirements: what the artifact needs from the host.
func (b *spdxBuilder) requirements() {
	for _, r := range hostNeeds(b.d) {
		id := common.ElementID("Requires-" + idOf(r.Package, r.Raw))
		p := &spdx.Package{
			PackageName:             r.Package,
			PackageSPDXIdentifier:   id,
			PackageDownloadLocation: noAssertion,
			PackageComment:          r.comment,
		}
		if u := requirementPurl(b.d, r.Package); u != "" {
			p.PackageExternalReferences = []*spdx.PackageExternalReference{
				{Category: common.CategoryPackageManager, RefType: common.TypePackageManagerPURL, Locator: u},
			}
		}
		b.doc.Packages = append(b.doc.Packages, p)
		b.relate(b.artifact, id, common.TypeRelationshipDependsOn, r.comment)
	}
}

// sortRelationships puts the document's DESCRIBES first, then orders
// the rest by their two ends and type.
func sortRelationships(rs []*spdx.Relationship) {
	key := func(r *spdx.Relationship) string {
		if r.Relationship == common.TypeRelationshipDescribe {
			return ""
		}
		return string(r.RefA.ElementRefID) + "\x00" + r.Relationship + "\x00" + string(r.RefB.ElementRefID)
	}
	sort.SliceStable(rs, func(i, j int) bool { return key(rs[i]) < key(rs[j]) })
}
