package release

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"relpack/internal/pipeline"
	"relpack/internal/sbomtest"
	"relpack/pkg/components"
	"relpack/pkg/config"
	"relpack/pkg/manifest"
	"relpack/pkg/provenance"
	"relpack/pkg/sbom"
)

func fileSHA(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestSBOMNamesAgree: pkg/manifest repeats the SBOM and provenance file
// names (it imports none of the writers); they must be the writers'.
func TestSBOMNamesAgree(t *testing.T) {
	if manifest.SBOMSuffix[manifest.SBOMSPDX] != sbom.SPDXSuffix || manifest.SBOMSuffix[manifest.SBOMCycloneDX] != sbom.CycloneDXSuffix ||
		manifest.ProvenanceFile != provenance.FileName || manifest.SBOMSPDX != config.SBOMSPDX || manifest.SBOMCycloneDX != config.SBOMCycloneDX {
		t.Errorf("manifest %v %q, sbom %q %q, provenance %q", manifest.SBOMSuffix, manifest.ProvenanceFile, sbom.SPDXSuffix, sbom.CycloneDXSuffix, provenance.FileName)
	}
}

// TestDemoSBOMsAndProvenance: every artifact of the demo has both SBOMs
// beside it, each describing it (by the writers' own reader), and the
// provenance statement names exactly the artifacts and SBOMs, the inputs
// as packaging.yaml names them and the configuration.
func TestDemoSBOMsAndProvenance(t *testing.T) {
	dist := demoDist(t)
	m, err := manifest.ReadValid(filepath.Join(dist, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Provenance == nil || *m.Provenance != (manifest.Provenance{File: "provenance.intoto.json"}) {
		t.Errorf("manifest provenance %+v, want the unsigned statement", m.Provenance)
	}
	var subjects []provenance.Subject
	for _, a := range m.Artifacts {
		subjects = append(subjects, provenance.Subject{Name: a.File, SHA256: a.SHA256})
		if len(a.SBOMs) != 2 || a.SBOMs[0].Format != "spdx" || a.SBOMs[1].Format != "cyclonedx" {
			t.Errorf("%s: SBOMs %+v", a.File, a.SBOMs)
		}
		for _, s := range a.SBOMs {
			b, err := os.ReadFile(filepath.Join(dist, s.File))
			if err != nil {
				t.Fatal(err)
			}
			if fileSHA(t, filepath.Join(dist, s.File)) != s.SHA256 || int64(len(b)) != s.Size {
				t.Errorf("%s: the manifest's sha256 or size is not the file's", s.File)
			}
			file, sum, err := sbom.ReadSubject(s.File, b)
			if err != nil || file != a.File || sum != a.SHA256 {
				t.Errorf("%s describes %s %s (%v), want %s %s", s.File, file, sum, err, a.File, a.SHA256)
			}
			validateSBOM(t, s, b)
			subjects = append(subjects, provenance.Subject{Name: s.File, SHA256: s.SHA256})
		}
	}
	sort.Slice(subjects, func(i, k int) bool { return subjects[i].Name < subjects[k].Name })
	b, err := os.ReadFile(filepath.Join(dist, provenance.FileName))
	if err != nil {
		t.Fatal(err)
	}
	st, err := provenance.Read(b)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(st.Subjects, subjects) {
		t.Errorf("subjects\n%v\nwant\n%v", st.Subjects, subjects)
	}
	r := st.Release
	if r.Product != m.Product || r.Version != m.Version || r.ConfigDigest != m.ConfigDigest || len(r.Selectors) != 0 || r.BuilderID != "" ||
		r.ConfigFile != demoConfig || r.ConfigSHA256 != fileSHA(t, demoConfig) {
		t.Errorf("statement: %+v", r)
	}
	want := []provenance.Input{
		{Path: "../fixtures/demo/x86_64-unknown-linux-gnu/openshell-gateway", Role: "input", Triple: "x86_64-unknown-linux-gnu"},
		{Path: "../fixtures/x86_64/libz3.so.4", Role: "library"},
		{Path: "../fixtures/x86_64/libz3.so.4.8", Role: "library"},
		{Path: "../fixtures/demo/LICENSE", Role: "license"},
		{Path: "../fixtures/demo/README.md", Role: "file"},
	}
	for _, w := range want {
		i := slices.IndexFunc(r.Inputs, func(in provenance.Input) bool { return in.Path == w.Path })
		if i < 0 || r.Inputs[i].Role != w.Role || r.Inputs[i].Triple != w.Triple ||
			r.Inputs[i].SHA256 != fileSHA(t, filepath.Join(filepath.Dir(demoConfig), w.Path)) {
			t.Errorf("inputs lack %+v:\n%+v", w, r.Inputs)
		}
	}
}

// TestSBOMDocuments looks at the Documents the demo's SBOMs are written
// from: a tarball's files and their sha256 are those the tarball holds;
// the carried libraries, the relations and the distro qualifier are
// recorded.
func TestSBOMDocuments(t *testing.T) {
	out := t.TempDir()
	docs := map[string]*sbom.Document{}
	var stages []pipeline.Stage[*job]
	for _, s := range buildStages {
		stages = append(stages, s)
		if s.Name == "write SBOMs" {
			stages = append(stages, pipeline.Stage[*job]{Name: "look", Run: func(j *job) error {
				h := &sbomHashes{sums: map[string]fileSum{}, components: map[string]*components.Components{}}
				for _, a := range j.plan {
					d, err := j.sbomDocument(a, h)
					if err != nil {
						return err
					}
					docs[a.entry.File] = d
				}
				return nil
			}})
		}
	}
	if _, err := runStages(Options{Config: loadDemo(t), Version: demoVer, OutDir: out, Epoch: DefaultEpoch, Tool: manifest.Tool{Name: "relpack", Version: "9.9.9", Go: "go1.26.0"}}, stages); err != nil {
		t.Fatal(err)
	}
	sidecar := docs["openshell-gateway-x86_64-unknown-linux-gnu-z3.tar.gz"]
	if sidecar == nil {
		t.Fatalf("no sidecar tarball among %d documents", len(docs))
	}
	held := tarSums(t, filepath.Join(out, sidecar.Artifact.File))
	var got []string
	for _, f := range sidecar.Files {
		got = append(got, f.Path+" "+f.SHA256)
	}
	if !slices.Equal(got, held) {
		t.Errorf("the sidecar tarball's SBOM files\n%q\nthe tarball holds\n%q", got, held)
	}
	lib := sbom.Library{Path: "lib/libz3.so.4", SHA256: fileSHA(t, "../../testdata/fixtures/x86_64/libz3.so.4"), Soname: "libz3.so.4", Name: "libz3", Version: "4", Role: "sidecar"}
	if len(sidecar.Libraries) != 1 || sidecar.Libraries[0] != lib || len(sidecar.Binaries) != 1 || sidecar.Binaries[0].Path != "bin/openshell-gateway" ||
		sidecar.Binaries[0].Components == nil || sidecar.Tool != "relpack 9.9.9" || sidecar.Created != DefaultEpoch || sidecar.Floor != "2.28" {
		t.Errorf("sidecar document: %+v", sidecar)
	}
	var deb, el8 *sbom.Document
	for name, d := range docs {
		switch {
		case strings.HasSuffix(name, "~deb12_amd64.deb"):
			deb = d
		case strings.HasSuffix(name, ".el8.x86_64.rpm") && !strings.Contains(name, "-debuginfo-"):
			el8 = d
		}
	}
	if deb == nil || el8 == nil {
		t.Fatal("no debian12 deb or el8 rpm")
	}
	if deb.Artifact.Arch != "amd64" || deb.Artifact.Distro != "debian12" || deb.Artifact.DistroPurl != "debian-12" || deb.Artifact.PackageVersion == "" {
		t.Errorf("deb artifact %+v", deb.Artifact)
	}
	i := slices.IndexFunc(deb.Requires, func(r sbom.Requirement) bool { return r.Package == "libc6" })
	if i < 0 || !strings.HasPrefix(deb.Requires[i].Constraint, ">= ") || deb.Requires[i].Raw != "libc6 ("+deb.Requires[i].Constraint+")" {
		t.Errorf("deb requirements %+v", deb.Requires)
	}
	if len(el8.Libraries) != 1 || el8.Libraries[0].Role != "private" || el8.Libraries[0].Path != "usr/lib/openshell-gateway/libz3.so.4.8" ||
		el8.Libraries[0].Version != "4.8" || el8.Artifact.DistroPurl != "el-8" || el8.Artifact.Arch != "x86_64" {
		t.Errorf("el8 document: %+v %+v", el8.Artifact, el8.Libraries)
	}
	if !slices.ContainsFunc(el8.Files, func(f sbom.File) bool {
		return f.Path == "usr/lib/openshell-gateway/libz3.so.4.8" && f.SHA256 == el8.Libraries[0].SHA256
	}) {
		t.Errorf("el8 files lack its private library: %+v", el8.Files)
	}
}

// tarSums lists "PATH SHA256" of every regular file in a .tar.gz, sorted.
func tarSums(t *testing.T, p string) []string {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(z)
	var out []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		s := sha256.New()
		io.Copy(s, tr)
		out = append(out, h.Name+" "+hex.EncodeToString(s.Sum(nil)))
	}
	sort.Strings(out)
	return out
}

// TestPartialWithoutSBOMs: sbom.formats [] writes none; the statement of
// a partial build records its selectors and the builder id the
// configuration names, and a builder id variable that is not set stops
// the build before anything is written.
func TestPartialWithoutSBOMs(t *testing.T) {
	cfg := loadDemo(t)
	cfg.SBOM.Formats = nil
	cfg.DebugSymbols = nil // one artifact: the tarball, without its debug tarball
	cfg.Provenance.BuilderIDEnv = "RELPACK_TEST_BUILDER"
	out := filepath.Join(t.TempDir(), "dist")
	opts := Options{Config: cfg, Version: demoVer, OutDir: out, Epoch: DefaultEpoch, Only: []string{"x86_64-unknown-linux-musl"}}
	t.Setenv("RELPACK_TEST_BUILDER", "")
	if _, err := Run(opts); err == nil || !strings.Contains(err.Error(), "provenance.builder_id_env names RELPACK_TEST_BUILDER, which is not set or empty") {
		t.Fatalf("an unset builder id: %v", err)
	}
	if _, err := os.Lstat(out); err == nil {
		t.Errorf("the refused build created %s", out)
	}
	t.Setenv("RELPACK_TEST_BUILDER", "https://ci.example.org/runs/1")
	m, err := Run(opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Artifacts) != 1 || len(m.Artifacts[0].SBOMs) != 0 || len(filesIn(t, out, "*.json")) != 2 { // manifest.json, provenance.intoto.json
		t.Errorf("artifacts %+v, json files %q", m.Artifacts, filesIn(t, out, "*.json"))
	}
	b, err := os.ReadFile(filepath.Join(out, provenance.FileName))
	if err != nil {
		t.Fatal(err)
	}
	st, err := provenance.Read(b)
	if err != nil {
		t.Fatal(err)
	}
	if st.Release.BuilderID != "https://ci.example.org/runs/1" || !slices.Equal(st.Release.Selectors, []string{"x86_64-unknown-linux-musl"}) ||
		len(st.Subjects) != 1 || st.Subjects[0] != (provenance.Subject{Name: m.Artifacts[0].File, SHA256: m.Artifacts[0].SHA256}) {
		t.Errorf("statement %+v", st)
	}
}

// validateSBOM holds an SBOM a real build wrote to the independent
// validators: spdx/tools-golang's reader and validator, the official
// CycloneDX 1.6 JSON schema (internal/sbomtest).
func validateSBOM(t *testing.T, s manifest.SBOM, b []byte) {
	t.Helper()
	var err error
	switch s.Format {
	case "spdx":
		_, err = sbomtest.SPDX(b)
	case "cyclonedx":
		err = sbomtest.CycloneDX(t, b)
	default:
		err = fmt.Errorf("unknown format %q", s.Format)
	}
	if err != nil {
		t.Errorf("%s: %v", s.File, err)
	}
}
