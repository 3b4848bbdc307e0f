package releaseverify

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"

	"relpack/pkg/manifest"
	"relpack/pkg/pack"
	"relpack/pkg/sign"
)

// The product, version and names of the packages the tests check.
const (
	testProduct = "demo"
	testDebName = "demo_1.0-1_amd64.deb"
	testRPMName = "demo-1.0-1.x86_64.rpm"
	demoKeyFile = "../../testdata/demo/demo-signing-key.asc"
)

// testArtifact is the manifest entry a package of kind ("deb", "rpm") is
// held to; it matches the packages testPackage builds.
func testArtifact(kind string) *manifest.Artifact {
	a := &manifest.Artifact{Kind: kind, Arch: "x86_64", PackageVersion: "1.0-1", Distro: "test", Relations: []string{"libc6"}}
	a.File = testDebName
	if kind == "rpm" {
		a.File, a.Relations = testRPMName, []string{"glibc"}
	}
	return a
}

// testKey is the demo signing key (its private part is public; tests
// only), loaded once, and the keyring that checks its signatures.
var testKey = sync.OnceValues(func() (*sign.Key, openpgp.EntityList) {
	k, err := sign.LoadKey(demoKeyFile)
	if err != nil {
		panic(err)
	}
	b, err := os.ReadFile(demoKeyFile)
	if err != nil {
		panic(err)
	}
	kr, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(b[bytes.Index(b, []byte("-----BEGIN")):]))
	if err != nil {
		panic(err)
	}
	return k, kr
})

// newTestVerifier is a verifier of a release of testProduct in dir, as
// run() leaves it before the artifacts are checked; signed: the manifest
// records the demo key and the keyring holds it.
func newTestVerifier(dir string, signed bool) *verifier {
	v := &verifier{o: Options{Dir: dir}, ctx: context.Background(), r: &Report{Dir: dir, Trust: TrustNone}, m: &manifest.Manifest{Product: testProduct, Version: "1.0"}}
	if signed {
		k, kr := testKey()
		v.m.Signing = &manifest.Signing{Fingerprint: k.Fingerprint, KeyID: k.KeyID}
		v.keyring, v.r.Trust = kr, TrustKey
	}
	return v
}

// checkBytes writes data as a's file in a fresh folder and runs the
// package check on it, as checkArtifact does once the sha256 matched.
func checkBytes(t testing.TB, dir string, a *manifest.Artifact, signed bool, data []byte) ([]Problem, error) {
	t.Helper()
	p := filepath.Join(dir, a.File)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return checkFile(t, dir, a, signed)
}

// checkFile runs the package check on dir/a.File.
func checkFile(t testing.TB, dir string, a *manifest.Artifact, signed bool) ([]Problem, error) {
	t.Helper()
	v := newTestVerifier(dir, signed)
	f, size, err := v.openNoFollow(a.File)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, err = v.checkPackage(a, f, size)
	return v.r.Problems, err
}

// arEntry is one member of a crafted ar archive; size, when not "", is
// written into the header instead of len(data).
type arEntry struct {
	name string
	data []byte
	size string
}

// arFile is an ar archive (a deb) of members.
func arFile(members ...arEntry) []byte {
	var b bytes.Buffer
	b.WriteString("!<arch>\n")
	for _, m := range members {
		size := m.size
		if size == "" {
			size = fmt.Sprint(len(m.data))
		}
		fmt.Fprintf(&b, "%-16s%-12s%-6s%-6s%-8s%-10s`\n", m.name, "0", "0", "0", "100644", size)
		b.Write(m.data)
		if len(m.data)%2 == 1 {
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

// tarEntry is one member of a crafted tar; size, when not 0, is the
// header's size (the body is still data).
type tarEntry struct {
	name string
	typ  byte
	data string
}

func tarFile(t testing.TB, entries ...tarEntry) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, e := range entries {
		typ := e.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		h := &tar.Header{Name: e.name, Typeflag: typ, Mode: 0o644, Size: int64(len(e.data)), Format: tar.FormatGNU}
		if typ != tar.TypeReg {
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.data)); err != nil && typ == tar.TypeReg {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func gzipped(t testing.TB, b []byte) []byte {
	t.Helper()
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return z.Bytes()
}

// goodControl is the control file of testArtifact("deb").
const goodControl = "Package: demo\nVersion: 1.0-1\nSection: misc\nPriority: optional\nArchitecture: amd64\nMaintainer: Relpack Tests <t@example.com>\nInstalled-Size: 1\nDepends: libc6\nDescription: demo\n a demo\n"

// craftedDeb is a deb of debian-binary, control.tar.gz holding control
// and the given data member.
func craftedDeb(t testing.TB, control string, dataName string, data []byte) []byte {
	t.Helper()
	ctl := gzipped(t, tarFile(t, tarEntry{name: "./control", data: control}))
	return arFile(arEntry{name: "debian-binary", data: []byte("2.0\n")}, arEntry{name: "control.tar.gz", data: ctl}, arEntry{name: dataName, data: data})
}

// testPackage builds testArtifact(format)'s package with relpack's own
// writer (pkg/pack), compressed with compression, signed with the demo key
// when signed.
func testPackage(t testing.TB, format, compression string, signed bool, extra ...pack.PackageFile) []byte {
	t.Helper()
	spec := pack.PackageSpec{
		Format: format, Name: testProduct, Arch: "amd64", Version: "1.0", Release: "1",
		Maintainer: "Relpack Tests <t@example.com>", Summary: "demo", Description: "A demo package for the verifier's tests.",
		Compression: compression, MTime: time.Unix(1700000000, 0).UTC(), TempDir: t.TempDir(),
		Files: []pack.PackageFile{
			{Data: []byte("#!/bin/sh\necho demo\n"), Dst: "/usr/bin/demo", Mode: 0o755},
			{Data: []byte("listen: 1\n"), Dst: "/etc/demo/config.yaml", Mode: 0o644, Config: true},
		},
	}
	spec.Files = append(spec.Files, extra...)
	spec.Depends = []string{"libc6"}
	if format == "rpm" {
		spec.Depends = []string{"glibc"}
	}
	if signed {
		spec.Signing, _ = testKey()
	}
	out := t.TempDir()
	p, err := pack.WritePackage(spec, out)
	if err != nil {
		t.Fatal(err)
	}
	if want := testArtifact(format).File; filepath.Base(p) != want {
		t.Fatalf("pack wrote %s, want %s", filepath.Base(p), want)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// problemsText joins problems for messages.
func problemsText(ps []Problem) string {
	var s []string
	for _, p := range ps {
		s = append(s, p.String())
	}
	return strings.Join(s, "\n")
}
