package manifest

import (
	"slices"
	"strings"
	"testing"
)

const hex64 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// goodSBOMs is a valid release with two SBOMs per artifact and a signed
// provenance statement.
func goodSBOMs() *Manifest {
	return &Manifest{
		Schema: SchemaVersion, Product: "gw", Version: "1.0.0",
		Artifacts: []Artifact{{
			File: "gw.tar.gz", SHA256: hex64, Kind: "tarball", Arch: "x86_64",
			SBOMs: []SBOM{
				{File: "gw.tar.gz.spdx.json", Format: "spdx", SHA256: hex64, Size: 10},
				{File: "gw.tar.gz.cdx.json", Format: "cyclonedx", SHA256: hex64, Size: 10},
			},
		}},
		Signing:    &Signing{Fingerprint: strings.Repeat("A", 40)},
		Provenance: &Provenance{File: "provenance.intoto.json", Signature: "provenance.intoto.json.asc"},
	}
}

func TestValidateSBOMsGood(t *testing.T) {
	if err := goodSBOMs().Validate(); err != nil {
		t.Fatal(err)
	}
	m := goodSBOMs()
	m.Signing, m.Provenance.Signature = nil, ""
	if err := m.Validate(); err != nil {
		t.Fatalf("unsigned: %v", err)
	}
}

// TestValidateSBOMsBad: each bad SBOM or provenance field is named, with
// what it should be.
func TestValidateSBOMsBad(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(m *Manifest)
		field  string
		want   string
	}{
		{"a path", func(m *Manifest) { m.Artifacts[0].SBOMs[0].File = "../gw.tar.gz.spdx.json" }, "artifacts[0].sboms[0].file", "plain file name"},
		{"the wrong suffix", func(m *Manifest) { m.Artifacts[0].SBOMs[1].File = "gw.tar.gz.spdx.json" }, "artifacts[0].sboms[1].file", "gw.tar.gz.cdx.json"},
		{"another artifact's name", func(m *Manifest) { m.Artifacts[0].SBOMs[0].File = "other.spdx.json" }, "artifacts[0].sboms[0].file", "gw.tar.gz.spdx.json"},
		{"an unknown format", func(m *Manifest) { m.Artifacts[0].SBOMs[0].Format = "syft" }, "artifacts[0].sboms[0].format", "spdx, cyclonedx"},
		{"a format twice", func(m *Manifest) { m.Artifacts[0].SBOMs[1] = m.Artifacts[0].SBOMs[0] }, "artifacts[0].sboms[1].format", "listed twice"},
		{"a bad sha256", func(m *Manifest) { m.Artifacts[0].SBOMs[0].SHA256 = strings.ToUpper(hex64) }, "artifacts[0].sboms[0].sha256", "64 lowercase hex"},
		{"a negative size", func(m *Manifest) { m.Artifacts[0].SBOMs[0].Size = -1 }, "artifacts[0].sboms[0].size", "negative"},
		{"another provenance name", func(m *Manifest) { m.Provenance.File = "SHA256SUMS" }, "provenance.file", "provenance.intoto.json"},
		{"a signed release's unsigned provenance", func(m *Manifest) { m.Provenance.Signature = "" }, "provenance.signature", "signs its provenance"},
		{"an unsigned release's signature", func(m *Manifest) { m.Signing = nil }, "provenance.signature", "unsigned release"},
		{"an artifact named as the provenance", func(m *Manifest) { m.Artifacts[0].File = "provenance.intoto.json"; m.Artifacts[0].SBOMs = nil }, "artifacts[0].file", "relpack writes itself"},
	} {
		m := goodSBOMs()
		tc.change(m)
		err := m.Validate()
		ie, ok := err.(*InvalidError)
		if !ok {
			t.Errorf("%s: Validate = %v, want an *InvalidError", tc.name, err)
			continue
		}
		i := slices.IndexFunc(ie.Problems, func(p FieldError) bool { return p.Field == tc.field })
		if i < 0 || !strings.Contains(ie.Problems[i].Error(), tc.want) {
			t.Errorf("%s: %v\nwant %s: ...%s", tc.name, err, tc.field, tc.want)
		}
	}
}
