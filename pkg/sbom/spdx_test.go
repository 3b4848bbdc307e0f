package sbom

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/spdx/tools-golang/spdx"
	"github.com/spdx/tools-golang/spdx/v2/common"
	"github.com/spdx/tools-golang/spdxlib"

	"relpack/internal/sbomtest"
)

// readSPDX reads and validates a document with spdx/tools-golang
// (internal/sbomtest).
func readSPDX(t *testing.T, b []byte) *spdx.Document {
	t.Helper()
	doc, err := sbomtest.SPDX(b)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

var spdxIDRE = regexp.MustCompile(`^[A-Za-z0-9.-]+$`)

// TestSPDXValidates writes the SPDX of a deb, an rpm and a tarball of the
// committed fixtures, reads each back with tools-golang, validates it
// with tools-golang's validator, and checks what it says.
func TestSPDXValidates(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			d := realDocument(t, kind)
			out, err := SPDX(d)
			if err != nil {
				t.Fatal(err)
			}
			doc := readSPDX(t, out)
			if doc.SPDXVersion != "SPDX-2.3" || doc.DataLicense != "CC0-1.0" {
				t.Errorf("version %q, data licence %q", doc.SPDXVersion, doc.DataLicense)
			}
			if doc.CreationInfo.Created != "2025-01-01T00:00:00Z" {
				t.Errorf("created %q, want SOURCE_DATE_EPOCH 1735689600 in RFC 3339 UTC", doc.CreationInfo.Created)
			}
			if c := doc.CreationInfo.Creators; len(c) != 1 || c[0].CreatorType != "Tool" || c[0].Creator != "relpack 0.4.0" {
				t.Errorf("creators %+v", c)
			}
			if !regexp.MustCompile(`^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(doc.DocumentNamespace) {
				t.Errorf("namespace %q is not a name-based UUID URN", doc.DocumentNamespace)
			}
			checkSPDXIDs(t, doc)
			checkSPDXArtifact(t, d, doc)
			checkSPDXFiles(t, d, doc)
			checkSPDXComponents(t, d, doc)
			checkSPDXNeeds(t, d, doc)
		})
	}
}

// checkSPDXIDs: every identifier has SPDX's form and is unique.
func checkSPDXIDs(t *testing.T, doc *spdx.Document) {
	t.Helper()
	seen := map[common.ElementID]bool{}
	add := func(id common.ElementID) {
		if !spdxIDRE.MatchString(string(id)) || seen[id] {
			t.Errorf("identifier SPDXRef-%s is malformed or used twice", id)
		}
		seen[id] = true
	}
	for _, p := range doc.Packages {
		add(p.PackageSPDXIdentifier)
	}
	for _, f := range doc.Files {
		add(f.FileSPDXIdentifier)
	}
}

// described returns the one package the document describes.
func described(t *testing.T, doc *spdx.Document) *spdx.Package {
	t.Helper()
	ids, err := spdxlib.GetDescribedPackageIDs(doc)
	if err != nil || len(ids) != 1 {
		t.Fatalf("described packages %v (%v), want one", ids, err)
	}
	return pkgByID(t, doc, ids[0])
}

func pkgByID(t *testing.T, doc *spdx.Document, id common.ElementID) *spdx.Package {
	t.Helper()
	for _, p := range doc.Packages {
		if p.PackageSPDXIdentifier == id {
			return p
		}
	}
	t.Fatalf("no package %s", id)
	return nil
}

func purlOf(p *spdx.Package) string {
	for _, r := range p.PackageExternalReferences {
		if r.RefType == common.TypePackageManagerPURL {
			return r.Locator
		}
	}
	return ""
}

// related lists the elements a has relationship typ with.
func related(doc *spdx.Document, a common.ElementID, typ string) []common.ElementID {
	var out []common.ElementID
	for _, r := range doc.Relationships {
		if r.RefA.ElementRefID == a && r.Relationship == typ {
			out = append(out, r.RefB.ElementRefID)
		}
	}
	return out
}

func checkSPDXArtifact(t *testing.T, d *Document, doc *spdx.Document) {
	t.Helper()
	a := described(t, doc)
	want := map[string]string{
		"deb":     "pkg:deb/example-corp/openshell@0.1.0-1~deb12?arch=amd64&distro=debian-12",
		"rpm":     "pkg:rpm/example-corp/openshell@0.1.0-1.el9?arch=x86_64&distro=el-9&epoch=1",
		"tarball": "pkg:generic/openshell@0.1.0?arch=x86_64-unknown-linux-gnu",
	}[d.Artifact.Kind]
	if got := purlOf(a); got != want {
		t.Errorf("artifact purl %q, want %q", got, want)
	}
	if a.PackageFileName != d.Artifact.File || len(a.PackageChecksums) != 1 ||
		a.PackageChecksums[0].Algorithm != common.SHA256 || a.PackageChecksums[0].Value != d.Artifact.SHA256 {
		t.Errorf("artifact %s, checksums %+v", a.PackageFileName, a.PackageChecksums)
	}
	if a.PackageLicenseDeclared != d.License {
		t.Errorf("licence %q", a.PackageLicenseDeclared)
	}
	if len(a.Annotations) != 1 || !strings.Contains(a.Annotations[0].AnnotationComment, "glibc floor: the artifact runs on glibc 2.28") {
		t.Errorf("artifact annotations %+v, want the glibc floor", a.Annotations)
	}
}

func checkSPDXFiles(t *testing.T, d *Document, doc *spdx.Document) {
	t.Helper()
	a := described(t, doc).PackageSPDXIdentifier
	contained := map[common.ElementID]bool{}
	for _, id := range related(doc, a, "CONTAINS") {
		contained[id] = true
	}
	if len(doc.Files) != len(d.Files) {
		t.Fatalf("%d files, want %d", len(doc.Files), len(d.Files))
	}
	for i, f := range doc.Files {
		want := d.Files[i]
		if f.FileName != "./"+want.Path || len(f.Checksums) != 2 || f.Checksums[0].Value != want.SHA1 || f.Checksums[1].Value != want.SHA256 {
			t.Errorf("file %d: %s %+v, want %s", i, f.FileName, f.Checksums, want.Path)
		}
		if !contained[f.FileSPDXIdentifier] {
			t.Errorf("%s is not contained in the artifact", f.FileName)
		}
	}
}

// checkSPDXComponents: each binary's components are what pkg/components
// read, with their purls; the binary that records none says so.
func checkSPDXComponents(t *testing.T, d *Document, doc *spdx.Document) {
	t.Helper()
	for _, bin := range d.Binaries {
		var file *spdx.File
		for _, f := range doc.Files {
			if f.FileName == "./"+bin.Path {
				file = f
			}
		}
		if !bin.Components.Known() {
			if len(file.Annotations) != 1 || file.Annotations[0].AnnotationComment != "components unknown: "+bin.Components.Unknown {
				t.Errorf("%s: annotations %+v, want the components unknown", bin.Path, file.Annotations)
			}
			if n := len(related(doc, file.FileSPDXIdentifier, "CONTAINS")); n != 0 {
				t.Errorf("%s records no components, but the SBOM gives it %d", bin.Path, n)
			}
			continue
		}
		var got []string
		for _, id := range related(doc, file.FileSPDXIdentifier, "CONTAINS") {
			p := pkgByID(t, doc, id)
			got = append(got, p.PackageName+"@"+p.PackageVersion+" "+purlOf(p))
		}
		for _, r := range doc.Relationships {
			if r.RefB.ElementRefID == file.FileSPDXIdentifier && r.Relationship == "BUILD_DEPENDENCY_OF" {
				p := pkgByID(t, doc, r.RefA.ElementRefID)
				got = append(got, p.PackageName+"@"+p.PackageVersion+" "+purlOf(p))
			}
		}
		var want []string
		for _, c := range bin.Components.List {
			want = append(want, c.Name+"@"+c.Version+" "+c.Purl)
		}
		if strings.Join(sorted(got), "\n") != strings.Join(sorted(want), "\n") {
			t.Errorf("%s: components\n%s\nwant\n%s", bin.Path, strings.Join(sorted(got), "\n"), strings.Join(sorted(want), "\n"))
		}
		if len(want) < 2 {
			t.Errorf("%s: the fixture records %d components; the test needs a real list", bin.Path, len(want))
		}
	}
}

// checkSPDXNeeds: every runtime relation is a package the artifact
// DEPENDS_ON, with a distro purl when it names a package.
func checkSPDXNeeds(t *testing.T, d *Document, doc *spdx.Document) {
	t.Helper()
	a := described(t, doc).PackageSPDXIdentifier
	got := map[string]string{}
	for _, id := range related(doc, a, "DEPENDS_ON") {
		p := pkgByID(t, doc, id)
		got[p.PackageName] = purlOf(p)
	}
	want := map[string]map[string]string{
		"deb": {
			"libz3-4":    "pkg:deb/debian/libz3-4?arch=amd64&distro=debian-12",
			"libc6":      "pkg:deb/debian/libc6?arch=amd64&distro=debian-12",
			"libstdc++6": "pkg:deb/debian/libstdc%2B%2B6?arch=amd64&distro=debian-12",
		},
		"rpm": {
			"libc.so.6(GLIBC_2.28)(64bit)": "", // a capability, not a package
			"libz3":                        "pkg:rpm/el/libz3?arch=x86_64&distro=el-9",
			"glibc":                        "pkg:rpm/el/glibc?arch=x86_64&distro=el-9", // the floor
		},
		"tarball": {"glibc": ""},
	}[d.Artifact.Kind]
	if len(got) != len(want) {
		t.Errorf("depends on %v, want %v", got, want)
	}
	for name, purl := range want {
		if p, ok := got[name]; !ok || p != purl {
			t.Errorf("depends on %s with purl %q (present %v), want %q", name, p, ok, purl)
		}
	}
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// TestSPDXJSONShape: fields the tools-golang model has but SPDX 2.3's
// JSON does not (a package's "files") are not written.
func TestSPDXJSONShape(t *testing.T) {
	out, err := SPDX(realDocument(t, "deb"))
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Packages []map[string]any `json:"packages"`
	}
	if err := json.Unmarshal(out, &raw); err != nil {
		t.Fatal(err)
	}
	for _, p := range raw.Packages {
		if _, ok := p["files"]; ok {
			t.Errorf("package %v has a files field", p["SPDXID"])
		}
	}
}
