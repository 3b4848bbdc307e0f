package config

import (
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestSBOMFormats: no sbom: section writes both formats; a list picks
// (in the fixed order spdx, cyclonedx, whatever order it is written in);
// an empty list writes none.
func TestSBOMFormats(t *testing.T) {
	for _, tc := range []struct {
		yaml string
		want []string
	}{
		{"", []string{"spdx", "cyclonedx"}},
		{"sbom: {}\n", []string{"spdx", "cyclonedx"}},
		{"sbom: {formats: [cyclonedx]}\n", []string{"cyclonedx"}},
		{"sbom: {formats: [cyclonedx, spdx]}\n", []string{"spdx", "cyclonedx"}},
		{"sbom: {formats: []}\n", nil},
	} {
		c, err := Parse("packaging.yaml", "/cfg", []byte(good+tc.yaml))
		if err != nil {
			t.Fatalf("%q: %v", tc.yaml, err)
		}
		if !slices.Equal(c.SBOM.Formats, tc.want) {
			t.Errorf("%q: formats %v, want %v", tc.yaml, c.SBOM.Formats, tc.want)
		}
	}
}

// TestProvenanceBuilderEnv: builder_id_env is a variable's name, read
// later; absent, no builder id.
func TestProvenanceBuilderEnv(t *testing.T) {
	c, err := Parse("packaging.yaml", "/cfg", []byte(good+"provenance: {builder_id_env: CI_WORKFLOW_URL}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Provenance.BuilderIDEnv != "CI_WORKFLOW_URL" {
		t.Errorf("builder_id_env = %q", c.Provenance.BuilderIDEnv)
	}
	if c, err = Parse("packaging.yaml", "/cfg", []byte(good)); err != nil || c.Provenance.BuilderIDEnv != "" {
		t.Errorf("no provenance section: %+v, %v", c.Provenance, err)
	}
}

// TestSBOMBadValues: each mistake names the file, the line and the fix.
func TestSBOMBadValues(t *testing.T) {
	line := strings.Count(good, "\n") + 1
	for _, tc := range []struct{ yaml, want string }{
		{"sbom: {formats: [spdx, syft]}\n", "sbom.formats: unknown format \"syft\"; use spdx (SPDX 2.3 JSON) and/or cyclonedx"},
		{"sbom:\n  formats: [spdx, spdx]\n", "sbom.formats lists spdx twice"},
		{"sbom: {formats: spdx}\n", "cannot unmarshal"},
		{"sbom: {enabled: false}\n", "unknown field enabled"},
		{"provenance: {builder_id_env: https://ci.example.org/run/1}\n", "provenance.builder_id_env must be the name of an environment variable"},
		{"provenance: {builder_id: x}\n", "unknown field builder_id"},
	} {
		_, err := Parse("packaging.yaml", "/cfg", []byte(good+tc.yaml))
		if err == nil {
			t.Errorf("%q: accepted", tc.yaml)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "packaging.yaml:") {
			t.Errorf("%q: %v\nwant %q", tc.yaml, err, tc.want)
		}
		if strings.Contains(tc.want, "sbom.formats") || strings.Contains(tc.want, "builder_id_env must") {
			want := "packaging.yaml:" + strconv.Itoa(line)
			if tc.yaml == "sbom:\n  formats: [spdx, spdx]\n" {
				want = "packaging.yaml:" + strconv.Itoa(line+1)
			}
			if !strings.HasPrefix(err.Error(), want+":") {
				t.Errorf("%q: %v\nwant it at %s", tc.yaml, err, want)
			}
		}
	}
}
