package sbom

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// TestReadSubject: both formats read back to the artifact they describe.
func TestReadSubject(t *testing.T) {
	for _, w := range writers {
		for _, kind := range kinds {
			d := realDocument(t, kind)
			out, err := w.write(d)
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{d.Artifact.File + w.suffix, "dist/" + d.Artifact.File + w.suffix} {
				file, sum, err := ReadSubject(name, out)
				if err != nil || file != d.Artifact.File || sum != d.Artifact.SHA256 {
					t.Errorf("%s %s: ReadSubject(%s) = %q, %q, %v", w.name, kind, name, file, sum, err)
				}
			}
		}
	}
}

// TestReadSubjectRefuses: an SBOM that is not relpack's, not of its
// artifact, tampered with past reading, or too large, is an error naming
// the file; a changed digest is read as written, for verify-release to
// compare with the artifact.
func TestReadSubjectRefuses(t *testing.T) {
	d := realDocument(t, "deb")
	spdxOut, err := SPDX(d)
	if err != nil {
		t.Fatal(err)
	}
	cdxOut, err := CycloneDX(d)
	if err != nil {
		t.Fatal(err)
	}
	name := map[string]string{"spdx": d.Artifact.File + SPDXSuffix, "cdx": d.Artifact.File + CycloneDXSuffix}
	out := map[string][]byte{"spdx": spdxOut, "cdx": cdxOut}
	sum := d.Artifact.SHA256
	other := strings.Repeat("ab", 32)

	// a digest changed in the document is read as written
	for f := range out {
		tampered := bytes.ReplaceAll(out[f], []byte(sum), []byte(other))
		if _, got, err := ReadSubject(name[f], tampered); err != nil || got != other {
			t.Errorf("%s with another digest: %q, %v", f, got, err)
		}
	}

	cases := []struct {
		what, format, name string
		b                  []byte
		want               string
	}{
		{"another artifact's name", "spdx", "other.deb" + SPDXSuffix, spdxOut, "describes " + d.Artifact.File + ", not other.deb"},
		{"another artifact's name", "cdx", "other.deb" + CycloneDXSuffix, cdxOut, "describes " + d.Artifact.File + ", not other.deb"},
		{"CycloneDX named as SPDX", "", name["spdx"], cdxOut, "not an SPDX 2.3 document"},
		{"SPDX named as CycloneDX", "", name["cdx"], spdxOut, "not a CycloneDX 1.6 document"},
		{"another suffix", "", d.Artifact.File + ".json", spdxOut, "not an SBOM relpack writes"},
		{"trailing data", "", name["spdx"], append(append([]byte{}, spdxOut...), "{}"...), "more after the JSON document"},
		{"not JSON", "", name["cdx"], []byte("<bom/>"), "not JSON"},
		{"a digest that is none", "", name["spdx"], bytes.ReplaceAll(spdxOut, []byte(sum), []byte(strings.ToUpper(sum))), "not 64 lower-case hex digits"},
		{"no digest", "", name["cdx"], bytes.ReplaceAll(cdxOut, []byte(`"SHA-256"`), []byte(`"SHA-512"`)), "no SHA-256 hash"},
		{"two described", "", name["spdx"], describeAlso(t, spdxOut, "SPDXRef-Other"), "describes 2 elements"},
		{"no artifact property", "", name["cdx"], bytes.ReplaceAll(cdxOut, []byte(`"relpack:file"`), []byte(`"relpack:fil"`)), "no relpack:file property"},
		{"an artifact name with a folder", "", "x" + CycloneDXSuffix, bytes.ReplaceAll(cdxOut, []byte(`"value": "`+d.Artifact.File+`"`), []byte(`"value": "../x"`)), "not the name of a file in the release"},
		{"too large", "", name["spdx"], make([]byte, MaxSize+1), "more than the 64 MiB"},
	}
	for _, c := range cases {
		file, got, err := ReadSubject(c.name, c.b)
		if err == nil || !strings.HasPrefix(err.Error(), c.name+": ") || !strings.Contains(err.Error(), c.want) || file != "" || got != "" {
			t.Errorf("%s: ReadSubject = %q, %q, %v; want an error naming %s and saying %q", c.what, file, got, err, c.name, c.want)
		}
	}
}

// describeAlso adds a second DESCRIBES relationship to an SPDX document.
func describeAlso(t *testing.T, b []byte, id string) []byte {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	doc["relationships"] = append(doc["relationships"].([]any), map[string]any{
		"spdxElementId": "SPDXRef-DOCUMENT", "relatedSpdxElement": id, "relationshipType": "DESCRIBES",
	})
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
