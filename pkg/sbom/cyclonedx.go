package sbom

import (
	"bytes"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"relpack/pkg/components"
)

// Property names relpack writes into CycloneDX documents (the
// "relpack:" namespace, as CycloneDX's property taxonomy asks of a tool).
const (
	PropFile          = "relpack:file"           // the artifact's file name in the release
	PropKind          = "relpack:kind"           // tarball, deb or rpm
	PropDistro        = "relpack:distro"         // the distro target id
	PropGlibcFloor    = "relpack:glibc-floor"    // the glibc floor proved
	PropGlibcMeasured = "relpack:glibc-measured" // the highest GLIBC_ version the binaries need
	PropComponents    = "relpack:components"     // on a binary that records none: "unknown: WHY"
	PropRequirement   = "relpack:requirement"    // a runtime relation as the package writes it
)

// CycloneDX writes the SBOM of d as a CycloneDX 1.6 JSON document,
// through CycloneDX/cyclonedx-go's model and encoder. It holds what SPDX
// holds: metadata.component is the artifact (purl, SHA-256, licence,
// supplier, and the glibc floor as the relpack:glibc-floor property);
// its files are components of type "file" with their hashes, a binary's
// file nesting the crates and Go modules it records (or, when it records
// none, a relpack:components property saying they are unknown and why);
// carried libraries are "library" components with their hash and proved
// version; each runtime relation is a "library" component of the distro
// (purl when it names a package) that the artifact dependsOn in the
// dependencies graph. The serial number is a name-based UUID of the
// artifact and the timestamp d.Created, so the same Document gives the
// same bytes.
func CycloneDX(d *Document) ([]byte, error) {
	if err := check(d); err != nil {
		return nil, err
	}
	bom := newCDXBuilder(d).build()
	var buf bytes.Buffer
	enc := cdx.NewBOMEncoder(&buf, cdx.BOMFileFormatJSON).SetPretty(true).SetEscapeHTML(false) // as SPDX: see there
	if err := enc.EncodeVersion(bom, cdx.SpecVersion1_6); err != nil {
		return nil, fmt.Errorf("sbom of %s: writing CycloneDX: %w", d.Artifact.File, err)
	}
	return buf.Bytes(), nil
}

type cdxBuilder struct {
	d        *Document
	artifact string // the artifact's bom-ref
	comps    []cdx.Component
	byPath   map[string]int               // file path -> index in comps
	deps     map[string]map[string]bool   // bom-ref -> the bom-refs it depends on
	nested   map[string][]cdx.Component   // file path -> the components its binary records
	props    map[string]map[string]string // file path -> extra properties
}

func newCDXBuilder(d *Document) *cdxBuilder {
	return &cdxBuilder{
		d:        d,
		artifact: "artifact-" + idOf(d.Artifact.File, d.Artifact.SHA256),
		byPath:   map[string]int{},
		deps:     map[string]map[string]bool{},
		nested:   map[string][]cdx.Component{},
		props:    map[string]map[string]string{},
	}
}

func (b *cdxBuilder) build() *cdx.BOM {
	d := b.d
	bom := cdx.NewBOM()
	bom.SerialNumber = "urn:uuid:" + docUUID("cyclonedx", d.Artifact)
	b.dependOn(b.artifact, "")
	b.binaries()
	b.files()
	b.libraries()
	b.requirements()
	name, version, _ := strings.Cut(d.Tool, " ")
	tools := []cdx.Component{{Type: cdx.ComponentTypeApplication, Name: name, Version: version}}
	bom.Metadata = &cdx.Metadata{
		Timestamp: created(d),
		Tools:     &cdx.ToolsChoice{Components: &tools},
		Component: b.artifactComponent(),
	}
	if len(b.comps) > 0 {
		bom.Components = &b.comps
	}
	bom.Dependencies = b.dependencies()
	return bom
}

// dependOn records "from depends on to" ("" adds from alone).
func (b *cdxBuilder) dependOn(from, to string) {
	if b.deps[from] == nil {
		b.deps[from] = map[string]bool{}
	}
	if to != "" {
		b.deps[from][to] = true
	}
}

// dependencies is the graph sorted by ref, each dependsOn sorted.
func (b *cdxBuilder) dependencies() *[]cdx.Dependency {
	refs := make([]string, 0, len(b.deps))
	for r := range b.deps {
		refs = append(refs, r)
	}
	sort.Strings(refs)
	out := make([]cdx.Dependency, 0, len(refs))
	for _, r := range refs {
		dep := cdx.Dependency{Ref: r}
		if on := sortedKeys(b.deps[r]); len(on) > 0 {
			dep.Dependencies = &on
		}
		out = append(out, dep)
	}
	return &out
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// properties turns a map into CycloneDX properties sorted by name,
// leaving out empty values.
func properties(m map[string]string) *[]cdx.Property {
	var out []cdx.Property
	for k, v := range m {
		if v != "" {
			out = append(out, cdx.Property{Name: k, Value: v})
		}
	}
	if len(out) == 0 {
		return nil
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return &out
}

// artifactComponent is metadata.component: the artifact itself.
func (b *cdxBuilder) artifactComponent() *cdx.Component {
	d, a := b.d, b.d.Artifact
	name, version := artifactNameVersion(d)
	c := &cdx.Component{
		BOMRef:      b.artifact,
		Type:        cdx.ComponentTypeApplication,
		Name:        name,
		Version:     version,
		Description: artifactComment(d),
		Hashes:      &[]cdx.Hash{{Algorithm: cdx.HashAlgoSHA256, Value: a.SHA256}},
		PackageURL:  artifactPurl(d),
	}
	if d.License != "" {
		c.Licenses = &cdx.Licenses{{Expression: d.License}}
	}
	if d.Supplier != "" {
		c.Supplier = &cdx.OrganizationalEntity{Name: d.Supplier}
	}
	props := map[string]string{
		PropFile: a.File, PropKind: a.Kind, PropDistro: a.Distro,
		PropGlibcFloor: d.Floor, PropGlibcMeasured: d.GlibcMeasured,
	}
	if isWebURL(d.Homepage) {
		c.ExternalReferences = &[]cdx.ExternalReference{{Type: cdx.ERTypeWebsite, URL: d.Homepage}}
	} else {
		props["relpack:homepage"] = d.Homepage
	}
	c.Properties = properties(props)
	return c
}

// isWebURL: an http(s) URL the schema's iri-reference format accepts.
func isWebURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" &&
		!strings.ContainsAny(s, " \t\r\n\"<>\\^`{|}")
}

// binaries reads each binary's components, nested under its file.
func (b *cdxBuilder) binaries() {
	bins := append([]Binary(nil), b.d.Binaries...)
	sort.Slice(bins, func(i, j int) bool { return bins[i].Path < bins[j].Path })
	for _, bin := range bins {
		c := bin.Components
		if !c.Known() {
			b.props[bin.Path] = map[string]string{PropComponents: "unknown: " + c.Unknown}
			b.fileComponent(bin.Path, bin.SHA256, "")
			continue
		}
		refs := make([]string, len(c.List))
		for i, comp := range c.List {
			refs[i] = "component-" + idOf(bin.Path, strconv.Itoa(i), comp.Ecosystem, comp.Name, comp.Version)
		}
		for i, comp := range c.List {
			b.nested[bin.Path] = append(b.nested[bin.Path], embedded(refs[i], comp))
			for _, dep := range comp.Dependencies {
				if dep >= 0 && dep < len(refs) && dep != i {
					b.dependOn(refs[i], refs[dep])
				}
			}
		}
		b.fileComponent(bin.Path, bin.SHA256, "")
	}
}

// embedded is one crate or Go module a binary records.
func embedded(ref string, c components.Component) cdx.Component {
	out := cdx.Component{
		BOMRef:      ref,
		Type:        cdx.ComponentTypeLibrary,
		Name:        c.Name,
		Version:     c.Version,
		PackageURL:  c.Purl,
		Description: componentComment(c),
	}
	if c.Main {
		out.Type = cdx.ComponentTypeApplication
	}
	if c.Build {
		// CycloneDX's "excluded": used for other than runtime purposes.
		out.Scope = cdx.ScopeExcluded
	}
	props := map[string]string{"relpack:ecosystem": c.Ecosystem, "relpack:source": c.Source}
	if c.Replace != nil {
		props["relpack:replaced-by"] = strings.TrimSuffix(c.Replace.Path+"@"+c.Replace.Version, "@")
	}
	out.Properties = properties(props)
	return out
}

// fileComponent adds (or completes) the component of a file.
func (b *cdxBuilder) fileComponent(path, sha256, sha1 string) {
	if i, ok := b.byPath[path]; ok {
		if sha1 != "" && b.comps[i].Hashes != nil && len(*b.comps[i].Hashes) == 1 {
			*b.comps[i].Hashes = append([]cdx.Hash{{Algorithm: cdx.HashAlgoSHA1, Value: sha1}}, *b.comps[i].Hashes...)
		}
		return
	}
	hashes := []cdx.Hash{}
	if sha1 != "" {
		hashes = append(hashes, cdx.Hash{Algorithm: cdx.HashAlgoSHA1, Value: sha1})
	}
	hashes = append(hashes, cdx.Hash{Algorithm: cdx.HashAlgoSHA256, Value: sha256})
	c := cdx.Component{
		BOMRef:     "file-" + idOf(path),
		Type:       cdx.ComponentTypeFile,
		Name:       path,
		Hashes:     &hashes,
		Properties: properties(b.props[path]),
	}
	if n := b.nested[path]; len(n) > 0 {
		c.Components = &n
	}
	b.byPath[path] = len(b.comps)
	b.comps = append(b.comps, c)
}

// files adds every regular file (a binary's is there already), and sorts
// the file components by path.
func (b *cdxBuilder) files() {
	for _, f := range b.d.Files {
		b.fileComponent(f.Path, f.SHA256, f.SHA1)
	}
	sort.SliceStable(b.comps, func(i, j int) bool { return b.comps[i].Name < b.comps[j].Name })
	b.byPath = map[string]int{}
	for i, c := range b.comps {
		b.byPath[c.Name] = i
	}
}

// libraries: each carried library, after the files.
func (b *cdxBuilder) libraries() {
	libs := append([]Library(nil), b.d.Libraries...)
	sort.Slice(libs, func(i, j int) bool { return libs[i].Path < libs[j].Path })
	for _, l := range libs {
		name := libraryName(l)
		desc := libraryText(l)
		b.comps = append(b.comps, cdx.Component{
			BOMRef:      "library-" + idOf(l.Path),
			Type:        cdx.ComponentTypeLibrary,
			Name:        name,
			Version:     l.Version,
			Description: desc,
			Hashes:      &[]cdx.Hash{{Algorithm: cdx.HashAlgoSHA256, Value: l.SHA256}},
			Properties: properties(map[string]string{
				"relpack:path": l.Path, "relpack:soname": l.Soname, "relpack:role": l.Role,
			}),
		})
	}
}

// requirements: the distro packages the artifact depends on.
func (b *cdxBuilder) requirements() {
	for _, r := range hostNeeds(b.d) {
		ref := "requires-" + idOf(r.Package, r.Raw)
		b.comps = append(b.comps, cdx.Component{
			BOMRef:      ref,
			Type:        cdx.ComponentTypeLibrary,
			Name:        r.Package,
			Scope:       cdx.ScopeRequired,
			Description: r.comment,
			PackageURL:  requirementPurl(b.d, r.Package),
			Properties: properties(map[string]string{
				PropRequirement: r.Raw, "relpack:constraint": r.Constraint,
			}),
		})
		b.dependOn(b.artifact, ref)
		b.dependOn(ref, "")
	}
}
