package sbom

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"relpack/pkg/components"
)

// writers are the two formats, by name.
var writers = []struct {
	name   string
	suffix string
	write  func(*Document) ([]byte, error)
}{
	{"SPDX", SPDXSuffix, SPDX},
	{"CycloneDX", CycloneDXSuffix, CycloneDX},
}

// TestReproducible: the same Document gives the same bytes, whatever the
// order of its lists, and the writers leave the Document as it was.
func TestReproducible(t *testing.T) {
	for _, w := range writers {
		for _, kind := range kinds {
			d := realDocument(t, kind)
			before := realDocument(t, kind)
			a, err := w.write(d)
			if err != nil {
				t.Fatal(err)
			}
			b, err := w.write(d)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a, b) {
				t.Errorf("%s %s: two runs differ", w.name, kind)
			}
			if !bytes.HasSuffix(a, []byte("}\n")) || bytes.HasSuffix(a, []byte("\n\n")) {
				t.Errorf("%s %s: does not end in one newline", w.name, kind)
			}
			if !reflect.DeepEqual(d, before) {
				t.Errorf("%s %s: the writer changed the Document", w.name, kind)
			}
			rev := realDocument(t, kind)
			reverse(rev.Files)
			reverse(rev.Binaries)
			reverse(rev.Requires)
			if len(rev.Requires) > 0 {
				rev.Requires = append(rev.Requires, rev.Requires[0]) // a repeated relation is written once
			}
			c, err := w.write(rev)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a, c) {
				t.Errorf("%s %s: the order of the Document's lists changes the bytes", w.name, kind)
			}
			other := realDocument(t, kind)
			other.Artifact.SHA256 = strings.Repeat("0", 64)
			o, err := w.write(other)
			if err != nil {
				t.Fatal(err)
			}
			if docID(t, a) == docID(t, o) {
				t.Errorf("%s %s: two artifacts of different bytes share the document id %s", w.name, kind, docID(t, a))
			}
		}
	}
}

func reverse[T any](s []T) {
	for i, j := 0, len(s)-1; i < j; i, j = i+1, j-1 {
		s[i], s[j] = s[j], s[i]
	}
}

// docID is the SPDX namespace or the CycloneDX serial number.
func docID(t *testing.T, b []byte) string {
	t.Helper()
	var v struct {
		Namespace string `json:"documentNamespace"`
		Serial    string `json:"serialNumber"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v.Namespace + v.Serial
}

// TestLicenseExpressions: SPDX license expressions are written, anything
// else is refused by both writers before a byte is written.
func TestLicenseExpressions(t *testing.T) {
	good := []string{
		"MIT", "Apache-2.0 OR MIT", "Apache-2.0 WITH LLVM-exception", "(MIT OR Apache-2.0) AND BSD-3-Clause",
		"GPL-2.0+", "LicenseRef-acme-eula", "DocumentRef-spdx-tool-1.2:LicenseRef-MIT-Style-2",
		"((MIT))", "GPL-2.0-only WITH Classpath-exception-2.0 OR MIT",
	}
	bad := []string{
		"MIT AND", "(MIT", "MIT)", "()", "MIT and Apache-2.0", `MIT OR "x"`, "MIT\nOR Apache-2.0",
		"<script>alert(1)</script>", "MIT WITH", "WITH MIT", "MIT WITH OR", "MIT++", "LicenseRef-x+",
		"DocumentRef-x:MIT", "MIT Apache-2.0", " ", "MIT OR OR Apache-2.0", "MIT & Apache-2.0",
	}
	for _, w := range writers {
		for _, l := range good {
			d := realDocument(t, "deb")
			d.License = l
			out, err := w.write(d)
			if err != nil {
				t.Errorf("%s refuses the licence %q: %v", w.name, l, err)
				continue
			}
			if w.name == "SPDX" {
				if got := described(t, readSPDX(t, out)).PackageLicenseDeclared; got != l {
					t.Errorf("licence %q read back as %q", l, got)
				}
			} else {
				validateCDX(t, out)
			}
		}
		for _, l := range bad {
			d := realDocument(t, "deb")
			d.License = l
			out, err := w.write(d)
			if err == nil || !strings.Contains(err.Error(), "license") || out != nil {
				t.Errorf("%s with the licence %q: %v (%d bytes), want it refused", w.name, l, err, len(out))
			}
		}
	}
}

// hostile is text with quotes, newlines, markup and a NUL: free text
// (names, versions) must come back from the JSON exactly as given.
const hostile = "evil\" \n\t</script><b onload=x>&amp;\\ \x00 \u2028 end"

// TestHostileText: free text goes through the JSON encoders escaped
// (quotes, newlines, tabs, NUL and U+2028 as JSON escapes; markup as it
// is; the same string when parsed back), in a
// document both validators still accept; paths, digests and file names
// that a reader would act on are refused when they are not clean.
func TestHostileText(t *testing.T) {
	d := realDocument(t, "deb")
	d.Product, d.Supplier, d.Homepage, d.Tool = hostile, hostile, hostile, "relpack "+hostile
	d.Artifact.Name, d.Artifact.PackageVersion, d.Artifact.Arch, d.Artifact.DistroPurl = hostile, hostile, hostile, hostile
	d.Libraries[0].Name, d.Libraries[0].Version, d.Libraries[0].Soname = hostile, hostile, hostile
	d.Requires = append(d.Requires, Requirement{Raw: hostile, Package: hostile, Constraint: hostile})
	d.Binaries[0].Components = &components.Components{Go: &components.GoBuild{}, List: []components.Component{
		{Ecosystem: components.Golang, Name: hostile, Version: hostile, Purl: "pkg:golang/" + purlEscape(hostile)},
	}}
	for _, w := range writers {
		out, err := w.write(d)
		if err != nil {
			t.Fatalf("%s: %v", w.name, err)
		}
		if bytes.Contains(out, []byte(hostile)) || bytes.ContainsAny(out, "\x00\t") || bytes.Contains(out, []byte("\u2028")) ||
			!bytes.Contains(out, []byte(`evil\" \n\t</script>`)) {
			t.Errorf("%s: the hostile text is not escaped as JSON escapes it", w.name)
		}
		var all []string
		var v any
		if err := json.Unmarshal(out, &v); err != nil {
			t.Fatalf("%s: not JSON: %v", w.name, err)
		}
		collect(v, &all)
		n := 0
		for _, s := range all {
			if strings.Contains(s, hostile) {
				n++
			}
		}
		if n < 5 {
			t.Errorf("%s: the hostile text comes back whole in %d strings, want it in the names it was given as", w.name, n)
		}
		if w.name == "SPDX" {
			readSPDX(t, out)
		} else {
			validateCDX(t, out)
		}
	}
	refused := map[string]func(*Document){
		"file path":         func(d *Document) { d.Files[0].Path = "usr/bin/x\nusr/bin/y" },
		"leaving the tree":  func(d *Document) { d.Files[0].Path = "../../etc/passwd" },
		"absolute path":     func(d *Document) { d.Binaries[0].Path = "/usr/bin/x" },
		"artifact folder":   func(d *Document) { d.Artifact.File = "../x.deb" },
		"artifact newline":  func(d *Document) { d.Artifact.File = "x.deb\n" },
		"upper-case digest": func(d *Document) { d.Artifact.SHA256 = strings.ToUpper(d.Artifact.SHA256) },
		"short digest":      func(d *Document) { d.Files[1].SHA256 = "abc" },
		"bad sha1":          func(d *Document) { d.Files[1].SHA1 = hostile },
		"kind":              func(d *Document) { d.Artifact.Kind = "snap" },
		"no tool":           func(d *Document) { d.Tool = "" },
		"no components":     func(d *Document) { d.Binaries[0].Components = nil },
		"negative time":     func(d *Document) { d.Created = -1 },
	}
	for name, spoil := range refused {
		for _, w := range writers {
			d := realDocument(t, "deb")
			spoil(d)
			out, err := w.write(d)
			if err == nil || out != nil || !strings.Contains(err.Error(), "sbom") {
				t.Errorf("%s of a document with a bad %s: %v, want it refused", w.name, name, err)
			}
		}
	}
}

// collect gathers every string of a decoded JSON value.
func collect(v any, out *[]string) {
	switch v := v.(type) {
	case string:
		*out = append(*out, v)
	case []any:
		for _, e := range v {
			collect(e, out)
		}
	case map[string]any:
		for _, e := range v {
			collect(e, out)
		}
	}
}
