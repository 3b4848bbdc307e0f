package config

import (
	"fmt"
	"slices"
)

// The SBOM formats a build can write (docs/config.md, "SBOMs and
// provenance"), in the order a build writes them.
const (
	SBOMSPDX      = "spdx"
	SBOMCycloneDX = "cyclonedx"
)

// DefaultSBOMFormats are written when packaging.yaml has no sbom: section:
// both, since their readers differ (SPDX: GitHub's dependency graph and
// licence tooling; CycloneDX: Dependency-Track and vulnerability scanners).
var DefaultSBOMFormats = []string{SBOMSPDX, SBOMCycloneDX}

// SBOM says which SBOM formats a build writes for every artifact.
type SBOM struct {
	// Formats are SBOMSPDX and/or SBOMCycloneDX, without repeats, in
	// that order; empty: no SBOMs.
	Formats []string
}

// Provenance says what the release's provenance statement records beyond
// what the build knows.
type Provenance struct {
	// BuilderIDEnv names the environment variable holding the builder's
	// identity (e.g. the CI workflow run's URL); "" records none.
	BuilderIDEnv string
}

type rawSBOM struct {
	SBOM       *rawSBOMSection       `yaml:"sbom"`
	Provenance *rawProvenanceSection `yaml:"provenance"`
}

type rawSBOMSection struct {
	// Formats is a pointer so that `formats: []` (no SBOMs) differs from
	// no formats key (the default).
	Formats *[]string `yaml:"formats"`
}

type rawProvenanceSection struct {
	BuilderIDEnv string `yaml:"builder_id_env"`
}

// sbom loads sbom: (formats) and provenance: (builder_id_env). It adds
// Config.SBOM (the default formats when the section or its formats key is
// absent) and Config.Provenance.
func (l *loader) sbom() {
	l.c.SBOM = SBOM{Formats: slices.Clone(DefaultSBOMFormats)}
	if s := l.r.SBOM; s != nil && s.Formats != nil {
		l.c.SBOM.Formats = nil
		seen := map[string]bool{}
		for i, f := range *s.Formats {
			key := fmt.Sprintf("sbom.formats[%d]", i)
			switch {
			case f != SBOMSPDX && f != SBOMCycloneDX:
				l.fail(key, "sbom.formats: unknown format %q; use spdx (SPDX 2.3 JSON) and/or cyclonedx (CycloneDX 1.6 JSON), or an empty list for no SBOMs", f)
			case seen[f]:
				l.fail(key, "sbom.formats lists %s twice; list each format once", f)
			}
			seen[f] = true
		}
		// The order written is fixed, whatever order the file lists them in.
		for _, f := range DefaultSBOMFormats {
			if seen[f] {
				l.c.SBOM.Formats = append(l.c.SBOM.Formats, f)
			}
		}
	}
	if p := l.r.Provenance; p != nil && p.BuilderIDEnv != "" {
		if !envNameRE.MatchString(p.BuilderIDEnv) {
			l.fail("provenance.builder_id_env", "provenance.builder_id_env must be the name of an environment variable (letters, digits, _), e.g. GITHUB_WORKFLOW_REF; its value is the builder id, not this key")
			return
		}
		l.c.Provenance.BuilderIDEnv = p.BuilderIDEnv
	}
}
