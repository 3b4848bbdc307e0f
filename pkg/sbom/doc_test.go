package sbom

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"sort"
	"testing"

	"relpack/internal/regular"
	"relpack/pkg/components"
)

// fixture is a committed test binary and where the artifact carries it.
type fixture struct{ src, path string }

const fixtures = "../../testdata/fixtures"

// digests reads a fixture and returns its SHA-256 and SHA-1.
func digests(t *testing.T, src string) (string, string, int64) {
	t.Helper()
	b, err := regular.ReadFile(filepath.Join(fixtures, src), 64<<20, "a test fixture")
	if err != nil {
		t.Fatal(err)
	}
	s2 := sha256.Sum256(b)
	s1 := sha1.Sum(b)
	return hex.EncodeToString(s2[:]), hex.EncodeToString(s1[:]), int64(len(b))
}

// realDocument is the SBOM Document of a deb (kind "deb"), an rpm ("rpm")
// or a tarball ("tarball") of the committed fixtures: a Go binary and a
// cargo-auditable binary whose components pkg/components reads, a C
// binary that records none, and libz3 carried as a private copy.
func realDocument(t *testing.T, kind string) *Document {
	t.Helper()
	bins := []fixture{
		{"components/gocomponents", "usr/bin/gocomponents"},
		{"components/depv0-hello", "usr/libexec/openshell/depv0-hello"},
		{"x86_64/hello-2.28", "usr/bin/hello"},
	}
	lib := fixture{"x86_64/libz3.so.4", "usr/lib/openshell/libz3.so.4"}
	d := &Document{
		Product:       "openshell",
		Version:       "0.1.0",
		License:       "Apache-2.0 OR MIT",
		Homepage:      "https://example.org/openshell",
		Supplier:      "Example Corp <release@example.org>",
		Floor:         "2.28",
		GlibcMeasured: "2.28",
		Created:       1735689600,
		Tool:          "relpack 0.4.0",
	}
	for _, f := range append(bins, lib) {
		s256, s1, size := digests(t, f.src)
		d.Files = append(d.Files, File{Path: f.path, SHA256: s256, Size: size, SHA1: s1})
	}
	for _, f := range bins {
		c, err := components.Read(filepath.Join(fixtures, f.src))
		if err != nil {
			t.Fatal(err)
		}
		s256, _, _ := digests(t, f.src)
		d.Binaries = append(d.Binaries, Binary{Path: f.path, SHA256: s256, Components: c})
	}
	s256, _, _ := digests(t, lib.src)
	d.Libraries = []Library{{Path: lib.path, SHA256: s256, Soname: "libz3.so.4", Name: "libz3", Version: "4.8.12", Role: "private"}}
	sort.Slice(d.Files, func(i, j int) bool { return d.Files[i].Path < d.Files[j].Path })
	sort.Slice(d.Binaries, func(i, j int) bool { return d.Binaries[i].Path < d.Binaries[j].Path })
	switch kind {
	case "deb":
		d.Artifact = Artifact{File: "openshell_0.1.0-1~deb12_amd64.deb", Kind: "deb", Name: "openshell",
			PackageVersion: "0.1.0-1~deb12", Arch: "amd64", Distro: "debian12", DistroPurl: "debian-12"}
		d.Requires = []Requirement{
			{Raw: "libz3-4 (>= 4.8.12)", Package: "libz3-4", Constraint: ">= 4.8.12"},
			{Raw: "libc6 (>= 2.28)", Package: "libc6", Constraint: ">= 2.28"},
			{Raw: "libstdc++6 (>= 12)", Package: "libstdc++6", Constraint: ">= 12"},
		}
	case "rpm":
		d.Artifact = Artifact{File: "openshell-0.1.0-1.el9.x86_64.rpm", Kind: "rpm", Name: "openshell",
			PackageVersion: "1:0.1.0-1.el9", Arch: "x86_64", Distro: "el9", DistroPurl: "el-9"}
		d.Requires = []Requirement{
			{Raw: "libc.so.6(GLIBC_2.28)(64bit)", Package: "libc.so.6(GLIBC_2.28)(64bit)"},
			{Raw: "libz3 >= 4.8.12", Package: "libz3", Constraint: ">= 4.8.12"},
		}
	default:
		d.Artifact = Artifact{File: "openshell-0.1.0-x86_64-unknown-linux-gnu.tar.gz", Kind: "tarball", Arch: "x86_64-unknown-linux-gnu"}
		d.Libraries[0].Role = "sidecar"
	}
	sum := sha256.Sum256([]byte("the bytes of " + d.Artifact.File))
	d.Artifact.SHA256 = hex.EncodeToString(sum[:])
	d.Artifact.Size = 123456
	return d
}

var kinds = []string{"deb", "rpm", "tarball"}
