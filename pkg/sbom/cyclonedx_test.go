package sbom

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"relpack/internal/sbomtest"
)

// bom16Schema is the official CycloneDX 1.6 JSON schema
// (internal/sbomtest).
func bom16Schema(t *testing.T) *jsonschema.Schema { return sbomtest.CycloneDXSchema(t) }

// validateCDX validates a document against the CycloneDX 1.6 schema.
func validateCDX(t *testing.T, b []byte) {
	t.Helper()
	if err := sbomtest.CycloneDX(t, b); err != nil {
		t.Fatal(err)
	}
}

// TestCycloneDXSchema validates the CycloneDX document of a deb, an rpm
// and a tarball of the committed fixtures against the official CycloneDX
// 1.6 JSON schema, decodes it with cyclonedx-go and checks what it says.
func TestCycloneDXSchema(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			d := realDocument(t, kind)
			out, err := CycloneDX(d)
			if err != nil {
				t.Fatal(err)
			}
			validateCDX(t, out)
			var bom cdx.BOM
			if err := cdx.NewBOMDecoder(bytes.NewReader(out), cdx.BOMFileFormatJSON).Decode(&bom); err != nil {
				t.Fatal(err)
			}
			if bom.SpecVersion != cdx.SpecVersion1_6 || bom.JSONSchema != "http://cyclonedx.org/schema/bom-1.6.schema.json" {
				t.Errorf("spec %v, $schema %q", bom.SpecVersion, bom.JSONSchema)
			}
			if !regexp.MustCompile(`^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(bom.SerialNumber) {
				t.Errorf("serial %q is not a name-based UUID URN", bom.SerialNumber)
			}
			if bom.Metadata.Timestamp != "2025-01-01T00:00:00Z" {
				t.Errorf("timestamp %q", bom.Metadata.Timestamp)
			}
			if tc := *bom.Metadata.Tools.Components; len(tc) != 1 || tc[0].Name != "relpack" || tc[0].Version != "0.4.0" {
				t.Errorf("tools %+v", tc)
			}
			checkCDXArtifact(t, d, &bom)
			checkCDXComponents(t, d, &bom)
			checkCDXNeeds(t, d, &bom)
		})
	}
}

func prop(c *cdx.Component, name string) string {
	if c.Properties == nil {
		return ""
	}
	for _, p := range *c.Properties {
		if p.Name == name {
			return p.Value
		}
	}
	return ""
}

func checkCDXArtifact(t *testing.T, d *Document, bom *cdx.BOM) {
	t.Helper()
	a := bom.Metadata.Component
	if a.PackageURL != artifactPurl(d) || !strings.HasPrefix(a.PackageURL, "pkg:") {
		t.Errorf("artifact purl %q", a.PackageURL)
	}
	if h := *a.Hashes; len(h) != 1 || h[0].Algorithm != cdx.HashAlgoSHA256 || h[0].Value != d.Artifact.SHA256 {
		t.Errorf("artifact hashes %+v", h)
	}
	if l := *a.Licenses; len(l) != 1 || l[0].Expression != d.License {
		t.Errorf("licences %+v", l)
	}
	if prop(a, PropGlibcFloor) != "2.28" || prop(a, PropFile) != d.Artifact.File {
		t.Errorf("artifact properties %+v", *a.Properties)
	}
}

// checkCDXComponents: files with their hashes, each binary nesting what
// pkg/components read (or saying it is unknown), the carried library.
func checkCDXComponents(t *testing.T, d *Document, bom *cdx.BOM) {
	t.Helper()
	byName := map[string]cdx.Component{}
	for _, c := range *bom.Components {
		if c.Type == cdx.ComponentTypeFile {
			byName[c.Name] = c
		}
	}
	for _, f := range d.Files {
		c, ok := byName[f.Path]
		if !ok || len(*c.Hashes) != 2 || (*c.Hashes)[1].Value != f.SHA256 || (*c.Hashes)[0].Value != f.SHA1 {
			t.Errorf("file %s: %+v", f.Path, c)
		}
	}
	for _, bin := range d.Binaries {
		c := byName[bin.Path]
		if !bin.Components.Known() {
			if c.Components != nil || prop(&c, PropComponents) != "unknown: "+bin.Components.Unknown {
				t.Errorf("%s records no components; its component is %+v", bin.Path, c)
			}
			continue
		}
		var got, want []string
		for _, e := range *c.Components {
			got = append(got, e.Name+"@"+e.Version+" "+e.PackageURL)
		}
		for _, e := range bin.Components.List {
			want = append(want, e.Name+"@"+e.Version+" "+e.Purl)
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s: components\n%s\nwant\n%s", bin.Path, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	found := false
	for _, c := range *bom.Components {
		if c.Type == cdx.ComponentTypeLibrary && c.Name == "libz3" && c.Version == "4.8.12" && (*c.Hashes)[0].Value == d.Libraries[0].SHA256 {
			found = true
		}
	}
	if !found {
		t.Error("the carried libz3 4.8.12 is not a library component with its hash")
	}
}

// checkCDXNeeds: the artifact dependsOn each runtime relation's component.
func checkCDXNeeds(t *testing.T, d *Document, bom *cdx.BOM) {
	t.Helper()
	refs := map[string]cdx.Component{}
	for _, c := range *bom.Components {
		refs[c.BOMRef] = c
	}
	var on []string
	for _, dep := range *bom.Dependencies {
		if dep.Ref == bom.Metadata.Component.BOMRef && dep.Dependencies != nil {
			on = *dep.Dependencies
		}
	}
	got := map[string]string{}
	for _, r := range on {
		c, ok := refs[r]
		if !ok {
			t.Errorf("the artifact depends on %s, which no component is", r)
		}
		got[c.Name] = c.PackageURL
	}
	var want int
	switch d.Artifact.Kind {
	case "deb":
		want = 3
		if got["libz3-4"] != "pkg:deb/debian/libz3-4?arch=amd64&distro=debian-12" {
			t.Errorf("libz3-4: %q", got["libz3-4"])
		}
	case "rpm":
		want = 3 // the capability, libz3 and the glibc floor
		if p, ok := got["glibc"]; !ok || p != "pkg:rpm/el/glibc?arch=x86_64&distro=el-9" {
			t.Errorf("glibc floor: %q", p)
		}
	default:
		want = 1
	}
	if len(got) != want {
		t.Errorf("the artifact depends on %v, want %d", got, want)
	}
}

// TestCycloneDXSchemaRefuses: the schema check can fail. Documents the
// schema must refuse (a serial number that is no UUID URN, a timestamp
// that is no date-time, a field CycloneDX 1.6 does not have, a component
// without a name) are refused.
func TestCycloneDXSchemaRefuses(t *testing.T) {
	out, err := CycloneDX(realDocument(t, "deb"))
	if err != nil {
		t.Fatal(err)
	}
	sch := bom16Schema(t)
	for _, c := range []struct{ old, new string }{
		{`"serialNumber": "urn:uuid:`, `"serialNumber": "urn:uuid:X`},
		{`"timestamp": "2025-01-01T00:00:00Z"`, `"timestamp": "2025-01-01 00:00:00"`},
		{`"bomFormat": "CycloneDX",`, `"bomFormat": "CycloneDX", "relpack": true,`},
		{`"type": "file",`, `"type": "file", "nom": "x",`},
		{`"alg": "SHA-256",`, `"alg": "SHA256",`},
	} {
		bad := strings.Replace(string(out), c.old, c.new, 1)
		if bad == string(out) {
			t.Fatalf("%q is not in the document", c.old)
		}
		inst, err := jsonschema.UnmarshalJSON(strings.NewReader(bad))
		if err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(inst); err == nil {
			t.Errorf("the schema accepts the document with %q", c.new)
		}
	}
}
